"""The test cluster's node ports: each node also listens on port + 10000 (the cluster bus),
which redis-server refuses above 65535 — about one free port in five on Linux."""

from __future__ import annotations

from tests.redis_cluster import BUS_OFFSET, free_node_port


def test_node_ports_leave_room_for_the_cluster_bus() -> None:
    assert all(free_node_port() + BUS_OFFSET <= 65_535 for _ in range(200))
