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


def test_configured_secrets_are_redacted_from_every_part_of_a_record() -> None:
    from hub.logs import Redactor, secrets_in

    env = {
        "FRONTDESK_TELEGRAM_TOKEN": "987:secret-bot-token",
        "FRONTDESK_SMTP_RELAY_PASSWORD": "hunter2-relay",
        "FRONTDESK_LOG_FORMAT": "json",  # not a secret
    }
    redactor = Redactor()
    redactor.add(*secrets_in(env), "abc")  # too short to be one: left alone
    try:
        raise RuntimeError("GET https://api.telegram.org/bot987:secret-bot-token/getMe failed")
    except RuntimeError:
        import sys

        made = logging.LogRecord(
            "httpx",
            logging.INFO,
            __file__,
            1,
            "HTTP Request: %s %s",
            ("POST", "https://api.telegram.org/bot987%3Asecret-bot-token/sendMessage"),
            sys.exc_info(),
        )
    made.url = "redis://frontdesk:hunter2-relay@127.0.0.1:6379/0"
    made.nested = {"auth": ["hunter2-relay"], "n": 3, "label": "abc"}
    assert redactor.filter(made)
    line = JsonFormatter().format(made)
    entry = json.loads(line)
    assert entry["msg"] == "HTTP Request: POST https://api.telegram.org/bot[redacted]/sendMessage"
    assert entry["url"] == "redis://frontdesk:[redacted]@127.0.0.1:6379/0"
    assert entry["nested"] == {"auth": ["[redacted]"], "n": 3, "label": "abc"}
    assert "bot[redacted]/getMe" in entry["exc"]
    for secret in ("secret-bot-token", "hunter2-relay"):
        assert secret not in line and secret not in TextFormatter().format(made)
