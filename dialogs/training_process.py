"""Training in a short-lived process of its own, so that a hub never holds its libraries.

Fitting the intent classifier needs scikit-learn and SciPy, about 110 MiB once imported, and
a process keeps what its imports took for as long as it lives; predicting needs neither (a
few dictionary look-ups and small numpy products, `dialogs.nlu`). So a hub's dialog engine
fits and calibrates in a child process started for the purpose and ended once the
classifier is back, which returns all of its memory. The child is a fresh interpreter running
this module (`python -m dialogs.training_process`), never a fork of a threaded server, and
never a re-run of whatever script started the hub (as `multiprocessing`'s "spawn" would be).
The call goes to it pickled on its stdin, the classifier comes back pickled on its stdout:
its weights only, as `IntentClassifier.__reduce__` sends them. The hub cuts the examples into
words itself (`cuts_of`: it loads jieba's dictionary to predict anyway) while the child
imports its libraries, so the child never loads that dictionary (`KnownCuts`).

What the fit raises in the child is raised here, the same type with the same message (a
bot with fewer than two intents still reads "cannot train intents: …" in `dialogs check` and
in the reload log), with the child's traceback as a note. CLI tools, benchmarks and tests
train in their own process, as before.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from dialogs.nlu_features import default_word_vectors
from hub.text import Segmenter, normalize

__all__ = ["KnownCuts", "TrainingStopped", "cuts_of", "in_process_of_its_own", "warm_up"]

T = TypeVar("T")


class TrainingStopped(RuntimeError):
    """The training process ended without an answer (killed, out of memory …)."""


def in_process_of_its_own(
    make_call: Callable[[], functools.partial[T]],
    *,
    meanwhile: Callable[[], object] = lambda: None,
) -> T:
    """`make_call()()` in a new process, ended before this returns.

    The child is started first and imports its libraries while `make_call` prepares the call
    here; `meanwhile` runs here while the child works. The call must pickle (a module-level
    function and plain arguments)."""
    child = subprocess.Popen(
        [sys.executable, "-m", __name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    with child:
        with contextlib.suppress(BrokenPipeError):  # it died first: reported below
            child.stdin.write(pickle.dumps(sys.path))
            child.stdin.flush()
            child.stdin.write(pickle.dumps(make_call()))
            child.stdin.close()
        meanwhile()
        answer = child.stdout.read()
    if child.returncode != 0 or not answer:
        raise TrainingStopped(f"the training process stopped (exit code {child.returncode})")
    succeeded, outcome = pickle.loads(answer)
    if not succeeded:
        raise outcome
    result: T = outcome
    return result


def cuts_of(texts: Iterable[Iterable[str]], vocabulary: Sequence[str]) -> dict[str, list[str]]:
    """The words `Segmenter(vocabulary)` cuts each of `texts` (lists of examples) into, by
    normalized text: what `KnownCuts` is told."""
    segmenter = Segmenter(vocabulary)
    normalized = {normalize(text) for group in texts for text in group}
    return {text: segmenter.tokens(text) for text in normalized if text}


class KnownCuts(Segmenter):
    """A `Segmenter(vocabulary)` told the words of the texts it will see (`cuts_of`).

    Training and calibrating only ever cut the bot's examples, so the training process never
    loads jieba's dictionary; a text it was not told is cut as `Segmenter` would cut it. It
    travels back to the hub as the plain `Segmenter(vocabulary)` it stands for.
    """

    __slots__ = ("_known", "_vocabulary")

    def __init__(self, vocabulary: Sequence[str], known: Mapping[str, list[str]]) -> None:
        super().__init__(vocabulary)
        self._vocabulary = tuple(vocabulary)
        self._known = known

    def tokens(self, normalized: str) -> list[str]:
        known = self._known.get(normalized)
        return list(known) if known is not None else super().tokens(normalized)

    def __reduce__(self) -> tuple[object, tuple[tuple[str, ...]]]:
        return Segmenter, (self._vocabulary,)


def warm_up() -> None:
    """Load what predicting needs in this process, while the child trains, so that the first
    customer after a start does not wait for it: the word vectors' tokenizer, and jieba's
    dictionary if `cuts_of` did not (a bot without Chinese examples still gets Chinese)."""
    Segmenter().tokens("你好世界")
    with contextlib.suppress(ImportError, FileNotFoundError):
        default_word_vectors()


def _serve() -> None:
    """The child: one call read from stdin, its outcome written to stdout."""
    # Only the answer goes to the real stdout; anything a library prints goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.path[:] = pickle.load(sys.stdin.buffer)
    # What the fit will import, imported while the hub prepares the call.
    with contextlib.suppress(ImportError):
        importlib.import_module("dialogs.training")
        importlib.import_module("sklearn.svm")
    call = pickle.load(sys.stdin.buffer)
    try:
        outcome: tuple[bool, object] = (True, call())
    except Exception as error:
        error.add_note("in the training process:\n" + traceback.format_exc())
        outcome = (False, error)
    with answers:
        pickle.dump(outcome, answers)


if __name__ == "__main__":
    _serve()
