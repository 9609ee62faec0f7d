"""Answer latency per generator provider: time to first token and total, in one process.

    .venv/bin/python benchmarks/bench_providers.py                        # extractive + local-smollm2
    .venv/bin/python benchmarks/bench_providers.py --presets extractive local-qwen-1.5b --n 5
    .venv/bin/python benchmarks/bench_providers.py --serve-model smollm2  # + openai via llama_cpp.server

Every provider answers the same N questions from eval/dev.jsonl through the real chain
(`Assistant.stream`), sharing one store, retriever and embedding model, so the rows differ only
by the generator. "first token" is when the first streamed text reaches the caller (retrieval
and evidence ranking included); "total" is the verified Answer. Medians are over N questions,
after one untimed warm-up question that loads the model. The ratio compares each median total
with the extractive one measured in the same run, so machine load affects both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from followup_bot.assistant import Assistant  # imported after the environment is set
from followup_bot.models import Answer
from followup_bot.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]


def questions(path: Path, n: int) -> list[dict[str, Any]]:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = [i for i in items if i.get("category") in ("answerable", "followup") and not i.get("expect_refusal")]
    return chosen[:n]


def with_preset(settings: Settings) -> Assistant:
    """An assistant on the same store with this preset's generator (its indexes are rebuilt from disk, not re-ingested)."""
    return Assistant.from_settings(settings)


def time_one(assistant: Assistant, item: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    first: float | None = None
    answer: Answer | None = None
    for event in assistant.stream(
        item["question"], history=item.get("history"), audience=item.get("audience") or "clinician"
    ):
        if isinstance(event, str):
            if first is None and event.strip():
                first = time.perf_counter() - t0
        else:
            answer = event
    total = time.perf_counter() - t0
    assert answer is not None
    return {
        "id": item.get("id"),
        "first_token_s": first if first is not None else total,
        "total_s": total,
        "fallback": answer.generator.fallback,
        "refused": answer.refused,
        "supported": answer.verification.supported,
        "removed": answer.verification.removed,
    }


def run_row(label: str, assistant: Assistant, items: list[dict[str, Any]]) -> dict[str, Any]:
    t0 = time.perf_counter()
    time_one(assistant, items[0])  # warm-up: model load, KV cache of the system prompt
    warm = time.perf_counter() - t0
    runs = [time_one(assistant, item) for item in items]
    return {
        "provider": label,
        "generator": assistant.generator_info.provider,
        "model": assistant.generator_info.model,
        "n": len(runs),
        "warmup_s": warm,
        "first_token_s": statistics.median(r["first_token_s"] for r in runs),
        "total_s": statistics.median(r["total_s"] for r in runs),
        "fallbacks": sum(r["fallback"] for r in runs),
        "removed": sum(r["removed"] for r in runs),
        "supported": sum(r["supported"] for r in runs),
        "runs": runs,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, settings: Settings) -> tuple[subprocess.Popen, str]:
    import httpx

    from followup_bot.generators.gguf import ensure_model

    path = ensure_model(model, settings)
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(settings.generator.n_ctx),
            "--n_threads",
            str(settings.generator.n_threads),
            "--n_threads_batch",
            str(settings.generator.n_threads),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.25)
    proc.terminate()
    raise SystemExit(f"llama_cpp.server for {model} did not become ready")


def table(rows: list[dict[str, Any]]) -> str:
    base = next((r["total_s"] for r in rows if r["generator"] == "extractive"), None)
    lines = [
        "| provider | model | n | first token (median) | total (median) | × extractive | fallbacks | sentences kept / removed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r['total_s'] / base:.1f}×" if base else "n/a"
        lines.append(
            f"| {r['provider']} | {r['model']} | {r['n']} | {r['first_token_s'] * 1000:.0f} ms | {r['total_s'] * 1000:.0f} ms | "
            f"{ratio} | {r['fallbacks']}/{r['n']} | {r['supported']} / {r['removed']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--presets",
        nargs="+",
        default=["extractive", "local-smollm2"],
        help="presets to compare (extractive is always added)",
    )
    parser.add_argument("--n", type=int, default=5, help="questions per provider (medians over these)")
    parser.add_argument("--dataset", default=str(REPO / "eval" / "dev.jsonl"))
    parser.add_argument(
        "--serve-model", help="also bench the openai provider against `python -m llama_cpp.server` serving this model"
    )
    parser.add_argument("--json", help="write the rows (with per-question runs) to this file")
    args = parser.parse_args(argv)

    items = questions(Path(args.dataset), args.n)
    if not items:
        raise SystemExit(f"no answerable questions in {args.dataset}")
    presets = ["extractive", *[p for p in args.presets if p != "extractive"]]
    base = Assistant.from_settings(load_settings(preset="extractive"))
    rows = []
    for preset in presets:
        settings = load_settings(preset=preset)
        print(f"… {preset}", file=sys.stderr, flush=True)
        rows.append(run_row(preset, base if preset == "extractive" else with_preset(settings), items))
    if args.serve_model:
        settings = load_settings(preset="openai-compatible")
        proc, url = start_server(args.serve_model, settings)
        try:
            settings.generator.base_url = url
            settings.generator.model = args.serve_model
            print(f"… openai → llama_cpp.server ({args.serve_model})", file=sys.stderr, flush=True)
            rows.append(
                run_row(
                    f"openai-compatible (llama_cpp.server, {args.serve_model})",
                    with_preset(settings),
                    items,
                )
            )
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
