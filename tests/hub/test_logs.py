"""Structured logs: one JSON object per line, with the `extra` fields as keys."""

from __future__ import annotations

import json
import logging

from hub.logs import JsonFormatter, TextFormatter


def record(**extra: object) -> logging.LogRecord:
    made = logging.LogRecord(
        "frontdesk.hub", logging.WARNING, __file__, 1, "turn failed", None, None
    )
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_json_lines_carry_level_logger_message_and_extras() -> None:
    line = JsonFormatter().format(record(conversation_id="con_1", seq=7))
    entry = json.loads(line)
    assert "\n" not in line
    assert (entry["level"], entry["logger"], entry["msg"]) == (
        "WARNING",
        "frontdesk.hub",
        "turn failed",
    )
    assert (entry["conversation_id"], entry["seq"]) == ("con_1", 7)
    assert entry["ts"].endswith("Z")


def test_exceptions_stay_inside_the_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failing = record()
        failing.exc_info = sys.exc_info()
    line = JsonFormatter().format(failing)
    assert "\n" not in line and "ValueError: boom" in json.loads(line)["exc"]


def test_text_format_for_people() -> None:
    assert TextFormatter().format(record(channel="api")) == (
        "WARNING frontdesk.hub: turn failed [channel=api]"
    )
