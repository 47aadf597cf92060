"""The dummy hash that makes a login for an unknown account cost what a known one costs: made
on first use, on the login's worker thread, once, never at import (where every process and
test worker would pay an argon2 hash, seconds on a loaded machine)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from handoff.console import passwords
from handoff.console.accounts import Role
from tests.handoff.console.helpers import (
    FORM_CSRF,
    PASSWORD,
    config_with,
    console_app,
    console_env,
    seed_sqlite,
)

ROOT = Path(__file__).resolve().parents[3]

# Counts PasswordHasher.hash calls, then imports the console as the hub does.
IMPORT_COUNTING_HASHES = """
import argon2
calls = []
real = argon2.PasswordHasher.hash
def counted(self, *args, **kwargs):
    calls.append(1)
    return real(self, *args, **kwargs)
argon2.PasswordHasher.hash = counted
import handoff.console, handoff.console.login, handoff.console.passwords, hub.app
print(len(calls))
"""

FAILED = {"en": "Wrong user name or password.", "zh": "用户名或密码错误。"}


class Counted:
    """Wraps a `PasswordHasher` method: each call's hash argument and thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.calls: list[tuple[Any, threading.Thread]] = []
        real = getattr(PasswordHasher, name)

        def counted(hasher: PasswordHasher, first: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls.append((first, threading.current_thread()))
            return real(hasher, first, *args, **kwargs)

        monkeypatch.setattr(PasswordHasher, name, counted)


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a process that has not verified a password yet."""
    monkeypatch.setattr(passwords, "_dummy", None, raising=False)


def test_importing_the_console_makes_no_hash() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_COUNTING_HASHES],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "0"


@pytest.mark.usefixtures("fresh")
def test_threads_that_verify_together_make_one_dummy_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    hashes = Counted(monkeypatch, "hash")
    start = threading.Barrier(4)
    results: list[bool] = []

    def unknown_account() -> None:
        start.wait()
        results.append(passwords.verify_password(None, PASSWORD))

    threads = [threading.Thread(target=unknown_account) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [False] * 4
    assert len(hashes.calls) == 1


@pytest.mark.usefixtures("fresh")
def test_the_first_verify_makes_the_dummy_hash_whoever_it_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A known account's first login pays for the dummy too: the first login after a start
    takes as long whether the name exists or not."""
    known = passwords.hash_password(PASSWORD)
    hashes = Counted(monkeypatch, "hash")
    assert passwords.verify_password(known, PASSWORD)
    assert len(hashes.calls) == 1
    assert not passwords.verify_password(None, PASSWORD)
    assert len(hashes.calls) == 1


@pytest.fixture
async def client(tmp_path: Path, aiohttp_client: Any) -> TestClient[Any, Any]:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    config = config_with(tmp_path, "  login_free_failures_per_account: 10\n")
    made: TestClient[Any, Any] = await aiohttp_client(
        console_app(console_env(tmp_path), config_path=config)
    )
    return made


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize("language", ["en", "zh"])
async def test_an_unknown_account_still_costs_one_verify_off_the_event_loop(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    hashes = Counted(monkeypatch, "hash")
    verifies = Counted(monkeypatch, "verify")
    loop_thread = threading.current_thread()
    for attempt in range(2):
        client.session.cookie_jar.clear()
        headers = {"Accept-Language": language}
        form = await client.get("/console/login", headers=headers)
        token = FORM_CSRF.search(await form.text())
        assert token is not None
        response = await client.post(
            "/console/login",
            data={"username": "nobody", "password": PASSWORD, "csrf": token.group(1)},
            headers=headers,
        )
        assert response.status == 401
        assert FAILED[language] in await response.text()
        assert len(verifies.calls) == attempt + 1  # one verify per login …
    assert {hashed for hashed, _ in verifies.calls} == {passwords._dummy}  # … of the dummy
    assert passwords._dummy is not None and passwords._dummy.startswith("$argon2id$")
    # Made once, by the first login, on its worker thread: never on the event loop.
    assert [thread is not loop_thread for _, thread in hashes.calls] == [True]
