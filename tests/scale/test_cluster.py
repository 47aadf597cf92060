"""The three-process journeys on a three-master Redis Cluster the harness starts: the same
tests, with the processes' store (and so their bus, leases and limits) on the cluster."""

from __future__ import annotations

import pytest

from tests.scale.test_hot_reload import (
    test_a_reload_on_one_process_is_followed_by_the_others as test_reload_on_a_cluster,
)
from tests.scale.test_shared_limits import (
    test_an_address_burst_is_shared_by_three_processes as test_limits_on_a_cluster,
)
from tests.scale.test_three_processes import (
    test_agent_reply_on_b_reaches_the_visitor_on_a_live_and_after_they_write_again as test_web_chat_on_a_cluster,
)
from tests.scale.test_three_processes import (
    test_an_agent_is_never_offered_more_than_capacity_by_three_processes as test_capacity_on_a_cluster,
)
from tests.scale.test_typing import (
    test_typing_reaches_the_other_process_both_ways as test_typing_on_a_cluster,
)


@pytest.fixture
def scale_store_url(redis_cluster_url: str) -> str:
    return redis_cluster_url


__all__ = [
    "test_capacity_on_a_cluster",
    "test_limits_on_a_cluster",
    "test_reload_on_a_cluster",
    "test_typing_on_a_cluster",
    "test_web_chat_on_a_cluster",
]
