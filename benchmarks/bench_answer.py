"""Answer latency: cold start, warm p50/p95 per step, against a naive LangChain baseline.

    .venv/bin/python benchmarks/bench_answer.py [--rounds 5] [--questions eval/dev.jsonl] [--providers extractive,local-smollm2]

The baseline runs in the same process on the same store: top-4 dense retrieval through
langchain-chroma, passages returned as they are (no fusion, no sentence selection, no checks).
Medians and the ratio to the baseline are what to compare across runs; this machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from measure import pct

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

COLD_SNIPPET = """
import time, sys
t0 = float(sys.argv[1])
from followup_bot import Assistant
a = Assistant.from_settings()
a.ask("Does lamotrigine reduce ketamine craving?")
print(time.time() - t0)
"""


def questions(path: Path, limit: int) -> list[dict]:
    items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [i for i in items if i["category"] not in ("emergency", "crisis")][:limit]


def cold_start() -> float:
    out = subprocess.run(
        [sys.executable, "-c", COLD_SNIPPET, str(time.time())], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    return float(out.stdout.strip().splitlines()[-1]) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--questions", default=str(ROOT / "eval/dev.jsonl"))
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--no-cold", action="store_true")
    args = parser.parse_args()

    from followup_bot import Assistant
    from followup_bot.embeddings import SentenceTransformerEmbeddings
    from followup_bot.settings import load_settings
    from followup_bot.store import ChunkStore

    cold = None if args.no_cold else cold_start()
    settings = load_settings(root=ROOT)
    assistant = Assistant.from_settings(settings)
    # The naive baseline: LangChain's Chroma wrapper over the same collection, top-4 dense, no processing.
    vectorstore = ChunkStore(settings).vectorstore(SentenceTransformerEmbeddings(settings.embeddings))
    items = questions(Path(args.questions), args.limit)

    def naive(question: str) -> list:
        return vectorstore.similarity_search(question, k=4)

    for item in items[:3]:  # warm both paths
        assistant.ask(item["question"], history=item.get("history"))
        naive(item["question"])

    steps: dict[str, list[float]] = {}
    baseline: list[float] = []
    for _ in range(args.rounds):
        for item in items:
            t0 = time.perf_counter()
            naive(item["question"])
            baseline.append((time.perf_counter() - t0) * 1000)
            answer = assistant.ask(
                item["question"], history=item.get("history"), audience=item.get("audience") or "clinician"
            )
            for step, ms in answer.timings_ms.items():
                steps.setdefault(step, []).append(ms)

    base_p50 = statistics.median(baseline)
    rows = [("naive baseline (top-4 dense, as-is)", base_p50, pct(baseline, 0.95), 1.0)]
    for step in ("safety", "standalone", "retrieve", "evidence", "generate", "verify", "frame", "total"):
        if step in steps:
            p50 = statistics.median(steps[step])
            rows.append((f"followup-bot: {step}", p50, pct(steps[step], 0.95), p50 / base_p50))
    n = len(steps.get("total", []))
    print(
        f"\nAnswer latency on this machine: {n} asks ({len(items)} questions x {args.rounds} rounds), extractive generator"
    )
    print(f"{'step':42} {'p50 ms':>9} {'p95 ms':>9} {'x baseline p50':>15}")
    print("-" * 78)
    for name, p50, p95, ratio in rows:
        print(f"{name:42} {p50:9.1f} {p95:9.1f} {ratio:15.2f}")
    if cold is not None:
        print(f"{'cold start (process start to first answer)':42} {cold:9.0f}")
    total = steps.get("total", [0])
    target = statistics.median(total) <= 100 and pct(total, 0.95) <= 250
    print(f"\nTarget warm p50 <= 100 ms and p95 <= 250 ms: {'met' if target else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
