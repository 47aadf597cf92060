"""Feature extraction for the intent classifier (private to `dialogs.nlu`).

Two feature blocks, both computed the same way at training and at prediction time, on text that
`hub.text.normalize` has put in its one canonical form:

* sparse TF-IDF over word 1-2-grams (Chinese words by jieba, see `hub.text.Segmenter`),
  character 2-5-grams of Latin runs (typos), character 1-3-grams of the unsegmented Chinese
  runs (evidence whatever the segmentation did, even for a two-character line);
* optionally the average of static token embeddings shipped inside the `wordllama` wheel
  (a 32k-token vocabulary, 256 dimensions), which brings synonyms the examples lack.

The prediction path is plain Python plus a few small numpy calls: scikit-learn is only used to
fit the weights (see `dialogs.nlu`), because its per-call overhead alone exceeds our budget.
Training featurizes with numpy over integer arrays, never one dictionary per example: 15 000
examples would otherwise take hundreds of megabytes.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import json
import math
import mmap
import re
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from hub.text import has_cjk

if TYPE_CHECKING:
    from scipy import sparse  # type: ignore[import-untyped, unused-ignore]
    from tokenizers import Tokenizer

__all__ = [
    "NgramVocabulary",
    "WordVectors",
    "default_word_vectors",
    "extract_terms",
    "vector_norm",
]

_CHAR_NGRAMS = (2, 3, 4, 5)
_CJK_NGRAMS = (2, 3)
#: Weight of the character block relative to the word block (each is L2-normalized).
CHAR_WEIGHT = 1.0
_RUN_RE = re.compile(r"[^\W_]+")
_CJK_CHAR_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Word terms get a prefix that cannot occur in normalized text, so they never collide with
# character n-grams.
_WORD_PREFIX = "\x00"
_EMBED_BATCH = 1000

Floats = npt.NDArray[np.float32]


def extract_terms(
    normalized: str, words: Sequence[str], *, longest: int | None = None
) -> dict[str, int]:
    """Count the word 1-2-grams of `words` and the character n-grams of `normalized`.

    `longest`: no Latin character n-gram longer than this (a vocabulary that keeps none needs
    none counted: `NgramVocabulary.longest_char`); None for all of them.
    """
    counts: dict[str, int] = {}
    get = counts.get
    for i, word in enumerate(words):
        key = _WORD_PREFIX + word
        counts[key] = get(key, 0) + 1
        if i:
            key = _WORD_PREFIX + words[i - 1] + " " + word
            counts[key] = get(key, 0) + 1
    # Character n-grams run over the letter/digit runs only: punctuation and emoji are noise.
    # Chinese runs get 1-3-grams: on the demo bot's cross-validation, longer ones memorized
    # whole examples (-1.9 points of Chinese accuracy); single characters give a two-character
    # line some evidence whatever jieba made of it.
    runs = _RUN_RE.findall(normalized)
    if not runs:
        return counts
    if has_cjk(normalized):
        chinese = [run for run in runs if _CJK_CHAR_RE.match(run)]
        runs = [run for run in runs if not _CJK_CHAR_RE.match(run)]
        for run in chinese:
            for char in run:
                counts[char] = get(char, 0) + 1
            padded = " " + run + " "
            for n in _CJK_NGRAMS:
                for i in range(len(padded) - n + 1):
                    key = padded[i : i + n]
                    counts[key] = get(key, 0) + 1
        if not runs:
            return counts
    padded = " " + " ".join(runs) + " "
    size = len(padded)
    for n in _CHAR_NGRAMS:
        if longest is not None and n > longest:
            break
        for i in range(size - n + 1):
            key = padded[i : i + n]
            counts[key] = get(key, 0) + 1
    return counts


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class NgramVocabulary:
    """Term → column index and inverse document frequency, learnt from the training texts."""

    index: dict[str, int]
    idf: npt.NDArray[np.float64]  # per column
    word: npt.NDArray[np.bool_]  # per column: a word term (else a character term)
    #: Columns of single Chinese characters: evidence for ranking, too weak to decide alone
    #: ("香蕉" shares only "香" with "香港").
    single: frozenset[int] = frozenset()
    #: The longest character term kept (`fit_transform`'s `max_char_len`; None: any length).
    longest_char: int | None = None

    @classmethod
    def fit_transform(
        cls,
        documents: Iterable[dict[str, int]],
        *,
        min_df: int = 1,
        max_char_df: float = 1.0,
        max_char_len: int | None = None,
    ) -> tuple[NgramVocabulary, sparse.csr_matrix]:
        """Learn the vocabulary of `documents` (term counts) and return their TF-IDF rows.

        Keeps the terms seen in at least `min_df` documents, and the character terms seen in
        at most the share `max_char_df` of them and no longer than `max_char_len` characters
        (None: any length); IDF smoothed as scikit-learn does;
        sublinear TF; the word and character blocks of each row L2-normalized separately
        (as two scikit-learn vectorizers side by side would be).
        """
        from scipy import sparse

        # A new term gets the next id from the dictionary itself, so that one `extend` per
        # document runs in C (a Python loop over 2.5 M terms was a second of training).
        provisional: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        columns = array("i")  # 32-bit: a vocabulary never nears 2**31 terms
        counts = array("f")
        indptr = array("l", [0])
        for terms in documents:
            columns.extend(map(provisional.__getitem__, terms))
            counts.extend(terms.values())
            indptr.append(len(columns))
        n_docs = len(indptr) - 1
        cols = np.frombuffer(columns, dtype=np.int32) if columns else np.zeros(0, np.int32)
        tf = np.frombuffer(counts, dtype=np.float32) if counts else np.zeros(0, np.float32)
        df = np.bincount(cols, minlength=len(provisional))
        names = list(provisional)
        most = max_char_df * n_docs
        longest = math.inf if max_char_len is None else max_char_len
        kept = [
            i
            for i in range(len(names))
            if df[i] >= min_df
            and (names[i][0] == _WORD_PREFIX or (df[i] <= most and len(names[i]) <= longest))
        ]
        kept.sort(key=names.__getitem__)  # columns in term order: training is reproducible
        new_id = np.full(len(names), -1, dtype=np.int32)
        new_id[kept] = np.arange(len(kept))
        idf = np.log((1 + n_docs) / (1 + df[kept])) + 1.0
        word = np.array([names[i][0] == _WORD_PREFIX for i in kept], dtype=np.int32)
        vocabulary = cls(
            index={names[i]: j for j, i in enumerate(kept)},
            idf=idf,
            word=word.astype(bool),
            single=frozenset(j for j, i in enumerate(kept) if len(names[i]) == 1),
            longest_char=max_char_len,
        )
        # The rows are already in order and each term occurs once per document, so the CSR
        # arrays are built directly (32-bit indices): going through COO triplets kept several
        # 64-bit copies of every non-zero alive at once, the peak memory of training.
        offsets = np.frombuffer(indptr, dtype=np.int64)
        mapped = new_id[cols]
        del cols
        keep = mapped >= 0
        kept_before = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(keep, out=kept_before[1:])
        row_sizes = kept_before[offsets[1:]] - kept_before[offsets[:-1]]
        mapped = mapped[keep]
        values = np.log(tf[keep], dtype=np.float64)
        values += 1.0
        values *= idf[mapped]
        rows = np.repeat(np.arange(n_docs, dtype=np.int32), row_sizes)
        # One norm per (row, block): block 1 for words, 0 for characters.
        key = rows * 2 + word[mapped]
        del rows
        norms = np.sqrt(np.bincount(key, weights=values * values, minlength=2 * n_docs))
        norms[0::2] /= CHAR_WEIGHT
        norms[norms == 0.0] = 1.0
        values /= norms[key]
        del key
        row_offsets = np.zeros(n_docs + 1, dtype=np.int32)
        np.cumsum(row_sizes, out=row_offsets[1:], dtype=np.int32)
        matrix = sparse.csr_matrix((values, mapped, row_offsets), shape=(n_docs, len(kept)))
        return vocabulary, matrix

    def __len__(self) -> int:
        return len(self.index)

    def vectorize(
        self, terms: dict[str, int]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """Sparse sublinear TF-IDF vector of one text: (column indices, values), the word
        columns first."""
        # Array operations over the line's terms (~100): about as fast as a loop per term
        # (the dictionary look-ups are most of it), and the values come out as the array the
        # product with the weights needs. The idf and word flags are arrays too: two per
        # vocabulary, where lists held a Python object per column (~1 MB for the demo bot).
        count = len(terms)
        columns = np.fromiter(
            map(self.index.get, terms, itertools.repeat(-1, count)), dtype=np.intp, count=count
        )
        known = columns >= 0
        columns = columns[known]
        counts = np.fromiter(terms.values(), dtype=np.float64, count=count)[known]
        values = (1.0 + np.log(counts)) * self.idf[columns]
        word = self.word[columns]
        word_values, char_values = values[word], values[~word]
        word_norm = math.sqrt(float(word_values @ word_values)) or 1.0
        char_norm = math.sqrt(float(char_values @ char_values)) / CHAR_WEIGHT or 1.0
        return (
            np.concatenate((columns[word], columns[~word])),
            np.concatenate((word_values / word_norm, char_values / char_norm)),
        )


def vector_norm(vector: Floats) -> float:
    """`np.linalg.norm` of a float32 vector, to the same bits (the square root of its dot
    product with itself, taken in float32), without the wrapper's checks."""
    return float(np.sqrt(vector.dot(vector)))


class WordVectors:
    """Averaged static token embeddings from the files shipped in the `wordllama` wheel.

    The files are read directly: importing `wordllama` would configure the root logger and
    could reach for the network, and we need neither.
    """

    __slots__ = ("_matrix", "_skip", "_skip_mask", "_tokenizer")

    def __init__(
        self, matrix: npt.NDArray[np.floating[Any]], tokenizer: Tokenizer, skip: frozenset[int]
    ) -> None:
        self._matrix = matrix
        self._tokenizer = tokenizer
        self._skip = skip
        self._skip_mask = np.zeros(len(matrix), dtype=bool)  # `skip` as a mask, for batches
        self._skip_mask[[i for i in skip if i < len(matrix)]] = True

    @property
    def dim(self) -> int:
        """Embedding width."""
        return int(self._matrix.shape[1])

    @classmethod
    def load(cls) -> WordVectors:
        """Load the default `l2_supercat` 256-dimension model, strictly from local files.

        Raises `FileNotFoundError` if the `wordllama` package (or its files) is missing.
        """
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
        matrix = _mapped_table(root / "weights" / "l2_supercat_256.safetensors", "embedding.weight")
        # Special tokens, raw UTF-8 byte fallbacks (how the vocabulary spells most Chinese)
        # and the bare word-start marker carry no meaning of their own.
        skip = frozenset(range(0, 3 + 256)) | {tokenizer.token_to_id("▁") or 0}
        return cls(matrix, tokenizer, skip)

    def __reduce__(self) -> tuple[object, tuple[()]]:
        # There is one table, read from the installed files: a trained classifier sent from
        # the training process to the hub's carries no copy of it, only this reference.
        return default_word_vectors, ()

    def embed(self, text: str) -> Floats:
        """Unit-length mean of the token vectors of `text` (zeros when nothing is known)."""
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        skip = self._skip
        ids = [i for i in encoding.ids if i not in skip]
        if not ids:
            return np.zeros(self._matrix.shape[1], dtype=np.float32)
        # float16 → float32 is exact: the same rows, summed in float32 as before; the sum
        # and the norm without `mean`'s and `linalg.norm`'s Python wrappers (a tenth of
        # an embedding), to the same bits.
        mean: Floats = np.add.reduce(self._matrix[ids], axis=0, dtype=np.float32) / len(ids)
        norm = vector_norm(mean)
        return mean / norm if norm > 0.0 else mean

    def embed_many(self, texts: Sequence[str]) -> Floats:
        """`embed` of each of `texts`, as rows (batched: the tokenizer runs in Rust)."""
        from scipy import sparse

        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Training reads every row: a float32 copy for its time only (32 MB).
        matrix = np.asarray(self._matrix, dtype=np.float32)
        # In slices: the tokenizer's encodings of 15 000 lines at once (offsets, token strings)
        # were the peak memory of training, over 150 MB, for ids only.
        for start in range(0, len(texts), _EMBED_BATCH):
            batch = list(texts[start : start + _EMBED_BATCH])
            encodings = self._tokenizer.encode_batch(batch, add_special_tokens=False)
            sizes = np.fromiter((len(e.ids) for e in encodings), np.int64, len(encodings))
            ids = np.fromiter(
                itertools.chain.from_iterable(e.ids for e in encodings), np.int64, sizes.sum()
            )
            rows = np.repeat(np.arange(len(batch)), sizes)
            kept = ~self._skip_mask[ids]
            # The slice's token counts as a sparse (lines × vocabulary) matrix: one sparse
            # product sums the vectors of every line, half the CPU of gathering the token
            # rows and summing them with `np.add.reduceat`.
            counts = sparse.csr_matrix(
                (np.ones(int(kept.sum()), dtype=np.float32), (rows[kept], ids[kept])),
                shape=(len(batch), len(self._matrix)),
            )
            sums = np.asarray(counts @ matrix)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            # The unit-length mean is the unit-length sum.
            result[start : start + len(batch)] = sums / np.where(norms > 0.0, norms, 1.0)
        return result


@functools.cache
def default_word_vectors() -> WordVectors:
    """The shared `WordVectors` (loaded once per process, read-only)."""
    return WordVectors.load()


# safetensors' names of the little-endian element types a table may be stored in.
_SAFETENSORS_DTYPES = {"F16": "<f2", "F32": "<f4"}


def _mapped_table(path: Path, name: str) -> npt.NDArray[np.floating[Any]]:
    """The tensor `name` of the safetensors file `path`, memory-mapped read-only, as stored.

    A hub only looks up the rows of the tokens its customers write: mapped, only the pages of
    those rows are read, from the page cache every process shares, where the table loaded and
    widened to float32 was 32 MB of each process's own memory. The file is a little-endian
    8-byte header length, a JSON header, then the raw tensors.
    """
    with path.open("rb") as file:
        size = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(size))
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    entry = header[name]
    dtype = _SAFETENSORS_DTYPES.get(entry["dtype"])
    if dtype is None:
        raise ValueError(f"{path}: {name} is stored as {entry['dtype']}, not a float table")
    start, stop = entry["data_offsets"]
    rows, columns = entry["shape"]
    table = np.frombuffer(mapped, dtype=dtype, count=rows * columns, offset=8 + size + start)
    if stop - start != table.nbytes:
        raise ValueError(f"{path}: {name} holds {stop - start} bytes, not {rows}×{columns}")
    return table.reshape(rows, columns)
