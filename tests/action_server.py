"""A real rasa-sdk action server for the tests that run custom actions (fixture `action_server`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import unused_port

REPO = Path(__file__).resolve().parents[1]
ACTIONS_PYTHON = REPO / ".venv-actions" / "bin" / "python"
STARTUP_TIMEOUT = 90.0  # importing rasa-sdk (grpc, opentelemetry) is slow on a busy machine


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionServer:
    """A running action server: `url` is its webhook, `base` its root (for /health)."""

    url: str
    base: str


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its Sanic workers: they share the process group we gave it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    # Whatever outlived the polite request (a stuck worker, or the leader itself) goes now.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="session")
def action_server() -> Iterator[ActionServer]:
    """`python -m rasa_sdk` from .venv-actions with the demo's actions plus `extra_actions`."""
    if not ACTIONS_PYTHON.exists():
        pytest.fail(
            f"{ACTIONS_PYTHON} not found: the action server has its own environment. "
            "`make test` creates it (or: python3 -m venv .venv-actions && "
            ".venv-actions/bin/pip install 'rasa-sdk>=3.21,<4')",
            pytrace=False,
        )
    port = unused_port()  # `-p 0` does not make rasa-sdk pick a free port
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SANIC_HOST": "127.0.0.1",  # rasa-sdk binds every interface without it
        "ACTION_SERVER_SANIC_WORKERS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO / "config"), str(REPO / "tests" / "dialogs")]),
    }
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [str(ACTIONS_PYTHON), "-m", "rasa_sdk", "--actions", "extra_actions", "-p", str(port)],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown reaches the workers
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not _healthy(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    output.seek(0)
                    tail = output.read().decode(errors="replace")[-3000:]
                    pytest.fail(
                        f"the action server did not answer GET {base}/health "
                        f"(exit code {process.poll()}):\n{tail}",
                        pytrace=False,
                    )
                time.sleep(0.2)
            yield ActionServer(url=f"{base}/webhook", base=base)
        finally:
            _stop(process)
