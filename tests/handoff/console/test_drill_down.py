"""The dashboard's drill-down: from a figure to the conversations it counts, under the same
filters, with a clear 400 for a figure that does not exist."""

from __future__ import annotations

import pytest

from handoff.console.dashboard import Facts, Filters, behind, figures, parse_drill
from hub.errors import InputError

FACTS = [
    Facts(conversation_id="c1", channel="webchat", created_at=100.0, intent="greet"),
    Facts(
        conversation_id="c2",
        channel="telegram",
        created_at=200.0,
        intent="refund",
        handed_off=True,
        agent="mei",
        sla_breached=True,
        csat=2,
    ),
    Facts(
        conversation_id="c3",
        channel="webchat",
        created_at=300.0,
        handed_off=True,
        agent="tom",
        first_response=30.0,
    ),
]


def ids(figure: str, filters: Filters | None = None) -> list[str]:
    rows = behind(FACTS, filters or Filters(since=0.0), parse_drill(figure))
    return [r["conversation_id"] for r in rows]


def test_each_figure_drills_down_to_the_conversations_it_counts() -> None:
    data = figures(FACTS, Filters(since=0.0))
    assert len(ids("conversations")) == data["conversations"] == 3
    assert ids("handed_off") == ["c3", "c2"] and data["handed_off"] == 2  # newest first
    assert ids("contained") == ["c1"] and data["contained"] == 1
    assert ids("sla_breached") == ["c2"] and data["sla_breached"] == 1
    assert ids("csat") == ["c2"]
    assert ids("first_response") == ["c3"]
    assert ids("channel:webchat") == ["c3", "c1"]
    assert ids("intent:refund") == ["c2"]
    assert ids("intent:(none)") == ["c3"]
    # The page's filters hold for the drill-down too.
    assert ids("handed_off", Filters(since=0.0, agent="mei")) == ["c2"]
    assert ids("conversations", Filters(since=150.0)) == ["c3", "c2"]


@pytest.mark.parametrize("figure", ["", "everything", "channel:", "agent:mei", "x" * 200])
def test_an_unknown_figure_is_a_clear_400(figure: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_drill(figure)
    assert refused.value.status == 400 and "handed_off" in refused.value.message
