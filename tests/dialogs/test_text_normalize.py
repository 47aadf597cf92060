"""The one normalization step every message passes (`hub.text.normalize` / `tokenize`)."""

from __future__ import annotations

import pytest

from hub.memo import TEXT_MEMO_SIZE
from hub.text import MAX_TEXT, Segmenter, has_cjk, normalize, tokenize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # English: case, whitespace, contractions with and without the apostrophe.
        ("  Where IS   my Order? ", "where is my order?"),
        ("it won't turn on", "it will not turn on"),
        ("it wont turn on", "it will not turn on"),
        ("I can't log in", "i can not log in"),
        ("I cannot log in", "i can not log in"),
        ("it doesn't charge", "it does not charge"),
        ("it didnt arrive", "it did not arrive"),
        ("I’m sure it isn’t here", "i am sure it is not here"),  # typographic apostrophes
        ("they've charged me, I'd like it back", "they have charged me, i would like it back"),
        ("what's my order's status", "what is my order status"),
        ("we won!", "we won!"),  # "won" is not "won't"
        # Chinese: Traditional → Simplified, full-width → half-width.
        ("我買的手機到哪了", "我买的手机到哪了"),
        ("衣服不想要了，怎麼退？", "衣服不想要了,怎么退?"),
        ("ＡＢＣ１２３", "abc123"),
        # Latin runs and digits set apart from Chinese.
        ("我登不进App了", "我登不进 app 了"),
        ("帮我查下订单20261005", "帮我查下订单 20261005"),
        ("iPhone15到了吗", "iphone15 到了吗"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("Where's my parcel?", ["where", "is", "my", "parcel"]),
        ("你们卖不卖礼品卡", ["你们", "卖不卖", "礼品", "卡"]),
        ("我登不進App了", ["我", "登不进", "app", "了"]),
        ("升級系統後特別費電", ["升级", "系统", "后", "特别", "费电"]),
        ("😀😀😀", []),
        ("!!!???", []),
    ],
)
def test_tokenize(raw: str, words: list[str]) -> None:
    assert tokenize(raw) == words


def test_the_bots_own_words_stay_whole() -> None:
    segmenter = Segmenter(["礼品卡", "礼品卡", "x", "Gift card", "很长很长很长很长很长很长的词"])
    assert tokenize("你们卖不卖礼品卡", segmenter) == ["你们", "卖不卖", "礼品卡"]
    # Traditional spelling of the bot's word is the same word once normalized.
    assert tokenize("你們賣不賣禮品卡", segmenter) == ["你们", "卖不卖", "礼品卡"]
    # Other text is segmented as without the bot's words.
    assert tokenize("我登不进App了", segmenter) == tokenize("我登不进App了")


def test_has_cjk() -> None:
    assert has_cjk("hello 你好")
    assert not has_cjk("hello")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   \n\t  ",
        "a" * 10_000,
        "我" * 10_000,
        "😀🎉👍🏽‍",
        "\x00\x01\x1b[31m\x7f",
        "\ud800 lone \udfff surrogates",
        "\u202eevil RTL override\u202c \u200f",
        "啊" * 500,
        "20261001",
        "?!.,;。，！？",
        "https://example.com/orders?id=1&x=%20",
        "won't" * 2000,
    ],
)
def test_bad_input_never_raises(raw: str) -> None:
    text = normalize(raw)
    assert len(text) <= MAX_TEXT
    assert all(not ("\ud800" <= ch <= "\udfff") for ch in text)
    assert "\u202e" not in text
    assert isinstance(tokenize(raw), list)


def test_not_a_string_is_empty() -> None:
    assert normalize(None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "line",
    ["I can’t log in to my ＡＰＰ", "我買的手機到哪了，怎麼還沒到？"],
)
def test_a_repeated_line_has_one_form_and_the_memo_stays_bounded(line: str) -> None:
    from hub import text

    first = normalize(line)
    before = text._normal_form.cache_info()
    assert normalize(line) == first  # the second reading comes from the memo
    assert text._normal_form.cache_info().hits == before.hits + 1
    for n in range(TEXT_MEMO_SIZE + 50):  # many different lines push old ones out
        normalize(f"{line} {n}")
    assert text._normal_form.cache_info().currsize <= TEXT_MEMO_SIZE
    assert normalize(line) == first


def test_a_long_text_is_normalized_but_not_remembered() -> None:
    from hub import text

    long_en = "it doesn't charge " * 40  # 720 characters, past TEXT_MEMO_LENGTH
    long_zh = "我買的手機到哪了" * 40
    size = text._normal_form.cache_info().currsize
    assert normalize(long_en).startswith("it does not charge it does not charge")
    assert normalize(long_zh).startswith("我买的手机到哪了我买的手机到哪了")
    assert text._normal_form.cache_info().currsize == size
