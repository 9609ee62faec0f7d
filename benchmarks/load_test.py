"""Load test of `/ask`: starts a real server, drives it with locust at 50 then 100 users, prints a table.

    PYTHONPATH=src .venv/bin/python benchmarks/load_test.py [--users 50,100] [--duration 60] [--wait 0.5-2]
        [--workers N] [--max-queue N] [--torch-threads N] [--json OUT.json]

The server is `followup-bot serve` on a free port with the repository's settings (the options
above override them through FOLLOWUP_BOT_UI__* variables). The scenario is benchmarks/locustfile.py:
questions, follow-ups, emergency and crisis messages and junk, each with a unique nonce that the
answer's `standalone_question` must echo. For each user count the table gives throughput, latency
percentiles, errors, HTTP 503s, busy answers, answers crossed between users, and for the
emergency and crisis messages how many got the safety reply and how fast.

Locust runs in its own process (it monkey-patches the standard library with gevent), so this
script only starts processes and reads the samples the locustfile writes. Both share the
machine with the server: on 2 cores the numbers are the system's, load generator included.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from measure import free_port, pct

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
RAMP_UP_S = 3.0  # users start over the first 2 s, all at once: the burst is reported, and the rest apart


def start_server(port: int, overrides: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        **overrides,
    }
    argv = [sys.executable, "-m", "followup_bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "wb") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}; see its log")
        try:
            if httpx.get(url + "/config", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not come up in time")


def run_locust(url: str, users: int, duration: int, wait: str, samples: Path) -> None:
    env = {**os.environ, "LOADTEST_SAMPLES": str(samples), "LOADTEST_WAIT": wait}
    argv = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 2)),
        "--run-time",
        f"{duration}s",
        "--stop-timeout",
        "30",
        "--host",
        url,
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    with open(samples.with_suffix(".locust.log"), "wb") as log:  # locust's own summary, for reference
        subprocess.run(argv, cwd=ROOT, env=env, check=False, stdout=log, stderr=subprocess.STDOUT)


def summarise(samples: list[dict[str, Any]], users: int, duration: float) -> dict[str, Any]:
    stopped = sum(s["outcome"] == "stopped" for s in samples)
    samples = [s for s in samples if s["outcome"] != "stopped"]  # cut off by the end of the run
    latencies = [s["latency_ms"] for s in samples]
    safety = [s for s in samples if s["kind"] in ("emergency", "crisis")]
    safety_answered = [s for s in safety if s["outcome"] == "safety"]
    questions = [s for s in samples if s["kind"] in ("question", "followup")]
    answered = [s for s in questions if s["outcome"] == "answered"]
    echoes = [s.get("echo") for s in samples if "echo" in s]
    start = min((s["started"] for s in samples), default=0.0)
    settled = [s["latency_ms"] for s in safety_answered if s["started"] - start > RAMP_UP_S]
    return {
        "users": users,
        "requests": len(samples),
        "throughput_rps": round(len(samples) / duration, 1),
        "answered_rps": round(sum(s["outcome"] in ("answered", "safety") for s in samples) / duration, 1),
        "p50_ms": round(pct(latencies, 0.5)),
        "p95_ms": round(pct(latencies, 0.95)),
        "p99_ms": round(pct(latencies, 0.99)),
        "errors": sum(s["outcome"] in ("error", "http_error") for s in samples),
        "http_503": sum(s["outcome"] == "503" for s in samples),
        "busy": sum(s["outcome"] == "busy" for s in samples),
        "questions_answered": f"{len(answered)}/{len(questions)}",
        "question_p50_ms": round(pct([s["latency_ms"] for s in answered], 0.5)),
        "question_p95_ms": round(pct([s["latency_ms"] for s in answered], 0.95)),
        "echo_ok": echoes.count("ok"),
        "echo_na": echoes.count("n/a") + echoes.count("stripped"),
        "missing": echoes.count("missing"),
        "crossed": echoes.count("crossed"),
        "safety_sent": len(safety),
        "safety_replied": len(safety_answered),
        "safety_busy_or_error": len(safety) - len(safety_answered),
        "safety_p50_ms": round(pct([s["latency_ms"] for s in safety_answered], 0.5)),
        "safety_p95_ms": round(pct([s["latency_ms"] for s in safety_answered], 0.95)),
        "safety_p99_ms": round(pct([s["latency_ms"] for s in safety_answered], 0.99)),
        "safety_max_ms": round(max((s["latency_ms"] for s in safety_answered), default=float("nan"))),
        "safety_settled_p95_ms": round(pct(settled, 0.95)),
        "safety_settled_max_ms": round(max(settled, default=float("nan"))),
        "mean_ms": round(statistics.fmean(latencies)) if latencies else None,
        "stopped": stopped,
    }


ROWS = [
    ("users", "concurrent users"),
    ("requests", "requests"),
    ("throughput_rps", "throughput (req/s)"),
    ("answered_rps", "answered, not busy (req/s)"),
    ("p50_ms", "latency p50 (ms)"),
    ("p95_ms", "latency p95 (ms)"),
    ("p99_ms", "latency p99 (ms)"),
    ("errors", "errors"),
    ("http_503", "HTTP 503"),
    ("busy", "busy answers (friendly)"),
    ("questions_answered", "questions + follow-ups answered"),
    ("question_p50_ms", "  answered question p50 (ms)"),
    ("question_p95_ms", "  answered question p95 (ms)"),
    ("echo_ok", "nonce echoed"),
    ("echo_na", "nonce n/a (invalid input, injection stripped)"),
    ("missing", "nonce lost otherwise"),
    ("crossed", "answers crossed between users"),
    ("safety_sent", "emergency + crisis sent"),
    ("safety_replied", "  answered with the safety reply"),
    ("safety_busy_or_error", "  busy, error or missed"),
    ("safety_p50_ms", "  safety latency p50 (ms)"),
    ("safety_p95_ms", "  safety latency p95 (ms)"),
    ("safety_p99_ms", "  safety latency p99 (ms)"),
    ("safety_max_ms", "  safety latency max (ms)"),
    ("safety_settled_p95_ms", "  safety p95 after the ramp-up (ms)"),
    ("safety_settled_max_ms", "  safety max after the ramp-up (ms)"),
]


def table(results: list[dict[str, Any]]) -> str:
    width = max(len(label) for _, label in ROWS)
    lines = ["| " + "metric".ljust(width) + " | " + " | ".join(f"{r['users']:>8} users" for r in results) + " |"]
    lines.append("|" + "-" * (width + 2) + "|" + "|".join("-" * 16 for _ in results) + "|")
    for key, label in ROWS[1:]:
        lines.append("| " + label.ljust(width) + " | " + " | ".join(f"{r[key]!s:>14}" for r in results) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="50,100", help="comma-separated user counts, run one after the other")
    parser.add_argument("--duration", type=int, default=60, help="seconds per user count")
    parser.add_argument("--wait", default="0.5-2", help="think time between a user's calls, in seconds (min-max)")
    parser.add_argument("--workers", type=int, help="ui.concurrency_limit for the server")
    parser.add_argument("--max-queue", type=int, help="ui.max_queue for the server")
    parser.add_argument("--torch-threads", type=int, help="ui.torch_threads for the server")
    parser.add_argument("--url", help="drive this running server instead of starting one")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    overrides = {
        f"FOLLOWUP_BOT_UI__{name.upper()}": str(value)
        for name, value in (
            ("concurrency_limit", args.workers),
            ("max_queue", args.max_queue),
            ("torch_threads", args.torch_threads),
        )
        if value is not None
    }
    work = Path(tempfile.mkdtemp(prefix="followup-load-"))
    server = None
    url = (args.url or "").rstrip("/")
    if not url:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        overrides["FOLLOWUP_BOT_UI__FEEDBACK_PATH"] = str(work / "feedback.jsonl")
        server = start_server(port, overrides, work / "server.log")
        print(f"starting the server on {url} (log: {work / 'server.log'}) …", flush=True)
    try:
        if server is not None:
            wait_ready(url, server)
        for _ in range(3):  # warm the caches and the model before measuring
            httpx.post(
                url + "/gradio_api/call/ask", json={"data": ["What did the review conclude?", "[]", "clinician", ""]}
            )
        results = []
        for users in (int(u) for u in args.users.split(",")):
            samples_path = work / f"samples-{users}.jsonl"
            print(f"{users} users for {args.duration} s …", flush=True)
            run_locust(url, users, args.duration, args.wait, samples_path)
            samples = [json.loads(line) for line in samples_path.read_text().splitlines() if line.strip()]
            results.append(summarise(samples, users, args.duration))
            bad = [
                s
                for s in samples
                if s["outcome"] in ("error", "http_error", "503") or s.get("echo") in ("crossed", "missing")
            ]
            for s in bad[:5]:
                print("  problem:", json.dumps(s)[:300])
            time.sleep(3)  # let the line drain between runs
        shown = {k: v for k, v in overrides.items() if not k.endswith("FEEDBACK_PATH")}
        settings = ", ".join(f"{k.removeprefix('FOLLOWUP_BOT_UI__').lower()}={v}" for k, v in shown.items())
        print(f"\n/ask under load ({args.duration} s per run, think time {args.wait} s; {settings or 'defaults'})\n")
        print(table(results))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
