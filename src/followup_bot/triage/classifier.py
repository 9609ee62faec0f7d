"""A learned triage signal: logistic regression over word and character n-grams and a sentence embedding.

Rules recognise the wordings someone thought of; a danger stated in other words ("grandad's face
has gone lopsided", "the tablets are counted out on the table") is close to those wordings in
the embedding space even when it shares none of their words. The embedding alone cannot tell a
danger from a question that only mentions one ("had a seizure three years ago, can I drive?"):
measured with each writer held out in turn, it reached 0.70 recall at 2% false alarms. Word and
character n-grams add the cues that tell them apart ("years ago", "what should I do if", "for my
exam", typos of both), and together they reached 0.94 at 2% (eval/triage/README.md). The model
is trained once on messages from many writers (`eval/triage/train_classifier.py`) and shipped as
one JSON file of vocabularies and weights, the same for every article.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from followup_bot.errors import ConfigError
from followup_bot.text import bounded_words, english_frequency
from followup_bot.text import words as word_tokens

LABELS = ("benign", "emergency", "crisis")
WORD_NGRAMS = {"ngram_range": (1, 2), "min_df": 2}
CHAR_NGRAMS = {"analyzer": "char_wb", "ngram_range": (3, 5), "min_df": 3, "max_features": 6000}


def vectorizer(config: dict[str, Any], vocabulary: dict[str, int] | None = None, idf: list[float] | None = None) -> Any:
    """The TF-IDF vectorizer of one n-gram family; with a vocabulary and idf it is the trained one, rebuilt."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    options = {k: v for k, v in config.items() if k not in ("min_df", "max_features")} if vocabulary else config
    vec = TfidfVectorizer(sublinear_tf=True, lowercase=True, vocabulary=vocabulary, **options)
    if vocabulary is not None and idf is not None:
        vec.idf_ = np.asarray(idf, dtype=np.float64)
    return vec


@dataclass(frozen=True)
class TriageModel:
    """Multinomial logistic regression: P(label | features) = softmax(W x + b)."""

    weights: np.ndarray  # (len(LABELS), n_word + n_char + dim)
    intercept: np.ndarray  # (len(LABELS),)
    thresholds: dict[str, float]
    words: Any
    chars: Any
    dim: int
    source: str = ""

    @classmethod
    def load(cls, path: Path, dim: int | None = None) -> TriageModel:
        """Read the shipped model; a file for another embedding dimension is a clear error, never a silent miss."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            weights = np.asarray(data["weights"], dtype=np.float32)
            intercept = np.asarray(data["intercept"], dtype=np.float32)
            thresholds = {str(k): float(v) for k, v in data["thresholds"].items()}
            labels = tuple(data["labels"])
            words = vectorizer(WORD_NGRAMS, data["words"]["vocabulary"], data["words"]["idf"])
            chars = vectorizer(CHAR_NGRAMS, data["chars"]["vocabulary"], data["chars"]["idf"])
            model_dim = int(data["dim"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"triage model {path} cannot be read ({exc})") from None
        if labels != LABELS or weights.shape != (
            len(LABELS),
            len(words.vocabulary) + len(chars.vocabulary) + model_dim,
        ):
            raise ConfigError(f"triage model {path} does not match its own vocabularies; retrain it")
        if dim is not None and model_dim != dim:
            raise ConfigError(
                f"triage model {path} was trained on {model_dim}-d embeddings but the embedding model gives {dim}-d; "
                "retrain it with eval/triage/train_classifier.py"
            )
        return cls(weights, intercept, thresholds, words, chars, model_dim, str(path))

    def features(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        from scipy.sparse import hstack

        return np.asarray(hstack([self.words.transform(texts), self.chars.transform(texts)]).todense())

    def probabilities(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """One row of class probabilities per text."""
        x = np.hstack([self.features(texts, vectors), vectors])
        z = x @ self.weights.T + self.intercept
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class ModelScores:
    emergency: float
    crisis: float


class TriageClassifier:
    """Scores a whole message with the model (one embedding, two sparse vectors: about a millisecond).

    The model learned from messages people write. On text unlike any of them (made-up words, one
    word repeated a thousand times) its scores mean nothing, and it stays silent: the rules, which
    read every message whole, still speak. A message longer than `max_words` is scored on its first
    and last halves, as retrieval reads it, so its cost does not grow with its length.
    """

    def __init__(self, model: TriageModel, encode: Callable[[list[str]], np.ndarray], max_words: int = 120) -> None:
        self.model = model
        self.encode = encode
        self.max_words = max_words

    def scores(self, message: str) -> ModelScores:
        if not readable(message, self.model.words.vocabulary_):
            return ModelScores(emergency=0.0, crisis=0.0)
        text = bounded_words(message, self.max_words)
        probs = self.model.probabilities([text], self.encode([text]))[0]
        return ModelScores(emergency=float(probs[1]), crisis=float(probs[2]))


# Below these, a message is not language the model can read (see `readable`).
READABLE_SHARE = 0.5
DEGENERATE_MIN_WORDS = 30
DEGENERATE_VARIETY = 0.1


def readable(message: str, vocabulary: Mapping[str, int]) -> bool:
    """Whether the message reads as language: most of its Latin-letter words are English or known to
    the model, and a long one is not one or two words repeated. Other scripts are left to the model."""
    tokens = [t for t in word_tokens(message) if t.isalpha()]
    if not tokens:
        return True
    if len(tokens) >= DEGENERATE_MIN_WORDS and len(set(tokens)) / len(tokens) < DEGENERATE_VARIETY:
        return False
    known = sum(1 for t in tokens if t in vocabulary or english_frequency(t) > 0)
    return known / len(tokens) >= READABLE_SHARE
