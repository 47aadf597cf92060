"""Intent classification for the dialog engine: trained from example utterances at load time.

```python
clf = IntentClassifier.train({"greet": ["hello", "你好"], "refund": ["I want my money back"]})
p = clf.predict("helo there")
p.intent          # "greet", or None when out of scope (confidence below `clf.threshold`)
p.ranking[0]      # IntentScore(intent="greet", confidence=0.87)
```

The model is linear over TF-IDF word 1-2-grams and character 2-5-grams (English and Chinese
alike, no word segmentation, tolerant to typos) plus averaged static token embeddings from the
`wordllama` wheel (synonyms the examples lack). Its scores are the logits of
a multinomial logistic regression plus half the scores of a linear SVM fitted on the same
features: one weight matrix, so one product scores an utterance; the confidences are the
softmax of these scores.
Everything runs on the CPU from installed files; nothing is downloaded. scikit-learn fits the
weights; prediction is a few dictionary look-ups and small numpy products (well under a
millisecond), because scikit-learn's own per-call overhead is several milliseconds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dialogs.nlu_features import (
    NgramVocabulary,
    WordVectors,
    default_word_vectors,
    extract_terms,
    normalize,
)

__all__ = ["IntentClassifier", "IntentScore", "Prediction", "default_threshold"]

#: How many intents `Prediction.ranking` lists (fewer if the bot has fewer).
RANKING_SIZE = 5

# Hyper-parameters chosen on validation data only (CLINC150's validation split and a held-out
# tenth of Banking77's training split, see bench/nlu.py and docs/nlu-bench-results.md):
# inverse L2 regularization of the logistic regression and of the linear SVM; the weight of the
# embedding block relative to the two unit-length n-gram blocks; and the weight of the SVM's
# scores added to the logistic regression's logits. The SVM sharpens the ranking of the
# intents; a small weight leaves the softmax confidences on the logistic regression's scale,
# which `default_threshold` and the bots' `nlu_threshold`s were set on.
_C = 10.0
_SVM_C = 1.0
_VECTOR_WEIGHT = 1.2
_SVM_BLEND = 0.5

Floats = npt.NDArray[np.float32]


def default_threshold(intent_count: int) -> float:
    """The out-of-scope threshold used when the operator sets none.

    Confidences are probabilities spread over all intents, so the same doubt gives lower
    confidences in a bigger bot: 0.75 for 2 intents, 0.6 for 3, 0.33 for 30, 0.31 for 150.
    On 30-intent bots drawn from CLINC150 (10 examples each), 0.33 kept 89.5 % of the in-scope
    utterances correct and caught 77 % of the out-of-scope ones.
    """
    return min(0.9, 0.3 + 0.9 / max(intent_count, 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentScore:
    """One intent and the classifier's confidence in it, in [0, 1]."""

    intent: str
    confidence: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Prediction:
    """The outcome of `IntentClassifier.predict`.

    `intent` is the best intent, or None when its confidence is below the threshold (out of
    scope). `confidence` is the best intent's confidence either way. `ranking` lists the best
    intents, best first.
    """

    intent: str | None
    confidence: float
    ranking: tuple[IntentScore, ...]


class IntentClassifier:
    """A trained intent classifier; build it with `IntentClassifier.train`.

    Instances are immutable and safe to share between conversations and threads.
    """

    __slots__ = ("_bias", "_intents", "_ngram_weights", "_threshold", "_vectors", "_vocabulary")

    def __init__(
        self,
        *,
        intents: tuple[str, ...],
        vocabulary: NgramVocabulary,
        ngram_weights: Floats,
        bias: Floats,
        vectors: _VectorBlock | None,
        threshold: float,
    ) -> None:
        if not 0.0 <= threshold <= 1.0 or math.isnan(threshold):
            raise ValueError(f"threshold must be within [0, 1], got {threshold!r}")
        self._intents = intents
        self._vocabulary = vocabulary
        self._ngram_weights = ngram_weights  # (n-gram terms, intents)
        self._bias = bias  # (intents,)
        self._vectors = vectors
        self._threshold = float(threshold)

    @property
    def intents(self) -> tuple[str, ...]:
        """The intents this classifier knows, in training order."""
        return self._intents

    @property
    def threshold(self) -> float:
        """Confidence below which `predict` answers out of scope (`intent=None`)."""
        return self._threshold

    def with_threshold(self, threshold: float) -> IntentClassifier:
        """A classifier sharing this one's weights, with another threshold."""
        return IntentClassifier(
            intents=self._intents,
            vocabulary=self._vocabulary,
            ngram_weights=self._ngram_weights,
            bias=self._bias,
            vectors=self._vectors,
            threshold=threshold,
        )

    @classmethod
    def train(
        cls,
        examples: Mapping[str, Sequence[str]],
        *,
        threshold: float | None = None,
        word_vectors: bool = True,
    ) -> IntentClassifier:
        """Fit a classifier on `examples` (intent → example utterances, any language mix).

        `threshold` defaults to `default_threshold(len(examples))`. `word_vectors=False` leaves out the
        `wordllama` embeddings (n-grams only: a little less accurate, no 32 MB matrix).
        Raises `ValueError` unless at least two intents have a non-blank example.
        """
        # scikit-learn is imported here: predicting needs none of it.
        from scipy import sparse  # type: ignore[import-untyped, unused-ignore]
        from sklearn.linear_model import (  # type: ignore[import-untyped, unused-ignore]
            LogisticRegression,
        )
        from sklearn.svm import LinearSVC  # type: ignore[import-untyped, unused-ignore]
        from threadpoolctl import (  # type: ignore[import-untyped, unused-ignore]
            threadpool_limits,
        )

        intents = tuple(examples)
        texts: list[str] = []
        labels: list[int] = []
        for label, intent in enumerate(intents):
            if isinstance(examples[intent], str):
                raise TypeError(f"examples of {intent!r} must be a sequence of strings")
            for example in examples[intent]:
                text = normalize(example)
                if text:
                    texts.append(text)
                    labels.append(label)
        if len(set(labels)) < 2 or len(set(labels)) < len(intents):
            raise ValueError("every intent needs a non-blank example, and at least two intents")

        documents = [extract_terms(text) for text in texts]
        vocabulary = NgramVocabulary.fit(documents)
        rows = [vocabulary.vectorize(terms) for terms in documents]
        features = sparse.csr_matrix(
            (
                np.fromiter((v for _, values in rows for v in values), dtype=np.float64),
                np.fromiter((c for columns, _ in rows for c in columns), dtype=np.int64),
                np.cumsum([0] + [len(columns) for columns, _ in rows]),
            ),
            shape=(len(rows), len(vocabulary)),
        )
        block = _VectorBlock.fit(default_word_vectors(), texts) if word_vectors else None
        if block is not None:
            dense = np.vstack([block.embed(text) for text in texts]) * _VECTOR_WEIGHT
            features = sparse.hstack([features, sparse.csr_matrix(dense)], format="csr")

        target = np.asarray(labels)
        logistic = LogisticRegression(C=_C, max_iter=1000)
        svm = LinearSVC(C=_SVM_C, random_state=0)  # its coordinate descent shuffles
        # One BLAS thread: on a small shared machine, threads spinning against each other made
        # the fit of a 30-intent bot six times slower; and the hub has other work to do.
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            # Hitting max_iter on a large bot costs a little accuracy, not correctness.
            warnings.simplefilter("ignore", category=UserWarning)
            logistic.fit(features, target)
            svm.fit(features, target)
        lr_coef, lr_bias = _per_intent(logistic.coef_, logistic.intercept_)
        svm_coef, svm_bias = _per_intent(svm.coef_, svm.intercept_)
        coef = lr_coef + _SVM_BLEND * svm_coef
        bias = lr_bias + _SVM_BLEND * svm_bias
        n_terms = len(vocabulary)
        if block is not None:
            block = block.with_weights(
                np.ascontiguousarray(coef[:, n_terms:].T * _VECTOR_WEIGHT, dtype=np.float32)
            )
        return cls(
            intents=intents,
            vocabulary=vocabulary,
            ngram_weights=np.ascontiguousarray(coef[:, :n_terms].T),
            bias=bias,
            vectors=block,
            threshold=default_threshold(len(intents)) if threshold is None else threshold,
        )

    def predict(self, text: str) -> Prediction:
        """Classify one utterance. Blank or meaningless text is out of scope; never raises."""
        normalized = normalize(text) if isinstance(text, str) else ""
        columns, values = self._vocabulary.vectorize(extract_terms(normalized))
        if not columns:
            # No known n-gram: nothing resembles any example, whatever the embeddings say.
            return self._out_of_scope()
        logits = self._bias + np.asarray(values, dtype=np.float32) @ self._ngram_weights[columns]
        if self._vectors is not None:
            logits += self._vectors.scores(normalized)
        exp = np.exp(logits - logits.max())
        probabilities = exp / exp.sum()
        k = min(RANKING_SIZE, len(self._intents))
        best = np.argpartition(-probabilities, k - 1)[:k] if k < len(probabilities) else None
        order = (
            best[np.argsort(-probabilities[best])]
            if best is not None
            else np.argsort(-probabilities)
        )
        intents = self._intents
        ranking = tuple(
            IntentScore(intent=intents[i], confidence=float(probabilities[i]))
            for i in order.tolist()
        )
        confidence = ranking[0].confidence
        return Prediction(
            intent=ranking[0].intent if confidence >= self._threshold else None,
            confidence=confidence,
            ranking=ranking,
        )

    def _out_of_scope(self) -> Prediction:
        ranking = tuple(
            IntentScore(intent=intent, confidence=0.0) for intent in self._intents[:RANKING_SIZE]
        )
        return Prediction(intent=None, confidence=0.0, ranking=ranking)


def _per_intent(coef: object, intercept: object) -> tuple[Floats, Floats]:
    """scikit-learn's (intents, features) weights and (intents,) biases, also for two intents.

    With two classes scikit-learn keeps one row, scoring the second against the first; it is
    split into two opposite halves so that the softmax over the two gives the same odds.
    """
    weights = np.asarray(coef, dtype=np.float32)
    bias = np.asarray(intercept, dtype=np.float32).reshape(-1)
    if weights.shape[0] == 1:
        weights = np.vstack([-weights / 2, weights / 2])
        bias = np.array([-bias[0] / 2, bias[0] / 2], dtype=np.float32)
    return weights, bias


@dataclass(frozen=True, slots=True, kw_only=True)
class _VectorBlock:
    """Centred averaged token embeddings and, once trained, their weights per intent."""

    vectors: WordVectors
    mean: Floats  # mean training embedding, removed so that the block is centred
    weights: Floats | None = None  # (dimensions, intents)

    @classmethod
    def fit(cls, vectors: WordVectors, texts: Sequence[str]) -> _VectorBlock:
        mean = vectors.embed_many(texts).mean(axis=0).astype(np.float32)
        return cls(vectors=vectors, mean=mean)

    def with_weights(self, weights: Floats) -> _VectorBlock:
        return _VectorBlock(vectors=self.vectors, mean=self.mean, weights=weights)

    def embed(self, text: str) -> Floats:
        centred = self.vectors.embed(text) - self.mean
        norm = float(np.linalg.norm(centred))
        return centred / norm if norm > 1e-6 else np.zeros_like(centred)

    def scores(self, text: str) -> Floats:
        assert self.weights is not None
        result: Floats = self.embed(text) @ self.weights
        return result
