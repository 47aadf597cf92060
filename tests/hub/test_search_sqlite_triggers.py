"""The SQLite index's triggers: an event's search body is computed once (by the indexer,
not in the write), and a file written with older trigger definitions gets the new ones on
open without losing its index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hub import search_sqlite, search_sqlite_indexer
from hub.model import Inbound
from hub.search_text import parse_query
from hub.store_sqlite import SQLiteStore
from hub.stores import beside

TEXTS = {"en": ("refund for my order", "refund"), "zh": ("我想退款，订单还没到", "退款")}

# An older definition of the edit trigger: it indexed the edited event in the edit's own
# write (the body function in the write, twice: its subquery is flattened).
OLD_EVENT_TRIGGER = f"""
CREATE TRIGGER search_event_changed AFTER UPDATE OF data ON events BEGIN
    DELETE FROM search_docs WHERE id = old.id;
    INSERT INTO search_docs (id, kind, conversation_id, seq, body)
    SELECT new.id, 'message', new.conversation_id, new.seq, body
    FROM (SELECT fd_search_event(new.type, new.data) AS body)
    WHERE new.type IN ({search_sqlite_indexer.INDEXED_TYPES_SQL}) AND body != '';
END
"""


def count_body_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = search_sqlite_indexer.row_body

    def counting(kind: str, data: str) -> str:
        calls[0] += 1
        return real(kind, data)

    monkeypatch.setattr(search_sqlite_indexer, "row_body", counting)
    return calls


async def hits(store: SQLiteStore, word: str) -> list[str]:
    index = beside(store).search()
    found = await index.search(parse_query(word), kind="conversation", scope=None, limit=10)
    return [hit.conversation_id for hit in found.items]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_old_triggers_are_replaced_and_the_index_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    text, word = TEXTS[language]
    path = tmp_path / "frontdesk.db"
    store = SQLiteStore(path)
    await store.open()
    first = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m1", text=text), now=1.0
    )
    assert await hits(store, word) == [first.conversation.id]  # indexed, as before
    await store.close()

    # Make it a file of the previous version: old trigger text, no triggers version.
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER search_event_changed")
    db.execute(OLD_EVENT_TRIGGER)
    db.execute("DELETE FROM search_meta WHERE key = 'triggers'")
    db.commit()
    db.close()

    calls = count_body_calls(monkeypatch)
    store = SQLiteStore(path)
    await store.open()
    try:
        second = await store.record_inbound(
            Inbound(channel="api", sender="bo", message_id="m2", text=text), now=2.0
        )
        assert calls[0] == 0  # the write only notes the message for the indexer
        assert sorted(await hits(store, word)) == sorted(
            [first.conversation.id, second.conversation.id]
        )
        assert calls[0] == 1  # the message's body, once (the old trigger: twice, in the write)
        version = store.db.execute(
            "SELECT value FROM search_meta WHERE key = 'triggers'"
        ).fetchone()
        assert version == (search_sqlite.TRIGGERS_VERSION,)
    finally:
        await store.close()
