"""Refit the answer/abstain model on the development sets (never on the test set).

    .venv/bin/python eval/calibrate_abstention.py [--out src/followup_bot/abstention_model.json]

Runs every non-triage item of eval/dev.jsonl, dev2.jsonl and dev3.jsonl through the real pipeline with
the model switched off, collects the evidence features, fits a logistic regression (scikit-learn,
already installed with sentence-transformers), prints its leave-one-out accuracy next to the best
plain-threshold rule, and writes the weights as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from followup_bot import stages
from followup_bot.assistant import Assistant, parse_history
from followup_bot.evidence import FEATURES
from followup_bot.settings import load_settings
from followup_bot.state import Request, State

ROOT = Path(__file__).resolve().parents[1]


def assistant_without_model() -> Assistant:
    """The assistant with the answer/abstain model off and its floors open, so the evidence is always
    composed and its features recorded: what the model is fitted on."""
    settings = load_settings(root=ROOT)
    settings.evidence.abstention_model = "rule"
    settings.evidence.relevance_floor = -1
    settings.evidence.coverage_floor = 0
    return Assistant.from_settings(settings)


def collect(paths: list[Path]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    assistant = assistant_without_model()
    c = assistant.components
    X, y, ids = [], [], []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            request = Request(
                item["question"], tuple(parse_history(item.get("history"))), "clinician", c.library.default
            )
            state = stages.triage(State(request), c)
            if state.terminal is not None:
                continue  # safety triage decides these, not the model
            for stage in (stages.standalone, stages.retrieve, stages.weigh_evidence):
                state = stage(state, c)
            assert state.evidence is not None
            if state.evidence.abstain:
                continue  # the hard rare-word rule decided this one before the model is asked
            X.append([state.evidence.features[name] for name in FEATURES])
            y.append(int(item["expect_refusal"]))
            ids.append(item["id"])
    return np.array(X), np.array(y), ids


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--data", nargs="+", default=[str(ROOT / f"eval/{name}.jsonl") for name in ("dev", "dev2", "dev3")]
    )
    parser.add_argument("--out", default=str(ROOT / "src/followup_bot/abstention_model.json"))
    parser.add_argument(
        "--C", type=float, default=3.0, help="inverse regularisation strength (chosen by leave-one-out accuracy)"
    )
    args = parser.parse_args()
    if any("grounding_testset" in d for d in args.data):
        sys.exit("refusing to calibrate on the test set")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneOut, cross_val_predict

    X, y, _ = collect([Path(d) for d in args.data])
    model = LogisticRegression(C=args.C, max_iter=5000)
    loo = (cross_val_predict(model, X, y, cv=LeaveOneOut()) == y).mean()
    model.fit(X, y)
    train = (model.predict(X) == y).mean()
    print(f"items {len(y)} (abstain {int(y.sum())}); leave-one-out accuracy {loo:.3f}; training accuracy {train:.3f}")
    data = {
        "weights": {name: round(float(w), 5) for name, w in zip(FEATURES, model.coef_[0], strict=True)},
        "intercept": round(float(model.intercept_[0]), 5),
        "threshold": 0.5,
        "fitted_on": [Path(d).name for d in args.data],
        "items": len(y),
        "loo_accuracy": round(float(loo), 4),
    }
    Path(args.out).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
