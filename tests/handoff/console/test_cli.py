"""`frontdesk agents …` against a real SQLite account store."""

from __future__ import annotations

import argparse
import asyncio
import io
from pathlib import Path

import pytest

from handoff.console import register
from handoff.console.accounts import Account, Session, token_key
from handoff.console.accounts_sqlite import SQLiteAccounts
from handoff.console.passwords import verify_password
from tests.support import DEMO_CONFIG


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setenv("FRONTDESK_STORE_URL", f"sqlite:///{tmp_path}/frontdesk.db")
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    parser = argparse.ArgumentParser(prog="frontdesk")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["agents", "--config", str(DEMO_CONFIG), *argv])
    return int(args.run(args))


def stored(tmp_path: Path, account_id: str) -> Account:
    async def read() -> Account | None:
        store = SQLiteAccounts(tmp_path / "frontdesk.db")
        await store.open()
        try:
            return await store.get(account_id)
        finally:
            await store.close()

    account = asyncio.run(read())
    assert account is not None
    return account


def test_add_list_disable_enable_and_reset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, monkeypatch, "list") == 0
    assert "no accounts yet" in capsys.readouterr().out

    args = ("add", "mei", "--name", "Mei Chen", "--role", "supervisor", "--language", "zh")
    assert run(tmp_path, monkeypatch, *args, "--password-stdin", stdin="first password 1\n") == 0
    account = stored(tmp_path, "mei")
    assert account is not None and account.role == "supervisor" and account.language == "zh"
    assert verify_password(account.password_hash, "first password 1")

    assert run(tmp_path, monkeypatch, "add", "mei", "--generate") == 1
    assert "exists already" in capsys.readouterr().err
    assert run(tmp_path, monkeypatch, "add", "bad id", "--generate") == 1
    assert run(tmp_path, monkeypatch, "add", "tom", "--password-stdin", stdin="short\n") == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert run(tmp_path, monkeypatch, "add", "tom", "--generate") == 0
    generated = capsys.readouterr().out.split("password: ")[1].split()[0]
    tom = stored(tmp_path, "tom")
    assert tom is not None and verify_password(tom.password_hash, generated)

    assert run(tmp_path, monkeypatch, "list") == 0
    listing = capsys.readouterr().out
    assert "mei" in listing and "supervisor" in listing and "Mei Chen" in listing
    assert "$argon2" not in listing

    assert run(tmp_path, monkeypatch, "disable", "mei") == 0
    assert stored(tmp_path, "mei").disabled
    assert run(tmp_path, monkeypatch, "enable", "mei") == 0
    assert not stored(tmp_path, "mei").disabled

    assert (
        run(
            tmp_path,
            monkeypatch,
            "reset-password",
            "mei",
            "--password-stdin",
            stdin="second password 2\n",
        )
        == 0
    )
    assert verify_password(stored(tmp_path, "mei").password_hash, "second password 2")
    assert run(tmp_path, monkeypatch, "reset-password", "ghost", "--generate") == 1
    assert "no account 'ghost'" in capsys.readouterr().err


def test_token_is_stored_only_as_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, monkeypatch, "add", "bot", "--role", "operator", "--generate") == 0
    capsys.readouterr()
    assert run(tmp_path, monkeypatch, "token", "bot", "--label", "crm") == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]

    async def read() -> Session | None:
        store = SQLiteAccounts(tmp_path / "frontdesk.db")
        await store.open()
        try:
            assert await store.get_session(secret, now=0.0) is None
            return await store.get_session(token_key(secret), now=0.0)
        finally:
            await store.close()

    session = asyncio.run(read())
    assert session is not None and session.api_token and session.label == "crm"
