"""Hot reload of a running engine, and the `frontdesk dialogs check|test|try` commands."""

from __future__ import annotations

import asyncio
import io
import logging
import shutil
from pathlib import Path

import pytest

from dialogs import cli_run
from dialogs.engine import DialogEngine
from hub import cli as hub_cli
from tests.cancels import SwallowsFirstCancel, stops
from tests.dialogs.talk import DEMO_DIALOGS, Chat, demo_engine, write_bot

RELOAD_DEADLINE = 20.0  # generous: polling is every 0.4 s; the machine may be busy


async def wait_until(predicate, *, timeout: float = RELOAD_DEADLINE) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DEMO_DIALOGS, tmp_path / "dialogs"))


async def test_an_edit_is_reloaded_and_conversations_go_on(demo_copy: Path) -> None:
    engine = DialogEngine.from_path(demo_copy)
    await engine.start()
    try:
        chat = Chat(engine)
        await chat.say("my phone won't turn on")
        hours = demo_copy / "smalltalk.yml"
        hours.write_text(
            hours.read_text(encoding="utf-8").replace("10:00–21:00", "08:00–22:00"),
            encoding="utf-8",
        )
        await wait_until(lambda: engine.reloads == 1)
        # the troubleshooting flow survived the reload, and the new text is live
        result = await chat.say("what are your opening hours")
        assert "08:00–22:00" in Chat.texts(result)[0]
        assert chat.state["flow"] == "power_troubleshooting"
    finally:
        await engine.stop()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_version_names_the_files_and_follow_reloads_without_announcing(
    demo_copy: Path, tmp_path: Path, language: str
) -> None:
    """Two engines on copies of the same files serve the same version; an edit seen by
    one's watcher is announced, and the other follows it at once without announcing."""
    other_copy = Path(shutil.copytree(demo_copy, tmp_path / "other"))
    leader, follower = DialogEngine.from_path(demo_copy), DialogEngine.from_path(other_copy)
    assert leader.version == follower.version != ""
    announced: list[str] = []
    followed: list[str] = []
    leader.on_reloaded(announced.append)
    follower.on_reloaded(followed.append)
    old = leader.version
    new_hours = {"en": "08:00–22:00", "zh": "八点到二十二点"}[language]
    for copy in (demo_copy, other_copy):
        hours = copy / "smalltalk.yml"
        hours.write_text(
            hours.read_text(encoding="utf-8").replace("10:00–21:00", new_hours), encoding="utf-8"
        )
    await leader.start()
    try:
        await wait_until(lambda: bool(announced))
    finally:
        await leader.stop()
    assert announced == [leader.version] and leader.version != old
    assert await follower.follow(leader.version)
    assert follower.version == leader.version and followed == []
    question = {"en": "what are your opening hours", "zh": "你们几点开门"}[language]
    result = await Chat(follower).say(question)
    assert new_hours in Chat.texts(result)[0]
    # A version whose files are not here: the follower keeps what it serves.
    assert not await follower.follow("0" * 16)
    assert follower.version == leader.version


async def test_an_invalid_edit_keeps_the_old_bot_and_logs_file_line(
    demo_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = DialogEngine.from_path(demo_copy)
    old_bot = engine.bot
    await engine.start()
    try:
        people = demo_copy / "people.yml"
        people.write_text(
            people.read_text(encoding="utf-8").replace(
                "reason: complaint", "reason: complaint\n          priority: P7", 1
            ),
            encoding="utf-8",
        )
        with caplog.at_level(logging.ERROR, logger="frontdesk.dialogs"):
            await wait_until(lambda: any("reload rejected" in r.message for r in caplog.records))
        rejected = [r.getMessage() for r in caplog.records if "reload rejected" in r.getMessage()]
        assert any(f"{people}:" in message and "priority" in message for message in rejected)
        assert engine.bot is old_bot and engine.reloads == 0
        result = await Chat(engine).say("I want to make a complaint")
        assert Chat.event(result, "handoff.requested") is not None
    finally:
        await engine.stop()


@pytest.mark.parametrize("new_hours", ["08:00–22:00", "八点到二十二点"])
async def test_a_reload_that_swallows_the_cancel_does_not_hang_stop(
    demo_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    new_hours: str,
) -> None:
    """A reload announces on the bus (Redis), where a cancel can be swallowed on Python
    3.11: the watcher must stop anyway, on its flag, within its bound."""
    engine = DialogEngine.from_path(demo_copy)
    engine.reload_interval = 0.05
    reload = SwallowsFirstCancel()  # a bus that does not answer
    monkeypatch.setattr(engine, "_on_change", reload)
    await engine.start()
    hours = demo_copy / "smalltalk.yml"
    hours.write_text(
        hours.read_text(encoding="utf-8").replace("10:00–21:00", new_hours), encoding="utf-8"
    )
    await asyncio.wait_for(reload.busy.wait(), RELOAD_DEADLINE)
    await stops(engine.stop(), "DialogEngine.stop()")
    assert reload.rounds == 1
    assert not [r for r in caplog.records if r.message == "background work did not stop"]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Through `frontdesk`'s own parser, as `hub/cli.py` wires it."""
    code = hub_cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_check_ok_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["dialogs", "check", str(DEMO_DIALOGS)], capsys)
    assert code == 0 and "OK" in out and "flows" in out
    broken = write_bot(
        tmp_path,
        bot="intents:\n  a: [one]\n  b: [two]\nflows:\n  f:\n    intent: a\n    steps:\n      - ask: nope\n        prompt: x\n",
    )
    code, _, err = run_cli(["dialogs", "check", str(broken)], capsys)
    assert code == 2
    assert f"{broken / 'bot.yml'}:8: ask: unknown slot 'nope'" in err
    assert f"{broken / 'bot.yml'}:3: intent 'b' has no FAQ answer and starts no flow" in err


def test_the_demo_conversation_tests_pass(
    capsys: pytest.CaptureFixture[str], action_server
) -> None:
    code, out, _ = run_cli(
        ["dialogs", "test", str(DEMO_DIALOGS), "--action-endpoint", action_server.url], capsys
    )
    assert code == 0, out
    assert " 0 failed" in out and "FAIL " not in out


def test_dialogs_test_uses_the_configured_action_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], action_server
) -> None:
    config = tmp_path / "frontdesk.yaml"
    config.write_text(f"bot:\n  action_endpoint: {action_server.url}\n", encoding="utf-8")
    code, out, _ = run_cli(["dialogs", "test", str(DEMO_DIALOGS), "--config", str(config)], capsys)
    assert code == 0, out
    assert " 0 failed" in out
    # The flag wins over the file.
    config.write_text("bot:\n  action_endpoint: http://127.0.0.1:9/webhook\n", encoding="utf-8")
    code, out, _ = run_cli(
        [
            "dialogs",
            "test",
            str(DEMO_DIALOGS),
            "--config",
            str(config),
            "--action-endpoint",
            action_server.url,
        ],
        capsys,
    )
    assert code == 0, out
    code, _, err = run_cli(
        ["dialogs", "test", str(DEMO_DIALOGS), "--config", str(tmp_path / "missing.yaml")],
        capsys,
    )
    assert code == 2 and "missing.yaml: no such config file" in err


def test_a_failing_conversation_test_exits_1_with_a_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tests = tmp_path / "wrong.yml"
    tests.write_text(
        "tests:\n  - name: wrong greeting\n    steps:\n      - user: hello\n        bot: Bonjour\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(["dialogs", "test", str(DEMO_DIALOGS), "--tests", str(tests)], capsys)
    assert code == 1
    assert "FAIL  wrong greeting" in out
    assert "-Bonjour" in out and "+Hello!" in out
    assert "0 passed, 1 failed" in out


def test_a_test_presses_buttons_by_title(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tests = tmp_path / "press.yml"
    tests.write_text(
        "tests:\n"
        "  - name: pressing\n"
        "    steps:\n"
        "      - user: my phone won't turn on\n"
        "      - press: 'No'\n"
        "        bot: charging light\n"
        "      - press: Maybe\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(["dialogs", "test", str(DEMO_DIALOGS), "--tests", str(tests)], capsys)
    assert code == 1
    assert "press.yml:7: no button 'Maybe' to press" in out
    assert "charging light" not in out  # the first press passed


async def test_try_chats_in_the_terminal() -> None:
    engine = demo_engine()
    out = io.StringIO()
    await cli_run.chat(engine, io.StringIO("my phone won't turn on\n2\nno\n"), out)
    transcript = out.getvalue()
    assert "[1] Yes" in transcript and "[2] No" in transcript
    assert "charging light" in transcript
    assert "different charger" in transcript
