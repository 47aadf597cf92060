"""Fixtures of the scale-out tests: three real hub processes on one real store.

`scale_store_url` is the one place to point them elsewhere: a test module (or a
`conftest.py` further down) that overrides it, e.g. with a Redis Cluster URL, runs every
journey of this package against that store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.scale.processes import HubGroup, group_config
from tests.support import CallbackReceiver


@pytest.fixture
def scale_store_url(redis_url: str) -> str:
    """The store the processes share: a private redis-server, emptied for the test."""
    return redis_url


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    """What the api channel's customers receive (from whichever process delivers)."""
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def hubs(
    tmp_path: Path, scale_store_url: str, receiver: CallbackReceiver
) -> AsyncIterator[HubGroup]:
    """Processes A, B and C (`hubs[0..2]`), serving on free loopback ports."""
    group = HubGroup(tmp_path, group_config(tmp_path, scale_store_url, receiver.url), count=3)
    try:
        await group.start()
        yield group
    finally:
        await group.stop()
