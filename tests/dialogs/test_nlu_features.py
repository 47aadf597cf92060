"""Feature extraction of the intent classifier: the training matrix and the embeddings agree with
what prediction computes for one line at a time (English and Chinese)."""

from __future__ import annotations

import numpy as np
import pytest

from dialogs.nlu_features import (
    NgramVocabulary,
    default_word_vectors,
    extract_terms,
    vector_norm,
)
from hub.text import Segmenter, normalize

LINES = [
    "where is my parcel",
    "",  # a blank line is a row of zeros, not a shifted matrix
    "我的包裹到哪了",
    "track my parcel please, my parcel",
    "",
    "查一下 parcel 状态",
]


def terms(line: str) -> dict[str, int]:
    text = normalize(line)
    return extract_terms(text, Segmenter().tokens(text))


@pytest.mark.parametrize(
    ("min_df", "max_char_df", "max_char_len"),
    [(1, 1.0, None), (2, 1.0, None), (1, 0.3, None), (1, 1.0, 4)],
)
def test_training_rows_equal_the_rows_prediction_computes(
    min_df: int, max_char_df: float, max_char_len: int | None
) -> None:
    vocabulary, matrix = NgramVocabulary.fit_transform(
        (terms(line) for line in LINES),
        min_df=min_df,
        max_char_df=max_char_df,
        max_char_len=max_char_len,
    )
    assert matrix.shape == (len(LINES), len(vocabulary))
    for row, line in enumerate(LINES):
        columns, values = vocabulary.vectorize(terms(line))
        expected = np.zeros(len(vocabulary))
        expected[columns] = values
        assert np.allclose(matrix[row].toarray().ravel(), expected, atol=1e-6), line
    if min_df == 2:  # terms of one line only are left out
        assert "\x00where" not in vocabulary.index
        assert "\x00parcel" in vocabulary.index
        assert "包裹" not in vocabulary.index
        assert "状态" not in vocabulary.index
    if max_char_df < 1.0:  # character terms of two lines or more (of six) are left out …
        assert "par" not in vocabulary.index
        assert "whe" in vocabulary.index
        assert "包裹" in vocabulary.index
        # … word terms never: a frequent word is still a word of the bot
        assert "\x00parcel" in vocabulary.index
    if max_char_len is not None:  # character 5-grams are left out, not 4-grams or words …
        assert "parce" not in vocabulary.index
        assert "parc" in vocabulary.index
        assert "\x00parcel" in vocabulary.index
        assert "\x00where is" in vocabulary.index  # (a word 2-gram is longer, and stays)
        assert "我的包" in vocabulary.index  # … nor Chinese 1-3-grams
    elif max_char_df == 1.0:
        assert "parce" in vocabulary.index


@pytest.mark.parametrize("line", [*LINES, "parcels, parcels and more parcels 包裹"])
def test_a_vocabulary_without_long_character_terms_reads_the_same_without_counting_them(
    line: str,
) -> None:
    vocabulary, _ = NgramVocabulary.fit_transform((terms(x) for x in LINES), max_char_len=4)
    assert vocabulary.longest_char == 4
    text = normalize(line)
    short = extract_terms(text, Segmenter().tokens(text), longest=vocabulary.longest_char)
    assert not any(len(term) == 5 for term in short if term[0] != "\x00")
    for got, expected in zip(
        vocabulary.vectorize(short), vocabulary.vectorize(terms(line)), strict=True
    ):
        assert np.array_equal(got, expected)


def test_no_documents_give_an_empty_matrix() -> None:
    vocabulary, matrix = NgramVocabulary.fit_transform([{}, {}])
    assert len(vocabulary) == 0
    assert matrix.shape == (2, 0)


def test_embedding_many_lines_in_slices_equals_one_at_a_time() -> None:
    vectors = default_word_vectors()
    lines = [f"cancel my order number {n}" for n in range(1500)] + ["取消我的订单 order", "你好"]
    rows = vectors.embed_many(lines)
    for i in (0, 999, 1000, 1499, 1500, 1501):
        assert np.allclose(rows[i], vectors.embed(lines[i]), atol=1e-6), lines[i]


@pytest.mark.parametrize(
    "line", ["where is my parcel", "track my parcel please", "我的包裹到哪了", "查一下 parcel 状态"]
)
def test_an_embedding_is_the_unit_mean_of_its_token_rows_to_the_bit(line: str) -> None:
    vectors = default_word_vectors()
    ids = [
        i
        for i in vectors._tokenizer.encode(line, add_special_tokens=False).ids
        if i not in vectors._skip
    ]
    assert ids
    mean = vectors._matrix[ids].astype(np.float32).mean(axis=0)
    assert np.array_equal(vectors.embed(line), mean / np.linalg.norm(mean))


def test_the_norm_of_a_vector_is_numpys_to_the_bit() -> None:
    rows = np.random.default_rng(7).standard_normal((200, 256)).astype(np.float32)
    for row in rows:
        assert vector_norm(row) == float(np.linalg.norm(row))
    assert vector_norm(np.zeros(256, dtype=np.float32)) == 0.0
