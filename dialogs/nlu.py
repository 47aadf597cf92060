"""Intent classification for the dialog engine: trained from example utterances at load time.

```python
clf = IntentClassifier.train({"greet": ["hello", "你好"], "refund": ["I want my money back"]})
p = clf.predict("helo there")
p.intent          # "greet", or None when out of scope (confidence below `clf.threshold`)
p.ranking[0]      # IntentScore(intent="greet", confidence=0.87)
```

Text is normalized first (`hub.text.normalize`: Traditional → Simplified, full-width →
half-width, contractions spelt out, Chinese words by jieba). The model is linear over TF-IDF
word 1-2-grams, character 2-5-grams (tolerant to typos) and single Chinese characters, plus
averaged static token embeddings from the `wordllama` wheel (synonyms the examples lack). Its
scores are those of a linear SVM (one-vs-rest): one weight matrix, so one product scores an
utterance; the confidences are the softmax of the scaled scores. A bot of 1,000 examples or
more adds a multinomial naive Bayes over the same n-grams (folded into the same weights) and a
vote of the nearest examples of its best intents, and scales the confidences by the line's
cosine to the nearest example of the best intent. Lines the bot must not answer (a bot's
`out_of_scope` examples) are one more class: a line nearer to them than to any intent is out
of scope whatever its best intent's confidence.
Everything runs on the CPU from installed files; nothing is downloaded. scikit-learn fits the
weights; prediction is a few dictionary look-ups and small numpy products (well under a
millisecond), because scikit-learn's own per-call overhead is several milliseconds.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from dialogs.nlu_features import (
    NgramVocabulary,
    WordVectors,
    default_word_vectors,
    extract_terms,
    vector_norm,
)
from hub.memo import Memo
from hub.text import Segmenter, normalize

if TYPE_CHECKING:
    from scipy import sparse  # type: ignore[import-untyped, unused-ignore]
    from sklearn.svm import LinearSVC  # type: ignore[import-untyped, unused-ignore]

    from dialogs.nlu_calibration import Calibration

__all__ = [
    "OUT_OF_SCOPE",
    "IntentClassifier",
    "IntentScore",
    "Prediction",
    "default_threshold",
    "large_by_size",
]

#: The class of the lines no intent covers (a bot's `out_of_scope` examples): trained like an
#: intent, never predicted as one. Why a class and not only the threshold: on CLINC150's
#: validation split, its 100 `oos_train` lines as a class raised the in-scope accuracy at
#: 65 / 70 / 80 % out-of-scope recall from 94.37 / 94.10 / 92.63 % to 94.70 / 94.60 / 93.70 %;
#: on the demo bot's dev split and CLINC150's out-of-scope validation lines, out-of-scope
#: recall rose at every threshold (docs/nlu-bench-results.md, "Out-of-scope lines as a class").
OUT_OF_SCOPE = "out_of_scope"

#: How many intents `Prediction.ranking` lists (fewer if the bot has fewer).
RANKING_SIZE = 5

# Hyper-parameters chosen on validation data only (CLINC150's validation split, see
# bench/nlu.py and docs/nlu-bench-results.md): inverse L2 regularization of the linear SVM; the
# weight of the embedding block relative to the two unit-length n-gram blocks; and the scale of
# the SVM scores before the softmax that turns them into confidences. One linear SVM replaced
# a logistic regression + SVM blend: as accurate on validation within 0.2 point, and the
# logistic regression's solver took most of the training time and memory.
_SVM_C = 0.5
_VECTOR_WEIGHT = 1.2
_TEMPERATURE = 3.0
_PROJECT_FROM = 1000
_PROJECTED = 64
# Bots of `_PROJECT_FROM` examples or more drop the n-grams seen in one example only: on
# CLINC150's validation split as accurate (in scope at 60 % OOS recall 94.03 → 93.93 %, at
# 65 % 93.43 → 93.50 %), and 43 % fewer weights to fit and keep (97 k → 55 k terms), which
# is most of the training memory. A small bot needs its rare terms: they are most of its words.
_LARGE_MIN_DF = 2
# They also drop the character n-grams found in more than 5 % of their examples (" th",
# "the", "ow "…): a third of CLINC150's non-zero features, little evidence (the lowest IDF),
# and the solver's time is proportional to the non-zeros. On CLINC150's validation split in
# scope at 60 / 65 % OOS recall 94.10 / 93.87 → 94.07 / 93.83 %, Banking77's held-out tenth
# 91.9 → 92.0 %; the fit ~1.8 s CPU shorter, one run each (2 %: 93.97 / 93.63, 91.5 %).
_LARGE_MAX_CHAR_DF = 0.05
# And their Latin character 5-grams: a fifth of CLINC150's non-zero features, the most
# specific character terms and so the ones the words and 4-grams already cover. On CLINC150's
# validation split in scope at 60 / 65 / 70 % OOS recall 94.07 / 93.83 / 93.23 → 94.13 /
# 93.93 / 92.93 %, arg-max 94.50 → 94.53 %; Banking77 (three held-out fifths of its train
# split) 91.19 → 91.15 %: the same within a few lines, for a fifth less solver work
# (CLINC150's training 16.1 → 13.5 s CPU, two runs each, alternated, load average 8-15).
_LARGE_MAX_CHAR_LEN = 4
# The SVM solver's stopping tolerance: scikit-learn's default for small bots (their fit is
# quick, and the demo bot's cross-validation stays what it was), liblinear's own default for this
# dual solver for large bots. On CLINC150's validation split the looser tolerance stopped the
# solver after at most 16 passes instead of 47 and predicted the same intent for all 3,100
# lines (confidences within 0.011; in scope at 60 / 65 / 70 % OOS recall 94.50 / 94.37 / 94.10
# → 94.57 / 94.37 / 94.10 %); Banking77 (three held-out fifths) 92.34 → 92.35 %.
_TOL = 1e-4
_LARGE_TOL = 0.1
#: At most this many intents per solver call (see `_fit_group`).
_FIT_GROUP = 50
# Large bots add two cheap, complementary scores to the SVM's (scaled) scores: a multinomial
# naive Bayes over the same n-gram TF-IDF features (linear, so folded into the n-gram weights:
# no cost at prediction) and a nearest-example vote (the cosine between the line's embedding
# and the nearest example of each of the `_VOTE_INTENTS` best intents so far, in the 64-axis
# block: all 15,000 of CLINC150's examples would be one product that OpenBLAS spreads over two
# threads, milliseconds at p99 on a loaded machine; on validation, voting for those 10 alone
# gave the same arg-max as voting for all). Chosen on CLINC150's
# validation split and three held-out fifths of Banking77's train split: arg-max 94.53 →
# 95.00 %, in scope at 65 % OOS recall 93.93 → 94.37 %; Banking77 91.69 → 92.34 % (each
# alone: naive Bayes 94.70 / 91.92, the vote 94.50 / 92.14); see docs/nlu-bench-results.md.
_NB_WEIGHT = 0.08
_NB_SMOOTHING = 0.01
_VOTE_WEIGHT = 3.0
_VOTE_INTENTS = 10
#: An intent keeps at most this many × the mean number of examples per intent for the vote.
_NEAREST_WIDTH = 4
#: Predictions kept per classifier (customers repeat FAQ wording), for lines up to
#: `_MEMO_LENGTH` characters: ~1 kB each, so a bot's memo stays near a megabyte.
_MEMO_SIZE = 1024
_MEMO_LENGTH = 200

Floats = npt.NDArray[np.float32]


def large_by_size(examples: int) -> bool:
    """Whether a bot of this many examples is trained as a large bot by default."""
    return examples >= _PROJECT_FROM


def default_threshold(intent_count: int) -> float:
    """The out-of-scope threshold of a classifier trained without calibration.

    Bots loaded from YAML get a threshold calibrated on their own examples instead
    (`dialogs.training.train`, `dialogs.nlu_calibration`); this rule of thumb remains for
    classifiers trained directly. Confidences are probabilities spread over all intents, so the
    same doubt gives lower confidences in a bigger bot: 0.75 for 2 intents, 0.6 for 3, 0.33 for
    30, 0.31 for 150 (set for the previous logistic-regression model; the SVM's softmax is
    flatter, which is one reason the calibration replaced it).
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
    scope). `confidence` is the best intent's confidence either way, except for a line judged
    out of scope by what it is (nearest to the bot's out-of-scope lines, or sharing no word
    longer than one Chinese character with the examples): 0.0. `ranking` lists the best
    intents, best first.
    """

    intent: str | None
    confidence: float
    ranking: tuple[IntentScore, ...]


class IntentClassifier:
    """A trained intent classifier; build it with `IntentClassifier.train`.

    Instances are immutable and safe to share between conversations and threads.
    """

    __slots__ = (
        "_bias",
        "_intent_thresholds",
        "_intents",
        "_memo",
        "_ngram_weights",
        "_none",
        "_segmenter",
        "_threshold",
        "_vectors",
        "_vocabulary",
        "calibration",
        "is_large",
    )

    def __init__(
        self,
        *,
        intents: tuple[str, ...],
        vocabulary: NgramVocabulary,
        segmenter: Segmenter,
        ngram_weights: Floats,
        bias: Floats,
        vectors: _VectorBlock | None,
        threshold: float,
        intent_thresholds: Mapping[str, float] | None = None,
        calibration: Calibration | None = None,
        is_large: bool = False,
    ) -> None:
        # `intents` are the weights' classes, `OUT_OF_SCOPE` among them when the bot has
        # out-of-scope lines; `self.intents` are the intents a line can be.
        for value in (threshold, *(intent_thresholds or {}).values()):
            if not 0.0 <= value <= 1.0 or math.isnan(value):
                raise ValueError(f"threshold must be within [0, 1], got {value!r}")
        self._intents = intents
        self._none = intents.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in intents else None
        self._vocabulary = vocabulary
        self._segmenter = segmenter
        self._ngram_weights = ngram_weights  # (n-gram terms, intents)
        self._bias = bias  # (intents,)
        self._vectors = vectors
        self._threshold = float(threshold)
        self._intent_thresholds = dict(intent_thresholds or {})
        #: How the threshold was derived from the bot's own examples (None: given, not derived).
        self.calibration = calibration
        #: Trained as a large bot (`_PROJECT_FROM` examples or more): other features, and
        #: confidences on another scale, than a small bot's.
        self.is_large = is_large
        # The model never changes, so a line's prediction is the same every time it is asked.
        self._memo: Memo[str, Prediction] = Memo(maxsize=_MEMO_SIZE)

    def __reduce__(self) -> tuple[object, tuple[dict[str, object]]]:
        # How a classifier trained in a process of its own reaches the hub's
        # (`dialogs.training_process`): its weights, without the memo of predictions (a lock)
        # and without the word-vector table, which each process reads from the installed files.
        state: dict[str, object] = {
            "intents": self._intents,
            "vocabulary": self._vocabulary,
            "segmenter": self._segmenter,
            "ngram_weights": self._ngram_weights,
            "bias": self._bias,
            "vectors": self._vectors,
            "threshold": self._threshold,
            "intent_thresholds": self._intent_thresholds,
            "calibration": self.calibration,
            "is_large": self.is_large,
        }
        return _restore, (state,)

    @property
    def intents(self) -> tuple[str, ...]:
        """The intents this classifier knows, in training order."""
        return tuple(i for i in self._intents if i != OUT_OF_SCOPE)

    @property
    def threshold(self) -> float:
        """Confidence below which `predict` answers out of scope (`intent=None`)."""
        return self._threshold

    def threshold_for(self, intent: str) -> float:
        """The threshold `intent` must reach: its own override, else `threshold`."""
        return self._intent_thresholds.get(intent, self._threshold)

    def with_threshold(
        self,
        threshold: float,
        *,
        intent_thresholds: Mapping[str, float] | None = None,
        calibration: Calibration | None = None,
    ) -> IntentClassifier:
        """A classifier sharing this one's weights, with other thresholds."""
        return IntentClassifier(
            intents=self._intents,
            vocabulary=self._vocabulary,
            segmenter=self._segmenter,
            ngram_weights=self._ngram_weights,
            bias=self._bias,
            vectors=self._vectors,
            threshold=threshold,
            intent_thresholds=intent_thresholds,
            calibration=calibration if calibration is not None else self.calibration,
            is_large=self.is_large,
        )

    @classmethod
    def train(
        cls,
        examples: Mapping[str, Sequence[str]],
        *,
        threshold: float | None = None,
        word_vectors: bool = True,
        vocabulary: Iterable[str] = (),
        segmenter: Segmenter | None = None,
        large: bool | None = None,
        out_of_scope: Sequence[str] = (),
    ) -> IntentClassifier:
        """Fit a classifier on `examples` (intent → example utterances, any language mix).

        `threshold` defaults to `default_threshold(len(examples))` (`dialogs.nlu_calibration`
        derives a better one from the examples). `word_vectors=False` leaves out the
        `wordllama` embeddings (n-grams only: a little less accurate, no word-vector table).
        `vocabulary`: the bot's own words (product names …) that Chinese segmentation keeps
        whole; `segmenter`, when given, must cut words as `Segmenter(vocabulary)` does (the
        training process's, which knows the examples' words already). `large`: the kind of
        model (`is_large`); None decides by the number of examples (`large_by_size`).
        Calibration trains parts of a bot as the kind of model the whole is, else their
        confidences would not be the whole's.
        `out_of_scope`: lines no intent covers, trained as a class of their own (`OUT_OF_SCOPE`,
        which is then no intent's name). Raises `ValueError` unless at least two intents have
        a non-blank example.
        """
        if OUT_OF_SCOPE in examples and out_of_scope:
            raise ValueError(f"{OUT_OF_SCOPE!r} names the out-of-scope lines, not an intent")
        if any(normalize(line) for line in out_of_scope):
            examples = {**examples, OUT_OF_SCOPE: out_of_scope}
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

        # One BLAS thread for the whole fit: on a small shared machine, threads spinning
        # against each other made the fit of a 30-intent bot six times slower, and the
        # principal axes of a large bot's embeddings cost 1 s of CPU on two threads against
        # 0.1 s on one; the hub has other work to do anyway.
        from threadpoolctl import (  # type: ignore[import-untyped, unused-ignore]
            threadpool_limits,
        )

        with threadpool_limits(limits=1, user_api="blas"):
            return cls._train(
                intents,
                texts,
                labels,
                large_by_size(len(texts)) if large is None else large,
                threshold,
                word_vectors,
                segmenter if segmenter is not None else Segmenter(vocabulary),
            )

    @classmethod
    def _train(
        cls,
        intents: tuple[str, ...],
        texts: list[str],
        labels: list[int],
        large: bool,
        threshold: float | None,
        word_vectors: bool,
        segmenter: Segmenter,
    ) -> IntentClassifier:
        longest = _LARGE_MAX_CHAR_LEN if large else None
        ngrams, features = NgramVocabulary.fit_transform(
            (extract_terms(text, segmenter.tokens(text), longest=longest) for text in texts),
            min_df=_LARGE_MIN_DF if large else 1,
            max_char_df=_LARGE_MAX_CHAR_DF if large else 1.0,
            max_char_len=longest,
        )
        # Computed before the fit, so that the n-gram rows alone need not outlive the stacking.
        naive_bayes = _naive_bayes(features, labels, len(intents)) if large else None
        block: _VectorBlock | None = None
        if word_vectors:
            block, dense = _VectorBlock.fit(default_word_vectors(), texts, large=large)
            features = _with_dense(features, dense * _VECTOR_WEIGHT)
        coef, bias = _fit(features, np.asarray(labels), tol=_LARGE_TOL if large else _TOL)
        n_terms = len(ngrams)
        ngram_weights = np.ascontiguousarray(coef[:, :n_terms].T)
        if naive_bayes is not None:
            ngram_weights += _NB_WEIGHT * naive_bayes
            del naive_bayes
        if block is not None:
            block = block.with_weights(
                np.ascontiguousarray(coef[:, n_terms:].T * _VECTOR_WEIGHT, dtype=np.float32),
                examples=(dense, labels) if block.projection is not None else None,
            )
        return cls(
            intents=intents,
            vocabulary=ngrams,
            segmenter=segmenter,
            ngram_weights=ngram_weights,
            bias=bias,
            vectors=block,
            threshold=(
                default_threshold(len(intents) - (OUT_OF_SCOPE in intents))
                if threshold is None
                else threshold
            ),
            is_large=large,
        )

    def predict(self, text: str) -> Prediction:
        """Classify one utterance. Blank or meaningless text is out of scope; never raises."""
        normalized = normalize(text)
        if len(normalized) > _MEMO_LENGTH:
            return self._predict(normalized)
        return self._memo.get(normalized, self._predict)

    def _predict(self, normalized: str) -> Prediction:
        vocabulary = self._vocabulary
        columns, values = vocabulary.vectorize(
            # Terms the vocabulary cannot hold are not worth counting (a fifth of a large
            # bot's character n-grams).
            extract_terms(
                normalized, self._segmenter.tokens(normalized), longest=vocabulary.longest_char
            )
        )
        if not len(columns):
            # No known n-gram: nothing resembles any example. The embedding may still say
            # which intents the line is near (suggestions), but it never decides alone.
            if self._vectors is None or not self._vectors.knows(normalized):
                return self._out_of_scope()
            return self._rank(self._bias + self._vectors.scores(normalized), accept=False)
        logits = self._bias + values.astype(np.float32) @ self._ngram_weights[columns]
        nearest: Floats | None = None
        if self._vectors is not None:
            embedding = self._vectors.embed(normalized)
            logits += self._vectors.score_embedding(embedding)
            nearest = self._vectors.nearest(embedding, logits)
            if nearest is not None:
                logits += _VOTE_WEIGHT * nearest  # the nearest-example vote (`_VOTE_WEIGHT`)
        # Nor do single Chinese characters: a line sharing nothing longer with the examples
        # gets suggestions, not an answer.
        single = self._vocabulary.single
        return self._rank(logits, accept=not single.issuperset(columns.tolist()), nearest=nearest)

    def _rank(self, logits: Floats, *, accept: bool, nearest: Floats | None = None) -> Prediction:
        exp = np.exp(logits - logits.max())
        probabilities = exp / exp.sum()
        if self._vectors is not None:
            # A large bot scales the confidences by how near the line is to the nearest
            # example of the best intent (see `_VectorBlock.nearness`).
            probabilities *= self._vectors.nearness(int(probabilities.argmax()), nearest)
        if self._none is not None:
            # Nearest to the out-of-scope lines: out of scope. The class is no intent, so it
            # is never ranked (nor suggested).
            accept = accept and int(probabilities.argmax()) != self._none
            probabilities[self._none] = -1.0
        k = min(RANKING_SIZE, len(self._intents) - (self._none is not None))
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
        top = ranking[0]
        return Prediction(
            intent=top.intent
            if accept and top.confidence >= self.threshold_for(top.intent)
            else None,
            confidence=top.confidence if accept else 0.0,
            ranking=ranking,
        )

    def _out_of_scope(self) -> Prediction:
        ranking = tuple(
            IntentScore(intent=intent, confidence=0.0) for intent in self.intents[:RANKING_SIZE]
        )
        return Prediction(intent=None, confidence=0.0, ranking=ranking)


def _restore(state: dict[str, Any]) -> IntentClassifier:
    return IntentClassifier(**state)


def _with_dense(features: sparse.csr_matrix, dense: Floats) -> sparse.csr_matrix:
    from scipy import sparse

    return sparse.hstack([features, sparse.csr_matrix(dense)], format="csr")


def _fit(
    features: sparse.csr_matrix, target: npt.NDArray[np.int64], *, tol: float
) -> tuple[Floats, Floats]:
    """(intents, features) weights and (intents,) biases of the linear SVM, pre-scaled by the
    softmax temperature; `tol` is the solver's stopping tolerance."""
    # scikit-learn is imported here: predicting needs none of it.
    from sklearn.exceptions import (  # type: ignore[import-untyped, unused-ignore]
        ConvergenceWarning,
    )
    from sklearn.svm import LinearSVC  # type: ignore[import-untyped, unused-ignore]

    n_intents = int(target.max()) + 1
    groups = -(-n_intents // _FIT_GROUP)  # ceil: groups of at least two intents each
    bounds = np.linspace(0, n_intents, groups + 1).round().astype(int).tolist()
    coefs: list[Floats] = []
    biases: list[Floats] = []
    with warnings.catch_warnings():
        # Hitting max_iter on a large bot costs a little accuracy, not correctness.
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        for start, stop in itertools.pairwise(bounds):
            svm = LinearSVC(C=_SVM_C, tol=tol, random_state=0)  # its descent shuffles
            coef, bias = _fit_group(svm, features, target, start, stop, n_intents)
            coefs.append(coef)
            biases.append(bias)
    # The softmax of the scaled SVM scores is the confidence (see `_TEMPERATURE`).
    coef = np.vstack(coefs) if len(coefs) > 1 else coefs[0]
    coef *= _TEMPERATURE
    bias = np.concatenate(biases) * _TEMPERATURE
    return coef, bias


def _fit_group(
    svm: LinearSVC,
    features: sparse.csr_matrix,
    target: npt.NDArray[np.int64],
    start: int,
    stop: int,
    n_intents: int,
) -> tuple[Floats, Floats]:
    """The one-vs-rest SVMs of intents `start` … `stop - 1`.

    One-vs-rest, intent k's SVM separates k from all the others, however those are labelled;
    so the intents outside the group share one extra label, whose own SVM is dropped. The
    solver keeps two float64 copies of the weights of the intents it fits (2 × 66 MB for
    CLINC150's 150 intents and 55 k features); in groups of `_FIT_GROUP` the benchmark's peak
    fell from 446 to 417 MB, for one extra SVM per group (3 more than 150).
    """
    if start == 0 and stop == n_intents:
        labels = target
    else:
        inside = (target >= start) & (target < stop)
        labels = np.where(inside, target - start, stop - start)
    svm.fit(features, labels)
    coef, bias = _per_intent(svm.coef_, svm.intercept_)
    return coef[: stop - start], bias[: stop - start]


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
    """Centred averaged token embeddings and, once trained, their weights per intent.

    A bot of `_PROJECT_FROM` examples or more keeps only the `_PROJECTED` principal axes of its
    own (centred, unit-length) example embeddings: on CLINC150's validation split this was both
    more accurate (94.03 % in scope at 60 % OOS recall, against 93.90 % with all 256
    dimensions) and half the training time, since the dense block was most of the non-zero
    features. Smaller bots have too few examples to estimate those axes and keep all 256.
    """

    vectors: WordVectors
    mean: Floats  # mean training embedding, removed so that the block is centred
    projection: Floats | None = None  # (256, _PROJECTED) principal axes, for large bots
    weights: Floats | None = None  # (dimensions, intents)
    # Large bots only: their training rows in this block, (intents, width, dimensions), intent
    # k's rows in examples[k] padded with zero rows (a cosine of 0, the floor of `nearest`'s),
    # for `nearest`: one product for a few intents, where a Python loop over their slices took
    # twice the time. `width` is the most examples of an intent, at most
    # `_NEAREST_WIDTH` × the mean: a bot with one huge intent keeps an even sample of it.
    examples: Floats | None = None

    @classmethod
    def fit(
        cls, vectors: WordVectors, texts: Sequence[str], *, large: bool
    ) -> tuple[_VectorBlock, Floats]:
        """The block for `texts` and their rows in it (`large`: a large bot's, projected)."""
        raw = vectors.embed_many(texts)
        mean = raw.mean(axis=0).astype(np.float32)
        centred = _unit_rows(raw - mean)
        projection: Floats | None = None
        if large:
            # Principal axes of the example embeddings: eigenvectors of their (dimensions ×
            # dimensions) scatter matrix, largest first. Same axes as an SVD of the examples,
            # without its (examples × dimensions) float64 factor.
            scatter = centred.T.astype(np.float64) @ centred.astype(np.float64)
            _, axes = np.linalg.eigh(scatter)  # ascending eigenvalues
            projection = np.ascontiguousarray(axes[:, ::-1][:, :_PROJECTED], dtype=np.float32)
            centred = _unit_rows(centred @ projection)
        return cls(vectors=vectors, mean=mean, projection=projection), centred

    def with_weights(
        self, weights: Floats, *, examples: tuple[Floats, Sequence[int]] | None = None
    ) -> _VectorBlock:
        """This block with its intents' weights and, optionally, its training rows (unit
        length, one per example) and their intents, kept for `nearest`."""
        rows: Floats | None = None
        if examples is not None:
            dense, labels = examples
            target = np.asarray(labels)
            n_intents = weights.shape[1]
            counts = np.bincount(target, minlength=n_intents)
            width = int(min(counts.max(), math.ceil(_NEAREST_WIDTH * len(target) / n_intents)))
            rows = np.zeros((n_intents, width, dense.shape[1]), dtype=np.float32)
            grouped = dense[np.argsort(target, kind="stable")]
            bounds = np.concatenate([[0], np.cumsum(counts)]).tolist()
            for intent, (start, stop) in enumerate(itertools.pairwise(bounds)):
                own = grouped[start:stop]
                if len(own) > width:
                    own = own[np.linspace(0, len(own) - 1, width).round().astype(np.intp)]
                rows[intent, : len(own)] = own
        return dataclasses.replace(self, weights=weights, examples=rows)

    def nearest(self, embedding: Floats, scores: Floats) -> Floats | None:
        """Per intent, the cosine between `embedding` and the intent's nearest training
        example, at least 0, for the `_VOTE_INTENTS` intents of the highest `scores` (0 for
        the others); None when this block keeps no examples (small bots) or the line has no
        word vector."""
        if self.examples is None or not embedding.any():
            return None
        intents = _best(scores, _VOTE_INTENTS)
        cosines = np.zeros(self.examples.shape[0], dtype=np.float32)
        cosines[intents] = np.maximum((self.examples[intents] @ embedding).max(axis=1), 0.0)
        return cosines

    def nearness(self, intent: int, nearest: Floats | None) -> float:
        """`nearest`'s cosine for `intent`; 1 when `nearest` is None.

        On CLINC150's validation split, confidences scaled by it ranked in-scope lines above
        out-of-scope ones better: in scope at the threshold catching 65 % of the out-of-scope
        lines 93.47 → 93.87 % (60 %: 93.90 → 94.10 %); the arg-max is unchanged. An
        out-of-scope line can share words with an intent's examples and still be far from
        every one of them. Small bots do not keep it: their examples are few, and the word
        vectors know little Chinese.
        """
        return 1.0 if nearest is None else float(nearest[intent])

    def embed(self, text: str) -> Floats:
        centred: Floats = self.vectors.embed(text) - self.mean
        norm = vector_norm(centred)
        if norm <= 1e-6:
            return np.zeros(self.dimensions, dtype=np.float32)
        centred = (centred / norm).astype(np.float32)
        if self.projection is None:
            return centred
        projected: Floats = centred @ self.projection
        norm = vector_norm(projected)
        return projected / norm if norm > 1e-6 else np.zeros_like(projected)

    @property
    def dimensions(self) -> int:
        return self.vectors.dim if self.projection is None else int(self.projection.shape[1])

    def knows(self, text: str) -> bool:
        """Whether any token of `text` has a vector (else its embedding is only the centring)."""
        return bool(self.vectors.embed(text).any())

    def scores(self, text: str) -> Floats:
        return self.score_embedding(self.embed(text))

    def score_embedding(self, embedding: Floats) -> Floats:
        assert self.weights is not None
        result: Floats = embedding @ self.weights
        return result


def _best(scores: Floats, k: int) -> npt.NDArray[np.intp]:
    """The indices of the `k` highest `scores` (all of them if there are no more), any order."""
    if k >= len(scores):
        return np.arange(len(scores))
    return np.argpartition(-scores, k - 1)[:k]


def _naive_bayes(features: sparse.csr_matrix, labels: Sequence[int], n_intents: int) -> Floats:
    """(terms, intents) log-probabilities of a multinomial naive Bayes over the TF-IDF rows
    `features` (non-negative), smoothed by `_NB_SMOOTHING`; no class prior (the SVM's bias
    has one). Its scores are a product with the same rows, so they add to the SVM's weights."""
    from scipy import sparse

    target = np.asarray(labels)
    membership = sparse.csr_matrix(
        (np.ones(len(target), dtype=np.float32), (target, np.arange(len(target)))),
        shape=(n_intents, len(target)),
    )
    counts = (membership @ features).toarray().astype(np.float32)  # (intents, terms)
    counts += _NB_SMOOTHING
    totals = counts.sum(axis=1, keepdims=True)
    np.log(counts, out=counts)
    counts -= np.log(totals)
    return np.ascontiguousarray(counts.T)


def _unit_rows(rows: Floats) -> Floats:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    result: Floats = np.where(norms > 1e-6, rows / np.maximum(norms, 1e-6), 0.0).astype(np.float32)
    return result
