"""Accuracy of the sentence-role tagger against the two hand labellings of eval/roles/sample.jsonl.

    .venv/bin/python eval/roles/score_roles.py [--split dev|test|all] [--confusion]

The sample holds 90 sentences from each of four articles. The tagger's rows were written while
looking only at the two development articles (the answer article and journal.pmed.1001300); the
other two (journal.pntd.0001041, a trial, and journal.pmed.0020124, an essay) are the test split.
Accuracy is reported against each labeller and against the 351 sentences both agree on.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from followup_bot.corpus.roles import sentence_role

HERE = Path(__file__).resolve().parent
DEV = {"lamotrigine-ketamine", "journal.pmed.1001300"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=["dev", "test", "all"], default="all")
    parser.add_argument("--confusion", action="store_true")
    args = parser.parse_args()
    sample = [json.loads(line) for line in (HERE / "sample.jsonl").read_text().splitlines()]
    a = {r["id"]: r["role"] for r in map(json.loads, (HERE / "labels_a.jsonl").read_text().splitlines())}
    b = {r["id"]: r["role"] for r in map(json.loads, (HERE / "labels_b.jsonl").read_text().splitlines())}
    for split in ["dev", "test"] if args.split == "all" else [args.split]:
        rows = [s for s in sample if (s["article"] in DEV) == (split == "dev")]
        got = {
            s["id"]: sentence_role(s["sentence"], s["section"].split(" > ") if s["section"] else [], s["kind"])
            for s in rows
        }
        agreed = [s["id"] for s in rows if a[s["id"]] == b[s["id"]]]
        acc_a = sum(got[i] == a[i] for i in got) / len(got)
        acc_b = sum(got[i] == b[i] for i in got) / len(got)
        acc_agreed = sum(got[i] == a[i] for i in agreed) / len(agreed)
        print(
            f"{split}: {len(rows)} sentences; accuracy vs A {acc_a:.3f}, vs B {acc_b:.3f}, "
            f"vs both where they agree ({len(agreed)}) {acc_agreed:.3f}"
        )
        if args.confusion:
            print("  (gold, tagged): count", Counter((a[i], got[i]) for i in agreed if got[i] != a[i]).most_common(12))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
