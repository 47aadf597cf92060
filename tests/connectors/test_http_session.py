"""The shared lazily opened client session the provider clients use."""

from __future__ import annotations

from connectors.http_session import LazySession


async def test_one_session_until_closed_then_a_new_one() -> None:
    http = LazySession(timeout=2.5)
    assert http.timeout.total == 2.5
    first = http.open()
    assert http.open() is first
    await http.close()
    assert first.closed
    second = http.open()
    assert second is not first and not second.closed
    await http.close()
    await http.close()  # closing twice is harmless


async def test_a_session_closed_elsewhere_is_replaced() -> None:
    http = LazySession(timeout=1.0)
    first = http.open()
    await first.close()
    second = http.open()
    assert second is not first and not second.closed
    await http.close()
