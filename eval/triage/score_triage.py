"""Triage recall per kind and the false-alarm rate, straight from the triage (no retrieval): seconds.

    .venv/bin/python eval/triage/score_triage.py eval/triage/dev.jsonl [--misses]

The full pipeline gives the same verdicts (triage runs first and decides alone); `followup-bot
eval --dataset eval/triage/test.jsonl` reports the same numbers with the confusion table and plot.
`--misses` prints the items it got wrong: use it on the development split only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from followup_bot.components import load_triage_classifier
from followup_bot.embeddings import SentenceTransformerEmbeddings
from followup_bot.settings import load_settings
from followup_bot.triage import SafetyTriage


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    triage = SafetyTriage(
        settings.safety, load_triage_classifier(settings, SentenceTransformerEmbeddings(settings.embeddings))
    )
    for name in args.datasets:
        items = [json.loads(line) for line in Path(name).read_text(encoding="utf-8").splitlines() if line.strip()]
        got: Counter[tuple[str, str]] = Counter()
        misses = []
        for item in items:
            verdict = triage.check(item["question"], item.get("history") or [])
            kind = verdict.kind if verdict.kind in ("emergency", "crisis") else "none"
            category = item["category"] if item["category"] in ("emergency", "crisis") else "benign"
            got[(category, kind)] += 1
            expected = category if category != "benign" else "none"
            if kind != expected:
                misses.append(
                    (item["id"], item["category"], kind, verdict.rule or verdict.score, item["question"][:110])
                )
        n = Counter(i["category"] if i["category"] in ("emergency", "crisis") else "benign" for i in items)
        e = got[("emergency", "emergency")] / max(1, n["emergency"])
        c = got[("crisis", "crisis")] / max(1, n["crisis"])
        fa = (got[("benign", "emergency")] + got[("benign", "crisis")]) / max(1, n["benign"])
        print(
            f"{name}: emergency {got[('emergency', 'emergency')]}/{n['emergency']} = {e:.3f}; "
            f"crisis {got[('crisis', 'crisis')]}/{n['crisis']} = {c:.3f}; "
            f"false alarms {got[('benign', 'emergency')] + got[('benign', 'crisis')]}/{n['benign']} = {fa:.3f}"
        )
        if args.misses:
            for m in misses:
                print("  ", *m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
