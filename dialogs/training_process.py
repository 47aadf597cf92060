"""Training in a short-lived process of its own, so that a hub never holds its libraries.

Fitting the intent classifier needs scikit-learn and SciPy, about 110 MiB once imported, and
a process keeps what its imports took for as long as it lives; predicting needs neither (a
few dictionary look-ups and small numpy products, `dialogs.nlu`). So a hub's dialog engine
fits and calibrates in a child process started for the purpose and ended once the
classifier is back, which returns all of its memory. The child is a fresh interpreter running
this module (`python -m dialogs.training_process`), never a fork of a threaded server, and
never a re-run of whatever script started the hub (as `multiprocessing`'s "spawn" would be).
The call goes to it pickled on its stdin, the classifier comes back pickled on its stdout:
its weights only, as `IntentClassifier.__reduce__` sends them.

What the fit raises in the child is raised here, the same type with the same message (a
bot with fewer than two intents still reads "cannot train intents: …" in `dialogs check` and
in the reload log), with the child's traceback as a note. CLI tools, benchmarks and tests
train in their own process, as before.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Callable
from typing import TypeVar

from dialogs.nlu_features import default_word_vectors
from hub.text import tokenize

__all__ = ["TrainingStopped", "in_process_of_its_own", "warm_up"]

T = TypeVar("T")


class TrainingStopped(RuntimeError):
    """The training process ended without an answer (killed, out of memory …)."""


def in_process_of_its_own(
    call: functools.partial[T], *, meanwhile: Callable[[], object] = lambda: None
) -> T:
    """`call()` in a new process, ended before this returns; `meanwhile` runs here while
    the child works. `call` must pickle (a module-level function and plain arguments)."""
    payload = pickle.dumps(sys.path) + pickle.dumps(call)
    child = subprocess.Popen(
        [sys.executable, "-m", __name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    with child:
        with contextlib.suppress(BrokenPipeError):  # it died first: reported below
            child.stdin.write(payload)
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


def warm_up() -> None:
    """Load what predicting needs in this process (jieba's dictionary, the word vectors'
    tokenizer), so that the first customer after a start does not wait for it: run while
    the child trains, it adds little time to healthy."""
    tokenize("你好世界")
    with contextlib.suppress(ImportError, FileNotFoundError):
        default_word_vectors()


def _serve() -> None:
    """The child: one call read from stdin, its outcome written to stdout."""
    # Only the answer goes to the real stdout; anything a library prints goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.path[:] = pickle.load(sys.stdin.buffer)
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
