"""Training the intent classifier for a bot, with a small cache.

A hot reload that only changes a flow's wording keeps the same examples: reusing the trained
classifier makes such reloads instant (and the test suite, which loads the demo bot many
times, fast). Classifiers are immutable after training, so sharing one is safe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from dialogs.nlu import IntentClassifier

log = logging.getLogger("frontdesk.dialogs")

_CACHE_SIZE = 4
_cache: OrderedDict[str, IntentClassifier] = OrderedDict()
_lock = threading.Lock()  # reloads train in a worker thread


def train(
    examples: Mapping[str, Sequence[str]],
    *,
    threshold: float | None = None,
    word_vectors: bool = True,
) -> IntentClassifier:
    """A classifier for `examples` (intent → utterances), trained or from the cache."""
    key = hashlib.sha256(
        json.dumps(
            [sorted((k, list(v)) for k, v in examples.items()), threshold, word_vectors]
        ).encode()
    ).hexdigest()
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        classifier = IntentClassifier.train(
            examples, threshold=threshold, word_vectors=word_vectors
        )
    except (ImportError, FileNotFoundError) as error:
        # The word-vector table is optional: a bot that answers a little less well beats
        # a bot that does not start.
        log.warning("word vectors unavailable (%s); training on n-grams only", error)
        classifier = IntentClassifier.train(examples, threshold=threshold, word_vectors=False)
    with _lock:
        _cache[key] = classifier
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return classifier
