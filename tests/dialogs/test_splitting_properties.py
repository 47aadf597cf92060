"""Properties of the message splitter over made-up messages (`hypothesis`), English and
Chinese: it never fails, always returns a sentence, every part is a piece of the customer's
own (normalized) text — nothing invented, nothing reordered inside a part — and it never cuts
a number ("1,200", "3.5", an order id "A-1234?") into pieces."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.splitting import MAX_PARTS, Part, Sentence, split
from hub.text import normalize

FRAGMENTS = st.sampled_from(
    [
        "where is my order",
        "how much is shipping",
        "and how long does it take",
        "also",
        "by the way",
        "can I change the address",
        "hi",
        "thanks",
        "1,200",
        "3.5",
        "A-1234?",
        "example.com/?id=3",
        "运费多少",
        "几天能到",
        "另外",
        "还有",
        "还有效吗",
        "我的订单到哪了",
        "能改地址吗",
        "順便問一下",  # Traditional: normalized before it is cut
        "以及",
        *("?", "？", "!", "。", ",", "，", "…", " ", "~", "～", "😀"),
    ]
)
MESSAGES = st.one_of(
    st.lists(FRAGMENTS, max_size=12).map("".join),
    st.lists(FRAGMENTS, max_size=12).map(" ".join),
    st.text(max_size=60),
)
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@settings(max_examples=400, deadline=None, database=None)
@given(MESSAGES)
def test_parts_are_pieces_of_the_message_and_numbers_stay_whole(text: str) -> None:
    sentences = split(text)
    assert 1 <= len(sentences) <= MAX_PARTS
    normalized = normalize(text)
    numbers = set(NUMBER.findall(normalized))
    for sentence in sentences:
        assert sentence.clauses
        pieces: tuple[Sentence | Part, ...] = (sentence, *sentence.clauses)
        for part in pieces:
            assert part.text in normalized
            # A number cut in two would leave a piece ("1" of "1,200") the message lacks.
            assert set(NUMBER.findall(part.text)) <= numbers
