"""`frontdesk serve --workers N`: N processes on one port, Redis required, a clean stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.scale.clients import Operator, eventually, post_message
from tests.scale.processes import HubProcess, free_port, group_config
from tests.support import REPO, CallbackReceiver


def _config(tmp_path: Path, store_url: str, callback_url: str) -> tuple[Path, int]:
    port = free_port()
    config = group_config(tmp_path, store_url, callback_url)
    config["server"] = {"host": "127.0.0.1", "port": port}
    path = tmp_path / "frontdesk.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path, port


def _serve(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "FRONTDESK_API_TOKEN": "t"}
    return subprocess.run(
        [sys.executable, "-m", "hub", "serve", "--config", str(path), *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_several_workers_need_a_redis_store(tmp_path: Path) -> None:
    path, _ = _config(tmp_path, f"sqlite:///{tmp_path}/frontdesk.db", "http://127.0.0.1:9/")
    done = _serve(path, "--workers", "2")
    assert done.returncode == 2
    assert "--workers 2 needs a shared store" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_worker_count_out_of_range_is_refused(tmp_path: Path) -> None:
    path, _ = _config(tmp_path, f"sqlite:///{tmp_path}/frontdesk.db", "http://127.0.0.1:9/")
    for bad in ("0", "many", "65"):
        done = _serve(path, "--workers", bad)
        assert done.returncode == 2 and "--workers" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


async def test_three_workers_share_one_port_and_stop_together(
    tmp_path: Path, redis_url: str, receiver: CallbackReceiver
) -> None:
    config = group_config(tmp_path, redis_url, receiver.url)
    hub = HubProcess(tmp_path / "parent", "workers", config, args=("--workers", "3"))
    hub.spawn()
    assert hub.process is not None
    try:
        async with aiohttp.ClientSession() as session:
            await hub.ready(session)
            children = Path(f"/proc/{hub.process.pid}/task/{hub.process.pid}/children")
            workers = children.read_text().split()
            assert len(workers) == 3

            # Every worker answers on the one port; connections land on any of them.
            async def all_ready() -> bool:
                leaders = 0.0
                for _ in range(30):
                    async with aiohttp.ClientSession() as fresh:  # a new connection each
                        leaders += await Operator(fresh, hub).metric(
                            "frontdesk_handoff_clock_leader"
                        )
                return leaders >= 1

            await eventually(all_ready, "a leader among the workers")
            receipt = await post_message(session, hub, "w-1", "我要转人工", "w1")
            conversation_id = receipt["conversation_id"]

            async def queued_everywhere() -> bool:
                for _ in range(12):  # fresh connections: the kernel spreads them over all three
                    async with aiohttp.ClientSession() as fresh:
                        waiting = (await Operator(fresh, hub).queue())["waiting"]
                    if [t["conversation_id"] for t in waiting] != [conversation_id]:
                        return False
                return True

            await eventually(queued_everywhere, "the hand-off in every worker's queue")
    finally:
        hub.process.send_signal(signal.SIGTERM)
        status = await asyncio.to_thread(hub.process.wait, 60)
    assert status == 0, hub.log.read_text()
    for pid in workers:  # each stopped and was reaped by the parent
        assert not Path(f"/proc/{pid}").exists()
