"""A merge and an unmerge log an event in every conversation they move; the identity
service publishes each on the event bus, so the next batch of those conversations follows
on at every process, with no gap and no log read. On one redis-server and on the cluster,
with messages in English and in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.identity import IdentityService
from hub.model import Inbound
from hub.ports import CUSTOMER_MERGED, CUSTOMER_UNMERGED
from tests.hub.test_delivery import FAST, until
from tests.scale.test_bus_receipts import Processes, the_whole_log_reached_b, two_processes


def message(sender: str, text: str, message_id: str) -> Inbound:
    return Inbound(channel="flaky", sender=sender, message_id=message_id, text=text)


async def said(p: Processes, sender: str, text: str, message_id: str) -> str:
    """`sender` writes `text` and has both replies; their conversation."""
    sent = len(p.sent)
    receipt = await p.hub.ingest(message(sender, text, message_id))
    await until(lambda: len(p.sent) == sent + 2)
    return receipt.conversation_id


@pytest.mark.parametrize(
    ("first", "then"), [("Where is my parcel?", "Thanks!"), ("我的包裹在哪里？", "谢谢！")]
)
async def test_a_merge_and_an_unmerge_reach_another_process_without_a_log_read(
    shared_store_url: str, tmp_path: Path, first: str, then: str
) -> None:
    async with two_processes(shared_store_url, tmp_path, policy=FAST) as p:
        identity = IdentityService(p.store, clock=p.hub.clock, publish=p.hub.publish_order.publish)
        await said(p, "ana", first, "a1")
        bo_conversation = await said(p, "bo", first, "b1")
        ana = await p.store.find_customer("flaky:ana")
        bo = await p.store.find_customer("flaky:bo")
        assert ana is not None and bo is not None
        merge = await identity.merge(ana.id, bo.id, reason={"kind": "test"}, actor="sara")
        assert bo_conversation in merge.moved_conversations
        # Bo writes on in the conversation now Ana's: its next batch follows the merge's.
        await said(p, "bo", then, "b2")
        logged = await the_whole_log_reached_b(p, 4, bo_conversation)
        assert CUSTOMER_MERGED in [e.type for e in logged]
        assert await identity.unmerge(merge.id, actor="sara") is not None
        await said(p, "bo", first, "b3")
        logged = await the_whole_log_reached_b(p, 6, bo_conversation)
        assert CUSTOMER_UNMERGED in [e.type for e in logged]
