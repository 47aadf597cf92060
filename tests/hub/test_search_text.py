"""The pure rules both search indexes share: folding, tokens, queries, snippets."""

from __future__ import annotations

import pytest

from hub.search_text import (
    MAX_QUERY,
    QueryError,
    customer_body,
    event_body,
    joined,
    parse_query,
    snippet,
    tokens,
)


def test_tokens_fold_width_case_and_traditional_and_pair_chinese() -> None:
    assert tokens("ＡＰＰ Refund") == ["app", "refund"]
    assert tokens("禮品卡") == ["礼品", "品卡", "卡"]
    assert tokens("我要退款iPhone15") == ["我要", "要退", "退款", "款", "iphone15"]
    assert tokens("好") == ["好"]
    assert tokens("") == [] and tokens("!!! ...") == []


def test_queries_are_terms_never_syntax() -> None:
    query = parse_query('礼品卡 "NEAR(refund*')
    assert query.fts() == '"礼品 品卡" AND "near"* AND "refund"*'
    assert parse_query("re").fts() == '"re"'  # short words are whole words
    assert parse_query("卡").fts() == '"卡"*'  # one character: where a token starts with it
    assert parse_query("退款").fts() == '"退款"'
    for bad in ("", "   ", '"*()', "x" * (MAX_QUERY + 1), "a b c d e f g h i"):
        with pytest.raises(QueryError):
            parse_query(bad)


def test_a_query_matches_a_body_as_the_index_would() -> None:
    body = " ".join(tokens("我想买礼品卡, can I get a refund?"))
    assert parse_query("礼品卡 refund").matches(body)
    assert parse_query("禮品").matches(body)
    assert not parse_query("品礼").matches(body)
    assert not parse_query("礼品卡 gift").matches(body)
    assert parse_query("refun").matches(body) and not parse_query("fund").matches(body)


def test_documents_from_events_and_customers() -> None:
    assert event_body("message.in", {"text": "Hi 你好"}) == "hi 你好 好"
    assert event_body("message.out", {"outbound": {"text": "Done"}}) == "done"
    assert event_body("handoff.note", {"text": "call back"}) == "call back"
    requested = {
        "ticket_number": 1042,
        "skill": "billing",
        "intent": "refund_status",
        "reasons": ["asked_human"],
    }
    assert event_body("handoff.requested", requested) == "1042 billing refund status asked human"
    assert event_body("delivery.delivered", {"text": "x"}) == ""
    customer = {
        "identities": ["email:ana@example.com", "telegram:42"],
        "attributes": {"name": "Ana 李", "vip_level": 3, "nested": {"x": "y"}},
        "tags": ["vip"],
    }
    assert customer_body(customer) == "ana 李 3 ana example com 42 vip"


def test_snippets_mark_matches_in_the_original_text() -> None:
    pieces = snippet("我想買禮品卡，可以嗎？ Also a REFUND please", parse_query("礼品卡 refund"))
    assert [p for p, hit in pieces if hit] == ["禮品卡", "REFUND"]
    assert joined(pieces) == "我想買禮品卡，可以嗎？ Also a REFUND please"
    wide = snippet("ＡＰＰ crashed", parse_query("app"))
    assert [p for p, hit in wide if hit] == ["ＡＰＰ"]
    # A prefix lights up the whole word; a short word only where it stands alone.
    assert [p for p, hit in snippet("refunded, re-do", parse_query("refund")) if hit] == [
        "refunded"
    ]
    assert [p for p, hit in snippet("refunded, re-do", parse_query("re")) if hit] == ["re"]
    # A long text is cut around the first match, with ellipses, and markup stays text.
    long = "x" * 300 + " <b>退款</b> " + "y" * 300
    cut = snippet(long, parse_query("退款"))
    assert cut[0] == ("…", False) and cut[-1] == ("…", False)
    assert ("退款", True) in cut and "<b>" in joined(cut)
    assert len(joined(cut)) <= 170
