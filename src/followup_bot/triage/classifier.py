"""A learned triage signal: logistic regression over sentence embeddings of the message.

Rules recognise the wordings someone thought of; a danger stated in other words ("grandad's face
has gone lopsided", "the tablets are counted out on the table") is close to those wordings in
the embedding space even when it shares none of their words. The model scores the whole message
and each of its sentences (a danger buried in a long message is not diluted by the rest) and
keeps the highest score per class. It is trained once, on messages from many writers and
articles (`eval/triage/train_classifier.py`), and shipped as a small JSON file of weights, the
same for every article.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from followup_bot.errors import ConfigError

LABELS = ("benign", "emergency", "crisis")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
MAX_SENTENCES = 12


def pieces(message: str) -> list[str]:
    """The message, then its sentences when it has several (at most a dozen: a long message is rare here)."""
    parts = [p.strip() for p in _SENTENCES.split(message) if len(p.strip()) > 2]
    return [message, *parts[:MAX_SENTENCES]] if len(parts) > 1 else [message]


@dataclass(frozen=True)
class TriageModel:
    """Multinomial logistic regression: P(label | embedding) = softmax(W x + b)."""

    weights: np.ndarray  # (len(LABELS), dim)
    intercept: np.ndarray  # (len(LABELS),)
    thresholds: dict[str, float]
    source: str = ""

    @classmethod
    def load(cls, path: Path, dim: int | None = None) -> TriageModel:
        """Read the shipped weights; a file for another model's dimension is a clear error, never a silent miss."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            weights = np.asarray(data["weights"], dtype=np.float32)
            intercept = np.asarray(data["intercept"], dtype=np.float32)
            thresholds = {str(k): float(v) for k, v in data["thresholds"].items()}
            labels = tuple(data["labels"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"triage model {path} cannot be read ({exc})") from None
        if labels != LABELS or weights.shape[0] != len(LABELS) or intercept.shape != (len(LABELS),):
            raise ConfigError(f"triage model {path} has labels {labels}, expected {LABELS}; retrain it")
        if dim is not None and weights.shape[1] != dim:
            raise ConfigError(
                f"triage model {path} was trained on {weights.shape[1]}-d embeddings but the embedding model gives "
                f"{dim}-d; retrain it with eval/triage/train_classifier.py"
            )
        return cls(weights, intercept, thresholds, str(path))

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """One row of class probabilities per vector."""
        z = vectors @ self.weights.T + self.intercept
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class ModelVerdict:
    label: str  # "emergency", "crisis" or "benign"
    score: float  # the winning danger class's probability (or the benign one)


class TriageClassifier:
    """Scores a message with the model; `verdict` applies the per-class thresholds."""

    def __init__(self, model: TriageModel, encode: Callable[[list[str]], np.ndarray]) -> None:
        self.model = model
        self.encode = encode

    def scores(self, message: str) -> dict[str, float]:
        """Highest probability of each class over the message and its sentences."""
        probs = self.model.probabilities(self.encode(pieces(message)))
        best = probs.max(axis=0)
        return {label: float(best[i]) for i, label in enumerate(LABELS)}

    def verdict(self, message: str) -> ModelVerdict:
        scores = self.scores(message)
        t = self.model.thresholds
        danger = [(scores[k] / t[k], k) for k in ("crisis", "emergency") if scores[k] >= t[k]]
        if danger:
            label = max(danger)[1]
            return ModelVerdict(label, round(scores[label], 4))
        return ModelVerdict("benign", round(scores["benign"], 4))
