"""Trained intent classifiers kept on disk, so that a restart does not train the same bot again.

Training the demo bot (fit, then calibration on held-back folds of two kinds of model) takes
a few seconds of CPU; a hub that restarts, `frontdesk dialogs test`, and every process of
`serve --workers N` would each pay it for a classifier another process already trained. The
file's name is the training's key (`dialogs.training.train`: the examples, thresholds and
options) hashed with a fingerprint of the code and libraries that make a classifier, so a
new release, a changed example or another scikit-learn version never reads an old one.

Where: `nlu` in Frontdesk's cache directory (`hub.cache_dir`: `FRONTDESK_CACHE_DIR`, else
`build/cache` of a checkout, else the system's temporary directory). It is created private
(0700) and only files this user owns are read, because a classifier is a pickle.
Each file is written whole to a temporary name and renamed, so a reader never sees half of
one; the `KEEP` most recently written or read are kept. The cache is an optimisation: a file
that cannot be read is retrained (and replaced), a directory that cannot be written is
warned about once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import pickle
from pathlib import Path

from dialogs.nlu import IntentClassifier
from hub.cache_dir import cache_directory, write_aside

log = logging.getLogger("frontdesk.dialogs")

__all__ = ["cache_dir", "load", "store"]

#: Classifiers kept; older files are removed when a new one is written.
KEEP = 16
#: The modules whose code decides what a trained classifier is.
_MODULES = (
    "dialogs.nlu",
    "dialogs.nlu_features",
    "dialogs.nlu_calibration",
    "dialogs.training",
    "hub.text",
    "hub.jieba_dict",
)
_LIBRARIES = ("numpy", "scipy", "scikit-learn", "wordllama", "jieba", "marisa-trie", "opencc")
_warned: list[bool] = []


def cache_dir() -> Path:
    """The classifiers' directory: `nlu` in Frontdesk's cache directory (`hub.cache_dir`)."""
    return cache_directory() / "nlu"


@functools.cache
def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in _MODULES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        digest.update(name.encode())
        digest.update(Path(origin).read_bytes() if origin else b"?")
    for library in _LIBRARIES:
        try:
            version = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{library}={version}".encode())
    return digest.hexdigest()


def _path(key: str) -> Path:
    name = hashlib.sha256(f"{_fingerprint()}:{key}".encode()).hexdigest()
    return cache_dir() / f"{name}.classifier"


def load(key: str) -> IntentClassifier | None:
    """The classifier trained for `key`, if a readable one is kept."""
    path = _path(key)
    try:
        with path.open("rb") as f:
            if os.fstat(f.fileno()).st_uid != os.getuid():
                return None  # not ours: never unpickled
            classifier = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as error:  # a damaged file is retrained, whatever broke in reading it
        log.info("retraining: the kept classifier %s could not be read (%s)", path.name, error)
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    if not isinstance(classifier, IntentClassifier):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # in use: the last to be pruned
    return classifier


def store(key: str, classifier: IntentClassifier) -> None:
    """Keep `classifier` for `key`; never raises."""
    path = _path(key)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_aside(path, pickle.dumps(classifier, protocol=pickle.HIGHEST_PROTOCOL))
        _prune(path.parent)
    except OSError as error:
        if not _warned:
            _warned.append(True)
            log.warning(
                "trained classifiers are not kept in %s (%s): each start trains again",
                path.parent,
                error.strerror or error,
            )


def _prune(folder: Path) -> None:
    kept = sorted(folder.glob("*.classifier"), key=_last_used, reverse=True)
    for old in kept[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()


def _last_used(path: Path) -> int:
    # Another process may prune the same folder at the same time: a file gone is oldest.
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
