"""Training in a short-lived process of its own, so that a hub never holds its libraries.

Fitting the intent classifier needs scikit-learn and SciPy, about 110 MiB once imported, and
a process keeps what its imports took for as long as it lives; predicting needs neither (a
few dictionary look-ups and small numpy products, `dialogs.nlu`). So a hub's dialog engine
fits and calibrates in a child process started for the purpose ("spawn": a fresh interpreter,
never a fork of a threaded server) and ended once the classifier is back, which returns all
of its memory. The classifier comes back pickled: its weights only, as
`IntentClassifier.__reduce__` sends them.

What the fit raises in the child is raised here, the same type with the same message (a
bot with fewer than two intents still reads "cannot train intents: …" in `dialogs check` and
in the reload log). CLI tools, benchmarks and tests train in their own process, as before.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from dialogs.nlu_features import default_word_vectors
from hub.text import tokenize

__all__ = ["in_process_of_its_own", "warm_up"]

T = TypeVar("T")


def in_process_of_its_own(
    call: functools.partial[T], *, meanwhile: Callable[[], object] = lambda: None
) -> T:
    """`call()` in a new process, ended before this returns; `meanwhile` runs here while
    the child works. `call` must pickle (a module-level function and plain arguments)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as child:
        result = child.submit(call)
        meanwhile()
        return result.result()


def warm_up() -> None:
    """Load what predicting needs in this process (jieba's dictionary, the word vectors'
    tokenizer), so that the first customer after a start does not wait for it: run while
    the child trains, it costs no time to healthy."""
    tokenize("你好世界")
    with contextlib.suppress(ImportError, FileNotFoundError):
        default_word_vectors()
