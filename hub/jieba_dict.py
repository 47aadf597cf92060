"""jieba's dictionary in 3 MB instead of 62 MiB: the same words, frequencies and cuts.

Stock jieba holds its dictionary as one Python dict of every word and every prefix of a word
(498,113 entries for 349,045 words): about 62 MiB of each process that segments Chinese, a
fifth of a hub's memory budget. `CompactTokenizer` is a `jieba.Tokenizer` whose `FREQ` is a
marisa trie of the same words (1.2 MB) beside an array of their frequencies (1.4 MB), read
from the same `dict.txt` with the same total, so it cuts every text exactly as jieba does
(`tests/hub/test_jieba_dict.py` compares them line by line on the project's Chinese corpus).

```python
tokenizer = compact_tokenizer()
tokenizer.lcut("你们卖不卖礼品卡")   # what jieba.lcut says
```

The trie answers jieba's three questions of its dict: is this fragment a prefix of a word
(`frag in FREQ`, which ends its scan), a word's frequency (`FREQ.get`, 0 for a mere prefix)
and the total. The scan for the words starting at each character is one call into the trie
(`iter_prefixes_with_ids`), not one dict look-up per prefix. Words added at run time
(`add_word`, `suggest_freq(..., tune=True)`) go in a small dict over the trie, as they
would in jieba's own.

Building the trie reads the 349,045 lines of `dict.txt` (about 1 s); it is kept in a cache
file named after a hash of `dict.txt`, so a changed dictionary builds a new one. The cache
directory is `FRONTDESK_CACHE_DIR`, else `build/cache` of a source checkout, else
`frontdesk` in the system's temporary directory (where jieba keeps its own cache); if none
can be written the trie is built in memory on every start.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
import threading
import zlib
from array import array
from math import log
from pathlib import Path
from typing import Any, NamedTuple

import marisa_trie

from hub.cache_dir import cache_directory, write_aside

__all__ = [
    "CompactTokenizer",
    "Frequencies",
    "cache_directory",
    "compact_tokenizer",
    "default_dictionary",
    "tokenizer_for",
]

log_ = logging.getLogger(__name__)

#: Bumped when the cache file's layout changes, so an old file is never misread.
_FORMAT = b"frontdesk-jieba-dict 2\n"
# The format line, then the total, the number of words, the longest word and a CRC-32 of the
# rest (a damaged trie would still load, and cut wrongly), each in 8 bytes.
_HEADER = len(_FORMAT) + 4 * 8


def _import_jieba() -> Any:
    """`jieba`, without the `pkg_resources` its `_compat` imports only to open files.

    Importing `pkg_resources` costs a process about 10 MiB and 0.1 s; jieba falls back to
    plain `open` when it is missing, and nothing else in a hub uses it. A `None` entry in
    `sys.modules` is how Python spells "not importable".
    """
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba  # type: ignore[import-untyped, unused-ignore]

        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba  # type: ignore[import-untyped, unused-ignore]
    finally:
        del sys.modules["pkg_resources"]
    return jieba


class Frequencies:
    """What jieba reads of its `FREQ` dict, answered by a trie and an array.

    `frag in freq`: `frag` is a word or a prefix of one; `freq.get(frag)`: its frequency, 0
    for a prefix that is no word, `default` otherwise; `freq[word] = n` (jieba's `add_word`)
    goes in `added`, which is read first.
    """

    __slots__ = ("added", "counts", "trie")

    def __init__(self, trie: marisa_trie.Trie, counts: array[int]) -> None:
        self.trie = trie
        self.counts = counts
        self.added: dict[str, int] = {}

    def __contains__(self, frag: object) -> bool:
        if frag in self.added:
            return True
        return isinstance(frag, str) and self._starts_a_word(frag)

    def get(self, frag: str, default: int | None = None) -> int | None:
        """The frequency of `frag` as jieba's dict would give it."""
        added = self.added.get(frag)
        if added is not None:
            return added
        key = self.trie.get(frag)
        if key is not None:
            count: int = self.counts[key]
            return count
        return 0 if self._starts_a_word(frag) else default

    def _starts_a_word(self, frag: str) -> bool:
        # (`Trie.has_keys_with_prefix` would say the same, but marisa-trie deprecates it.)
        return bool(frag) and next(self.trie.iterkeys(frag), None) is not None

    def __getitem__(self, frag: str) -> int:
        count = self.get(frag)
        if count is None:
            raise KeyError(frag)
        return count

    def __setitem__(self, word: str, count: int) -> None:
        self.added[word] = count

    def __len__(self) -> int:
        return len(self.trie) + len(self.added)


_jieba: Any = _import_jieba()
_Tokenizer: Any = _jieba.Tokenizer


class CompactTokenizer(_Tokenizer):  # type: ignore[misc]
    """`jieba.Tokenizer` over `Frequencies`: the same cuts, a twentieth of the memory."""

    def __init__(self, freq: Frequencies, total: int, longest: int) -> None:
        super().__init__()
        self.FREQ = freq
        self.total = total
        self.initialized = True  # never `initialize()`: it would load jieba's own dict
        self._longest = longest  # no word is longer: the scan needs no more of a run

    def get_DAG(self, sentence: str) -> dict[int, list[int]]:
        """For each position, the last positions of the dictionary words that start there
        (itself when none does), as `jieba.Tokenizer.get_DAG`, in one trie call each."""
        freq = self.FREQ
        if not isinstance(freq, Frequencies) or freq.added:
            # Run-time words sit outside the trie: jieba's own scan asks `freq` for each.
            # (So does a dictionary of jieba's own, after a `set_dictionary`.)
            dag: dict[int, list[int]] = super().get_DAG(sentence)
            return dag
        prefixes = freq.trie.iter_prefixes_with_ids
        counts = freq.counts
        longest = self._longest
        found = _Dag()
        found_counts = found.counts
        for k in range(len(sentence)):
            ends = []
            ends_counts = []
            for word, key in prefixes(sentence[k : k + longest]):
                count = counts[key]
                if count:
                    ends.append(k + len(word) - 1)
                    ends_counts.append(count)
            if ends:
                found[k] = ends
                found_counts.append(ends_counts)
            else:
                found[k] = [k]
                found_counts.append(_NO_WORD)
        return found

    def calc(
        self,
        sentence: str,
        DAG: dict[int, list[int]],
        route: dict[int, tuple[float, int]],
    ) -> None:
        """The best path through `DAG`, as `jieba.Tokenizer.calc`: the same arithmetic on
        the same numbers (`log(FREQ.get(word) or 1)`), in the same order; the frequencies
        are those `get_DAG` found beside the words, not looked up again."""
        if not isinstance(DAG, _Dag):
            super().calc(sentence, DAG, route)
            return
        counts = DAG.counts
        n = len(sentence)
        route[n] = (0, 0)
        logtotal = log(self.total)
        for idx in range(n - 1, -1, -1):
            route[idx] = max(
                (log(count) - logtotal + route[x + 1][0], x)
                for x, count in zip(DAG[idx], counts[idx], strict=True)
            )


#: The frequency `calc` gives a lone character that starts no word (jieba: `None or 1`).
_NO_WORD = [1]


class _Dag(dict[int, list[int]]):
    """`get_DAG`'s answer, with the frequency of each word it lists (`counts[start][i]`
    for `self[start][i]`), which `calc` reads next."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        super().__init__()
        self.counts: list[list[int]] = []


def default_dictionary() -> Path:
    """jieba's own `dict.txt`, the one `jieba.lcut` reads."""
    return Path(str(_jieba.__file__)).parent / str(_jieba.DEFAULT_DICT_NAME)


class _Built(NamedTuple):
    trie: marisa_trie.Trie
    counts: array[int]  # by the trie's key id
    total: int
    longest: int  # characters of the longest word


def _parse(dictionary: bytes) -> tuple[dict[str, int], int]:
    """Words → frequencies and the total, as `jieba.Tokenizer.gen_pfdict` reads the file
    (lines split at b"\\n" only, stripped, then decoded): a word listed twice keeps its last
    frequency and counts twice in the total."""
    words: dict[str, int] = {}
    total = 0
    for raw in dictionary.split(b"\n"):
        line = raw.strip().decode("utf-8")
        if not line:
            continue  # the end of the file
        word, count = line.split(" ")[:2]
        words[word] = int(count)
        total += int(count)
    return words, total


def build(dictionary: bytes) -> _Built:
    """The trie, the frequencies by key id, the total and the longest word of a jieba
    `dict.txt`."""
    words, total = _parse(dictionary)
    trie = marisa_trie.Trie(words)
    counts = array("I", bytes(4 * len(trie)))  # jieba's largest frequency is 883,634
    key_of = trie.key_id
    for word, count in words.items():
        counts[key_of(word)] = count
    return _Built(trie, counts, total, max(map(len, words), default=1))


def _dump(built: _Built) -> bytes:
    trie: bytes = built.trie.tobytes()
    body = built.counts.tobytes() + trie
    numbers = (built.total, len(built.counts), built.longest, zlib.crc32(body))
    return _FORMAT + b"".join(number.to_bytes(8, "little") for number in numbers) + body


def _load(data: bytes) -> _Built | None:
    if not data.startswith(_FORMAT) or len(data) < _HEADER:
        return None
    total, size, longest, crc = (
        int.from_bytes(data[start : start + 8], "little")
        for start in range(len(_FORMAT), _HEADER, 8)
    )
    if zlib.crc32(data[_HEADER:]) != crc:
        return None
    counts = array("I")
    counts.frombytes(data[_HEADER : _HEADER + counts.itemsize * size])
    trie = marisa_trie.Trie().frombytes(data[_HEADER + counts.itemsize * size :])
    if len(counts) != size or len(trie) != size:
        return None
    return _Built(trie, counts, total, longest)


def _cached(dictionary: bytes, directory: Path) -> _Built:
    digest = hashlib.sha256(dictionary).hexdigest()[:20]
    # The counts are native machine words: their byte order is part of the name.
    path = directory / f"jieba-{digest}-{sys.byteorder}.trie"
    with contextlib.suppress(OSError, ValueError, RuntimeError):
        loaded = _load(path.read_bytes())
        if loaded is not None:
            return loaded
    built = build(dictionary)
    try:
        # 0644: with mkstemp's 0600, other users would build it again.
        write_aside(path, _dump(built), mode=0o644)
    except OSError as error:
        log_.debug("jieba dictionary cache not written in %s: %s", directory, error)
    return built


def tokenizer_for(dictionary: bytes, cache: Path) -> CompactTokenizer:
    """A new `CompactTokenizer` over `dictionary` (the bytes of a jieba `dict.txt`), its trie
    read from `cache` if built there before, else built and saved there (when it can be)."""
    built = _cached(dictionary, cache)
    return CompactTokenizer(Frequencies(built.trie, built.counts), built.total, built.longest)


_lock = threading.Lock()
_tokenizer: CompactTokenizer | None = None


def compact_tokenizer() -> CompactTokenizer:
    """The process's `CompactTokenizer` over jieba's default dictionary (built once)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            _tokenizer = tokenizer_for(default_dictionary().read_bytes(), cache_directory())
        return _tokenizer
