"""Feature extraction for the intent classifier (private to `dialogs.nlu`).

Two feature blocks, both computed the same way at training and at prediction time:

* sparse TF-IDF over word 1-2-grams and character 2-5-grams. Character n-grams make the
  model work for Chinese without word segmentation and tolerate typos;
* optionally the average of static token embeddings shipped inside the `wordllama` wheel
  (a 32k-token vocabulary, 256 dimensions), which brings synonyms the examples lack.

The prediction path is plain Python plus a few small numpy calls: scikit-learn is only used to
fit the weights (see `dialogs.nlu`), because its per-call overhead alone exceeds our budget.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = [
    "MAX_CHARS",
    "NgramVocabulary",
    "WordVectors",
    "default_word_vectors",
    "extract_terms",
    "normalize",
]

#: Longer inputs are cut: intents are carried by short utterances, and this bounds latency.
MAX_CHARS = 1000

_CHAR_NGRAMS = (2, 3, 4, 5)
#: Weight of the character block relative to the word block (each is L2-normalized).
CHAR_WEIGHT = 1.0
_WORD_RE = re.compile(r"\w+")
_SPACE_RE = re.compile(r"\s+")
# Word terms get a prefix that cannot occur in normalized text, so they never collide with
# character n-grams.
_WORD_PREFIX = "\x00"

Floats = npt.NDArray[np.float32]


def normalize(text: str) -> str:
    """Return `text` NFKC-folded, case-folded, without control characters, whitespace collapsed."""
    text = text[: MAX_CHARS * 2]
    if text.isascii() and text.isprintable():  # the common case, ten times faster
        return " ".join(text.lower().split())[:MAX_CHARS]
    text = unicodedata.normalize("NFKC", text).casefold()
    # Control (Cc), format (Cf), surrogate (Cs), private use (Co) and unassigned (Cn) code
    # points carry no meaning for intent; whitespace controls become spaces first.
    text = "".join(
        ch if unicodedata.category(ch)[0] != "C" else (" " if ch.isspace() else "")
        for ch in _SPACE_RE.sub(" ", text)
    )
    return _SPACE_RE.sub(" ", text).strip()[:MAX_CHARS]


def extract_terms(text: str) -> dict[str, int]:
    """Count the word 1-2-grams and character 2-5-grams of an already normalized text."""
    words = _WORD_RE.findall(text)
    counts: dict[str, int] = {}
    get = counts.get
    for i, word in enumerate(words):
        key = _WORD_PREFIX + word
        counts[key] = get(key, 0) + 1
        if i:
            key = _WORD_PREFIX + words[i - 1] + " " + word
            counts[key] = get(key, 0) + 1
    if not words:
        return counts
    # Character n-grams run over the words only: punctuation and emoji are noise here.
    padded = " " + " ".join(words) + " "
    size = len(padded)
    for n in _CHAR_NGRAMS:
        for i in range(size - n + 1):
            key = padded[i : i + n]
            counts[key] = get(key, 0) + 1
    return counts


@dataclass(frozen=True, slots=True, kw_only=True)
class NgramVocabulary:
    """Term → column index and inverse document frequency, learnt from the training texts."""

    index: dict[str, int]
    idf: tuple[float, ...]

    @classmethod
    def fit(cls, documents: Sequence[dict[str, int]], *, min_df: int = 1) -> NgramVocabulary:
        """Keep the terms seen in at least `min_df` documents; smooth IDF as scikit-learn does."""
        df: dict[str, int] = {}
        for terms in documents:
            for term in terms:
                df[term] = df.get(term, 0) + 1
        kept = sorted(term for term, count in df.items() if count >= min_df)
        n = len(documents)
        idf = tuple(math.log((1 + n) / (1 + df[term])) + 1.0 for term in kept)
        return cls(index={term: i for i, term in enumerate(kept)}, idf=idf)

    def __len__(self) -> int:
        return len(self.index)

    def vectorize(self, terms: dict[str, int]) -> tuple[list[int], list[float]]:
        """Sparse sublinear TF-IDF vector: (column indices, values).

        Word and character terms are L2-normalized separately (as two scikit-learn vectorizers
        side by side would be): otherwise the many character n-grams drown the few words.
        """
        index = self.index
        idf = self.idf
        word_columns: list[int] = []
        word_values: list[float] = []
        char_columns: list[int] = []
        char_values: list[float] = []
        for term, count in terms.items():
            column = index.get(term)
            if column is None:
                continue
            if term[0] == _WORD_PREFIX:
                word_columns.append(column)
                word_values.append((1.0 + math.log(count)) * idf[column])
            else:
                char_columns.append(column)
                char_values.append((1.0 + math.log(count)) * idf[column])
        word_norm = math.sqrt(sum(v * v for v in word_values)) or 1.0
        char_norm = math.sqrt(sum(v * v for v in char_values)) / CHAR_WEIGHT or 1.0
        values = [v / word_norm for v in word_values]
        values.extend(v / char_norm for v in char_values)
        word_columns.extend(char_columns)
        return word_columns, values


class WordVectors:
    """Averaged static token embeddings from the files shipped in the `wordllama` wheel.

    The files are read directly: importing `wordllama` would configure the root logger and
    could reach for the network, and we need neither.
    """

    __slots__ = ("_matrix", "_skip", "_tokenizer")

    def __init__(self, matrix: Floats, tokenizer: Tokenizer, skip: frozenset[int]) -> None:
        self._matrix = matrix
        self._tokenizer = tokenizer
        self._skip = skip

    @property
    def dim(self) -> int:
        """Embedding width."""
        return int(self._matrix.shape[1])

    @classmethod
    def load(cls) -> WordVectors:
        """Load the default `l2_supercat` 256-dimension model, strictly from local files.

        Raises `FileNotFoundError` if the `wordllama` package (or its files) is missing.
        """
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        spec = importlib.util.find_spec("wordllama")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("the 'wordllama' package is not installed")
        root = Path(next(iter(spec.submodule_search_locations)))
        tokenizer = Tokenizer.from_file(
            str(root / "tokenizers" / "l2_supercat_tokenizer_config.json")
        )
        tokenizer.no_padding()
        tokenizer.no_truncation()
        weights = load_file(str(root / "weights" / "l2_supercat_256.safetensors"))
        matrix = np.ascontiguousarray(weights["embedding.weight"], dtype=np.float32)
        # Special tokens, raw UTF-8 byte fallbacks (how the vocabulary spells most Chinese)
        # and the bare word-start marker carry no meaning of their own.
        skip = frozenset(range(0, 3 + 256)) | {tokenizer.token_to_id("▁") or 0}
        return cls(matrix, tokenizer, skip)

    def embed(self, text: str) -> Floats:
        """Unit-length mean of the token vectors of `text` (zeros when nothing is known)."""
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        skip = self._skip
        ids = [i for i in encoding.ids if i not in skip]
        if not ids:
            return np.zeros(self._matrix.shape[1], dtype=np.float32)
        mean: Floats = self._matrix[ids].mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0.0 else mean

    def embed_many(self, texts: Iterable[str]) -> Floats:
        """Stack `embed` over `texts`."""
        rows = [self.embed(text) for text in texts]
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack(rows)


@functools.cache
def default_word_vectors() -> WordVectors:
    """The shared `WordVectors` (loaded once per process: 32 MB, read-only)."""
    return WordVectors.load()
