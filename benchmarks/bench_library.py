"""The library at scale: import throughput, store size, serving memory under the LRU, and warm ask
latency in a library of one vs. the full library.

    .venv/bin/python benchmarks/bench_library.py [--articles N] [--rounds 3] [--keep DIR] [--json FILE]

Everything happens in fresh temporary stores and libraries (or under `--keep DIR`), never in the
configured ones:

1. import: the given articles (default: all of corpus/plos, `--articles N` for the first N) in one
   `Importer.run`, with the embedding model loaded beforehand (its load time is reported apart);
   throughput in articles/min and passages/s, and the sizes of the store and the library folder.
2. latency: a library of one (a store holding only the default article), the full library, and a
   second assistant on the library of one (an A/A control: its ratio to the first is the noise
   floor of this run) are built side by side in this process; after a warm-up each
   default-article question (eval/dev.jsonl, answerable + followup) is asked of all three, in
   rotating order, for `--rounds` rounds. The ratio full/one at p50 is the number to compare
   across runs (bar: <= 1.5), read against the A/A ratio. Rounds after the first repeat the
   questions, whose query vectors then come from the embedder's cache (as in bench_answer.py), so
   p50 over 3 rounds is mostly the cached path; the round-1 column is each question asked for the
   first time.
3. memory and the LRU: a separate process opens the full library with `[library] cache_size`
   `--cache-size` (8), then asks one question on each imported article (first use builds the
   article's index: "not in the LRU") and at once a second one ("in the LRU"). Its RSS after
   `Assistant.from_settings` and after 1, cache-size and all articles shows whether memory stays
   bounded. The two library questions are the same for every article and are asked of the default
   article first, so their query vectors are cached; what each article caches for itself (vectors
   of the question's words) is computed in both asks alike. The "open" column (the ask's time
   outside the pipeline's steps) is where building an index shows.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from measure import disk_usage, p50, pct, work_folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PLOS = ROOT / "corpus" / "plos"
PROBE_MARK = "PROBE-RESULT "
# Asked of every library article: one when its index is built, the other while it is cached.
LIBRARY_QUESTIONS = ("What was the main finding of this study?", "What methods did the authors use?")
MIB = 1024 * 1024


def rss() -> int:
    """Resident set size of this process in bytes, after a garbage collection."""
    gc.collect()
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # KiB on Linux


def configure(folder: Path, cache_size: int = 8) -> Any:
    """The repository's settings with the store and the library moved into folder."""
    from followup_bot.settings import load_settings

    settings = load_settings(root=ROOT)
    settings.store.path = folder / "chroma"
    settings.library.dir = folder / "library"
    settings.library.cache_size = cache_size
    return settings


def dev_questions(paths: list[str], categories: set[str], limit: int) -> list[dict]:
    items = []
    for path in paths:
        items += [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    return [i for i in items if i["category"] in categories][:limit]


# -- 1. import -----------------------------------------------------------------------------------
def run_import(folder: Path, files: list[Path]) -> dict[str, Any]:
    from followup_bot.embeddings import SentenceTransformerEmbeddings
    from followup_bot.library_import import Importer

    settings = configure(folder)
    embedder = SentenceTransformerEmbeddings(settings.embeddings)
    t0 = time.perf_counter()
    embedder.model  # noqa: B018 - loads the model now, so the import is timed without it
    model_s = time.perf_counter() - t0

    per_article: list[tuple[str, float]] = []

    def progress(items: Iterable[Any], total: int, _label: str) -> Iterator[Any]:
        start = last = time.perf_counter()
        for i, item in enumerate(items, 1):
            yield item
            now = time.perf_counter()
            per_article.append((Path(item).name, now - last))
            print(f"  import {i}/{total} {Path(item).name}: {now - last:.1f} s ({now - start:.0f} s)", file=sys.stderr)
            last = now

    importer = Importer(settings, embedder)
    t0 = time.perf_counter()
    done, failures = importer.run(list(files), progress=progress)
    seconds = time.perf_counter() - t0

    sentences = words = 0
    client = importer.client
    for coll in client.list_collections():
        name = getattr(coll, "name", coll)
        if name.endswith(("-sentences", "-words")):
            count = client.get_collection(name, embedding_function=None).count()
            sentences += count if name.endswith("-sentences") else 0
            words += count if name.endswith("-words") else 0
    passages = sum(i.chunks for i in done)
    store, library = disk_usage(folder / "chroma"), disk_usage(folder / "library")
    return {
        "files": len(files),
        "articles": len(done),
        "passages": passages,
        "sentences": sentences,
        "words": words,
        "references": sum(i.references for i in done),
        "failures": [{"path": f.path, "message": f.message} for f in failures],
        "model_load_s": model_s,
        "seconds": seconds,
        "articles_per_min": len(done) / seconds * 60 if seconds else float("nan"),
        "passages_per_s": passages / seconds if seconds else float("nan"),
        "slowest": sorted(per_article, key=lambda x: -x[1])[:3],
        "store_bytes": store[0],
        "store_apparent_bytes": store[1],
        "library_bytes": library[0],
        "library_apparent_bytes": library[1],
        "ids": [i.id for i in done],
    }


# -- 2. latency: a library of one vs. the full library ------------------------------------------
SIDES = ("one", "full", "control")  # control: a second assistant on the library of one (an A/A check)


def ratios(totals: dict[str, list[float]], first: dict[str, list[float]], side: str) -> dict[str, float]:
    """side/one: of the p50s, of the p95s, of the round-1 p50s, and the median of per-question ratios."""
    return {
        "p50": p50(totals[side]) / p50(totals["one"]),
        "p95": pct(totals[side], 0.95) / pct(totals["one"], 0.95),
        "first_round_p50": p50(first[side]) / p50(first["one"]),
        # Each question asked of both back to back: less at the mercy of a noisy minute.
        "paired_p50": p50([a / b for a, b in zip(totals[side], totals["one"], strict=True) if b > 0]),
    }


def run_latency(one_dir: Path, full_dir: Path, items: list[dict], rounds: int) -> dict[str, Any]:
    from followup_bot import Assistant

    built: dict[str, Any] = {}
    build_s: dict[str, float] = {}
    for name, folder in zip(SIDES, (one_dir, full_dir, one_dir), strict=True):
        t0 = time.perf_counter()
        built[name] = Assistant.from_settings(configure(folder))  # ingests the default article into that store
        build_s[name] = time.perf_counter() - t0
    assert len({a.default_article for a in built.values()}) == 1

    def ask(assistant: Any, item: dict) -> Any:
        return assistant.ask(
            item["question"], history=item.get("history"), audience=item.get("audience") or "clinician"
        )

    for item in items[:3]:  # warm all three
        for name in SIDES:
            ask(built[name], item)

    totals: dict[str, list[float]] = {name: [] for name in SIDES}
    first_round: dict[str, list[float]] = {name: [] for name in SIDES}
    retrieve: dict[str, list[float]] = {name: [] for name in SIDES}
    same = 0
    n = 0
    for r in range(rounds):
        for i, item in enumerate(items):
            k = (r + i) % len(SIDES)  # each side goes first, second and third in turn
            texts = {}
            for name in SIDES[k:] + SIDES[:k]:
                answer = ask(built[name], item)
                totals[name].append(answer.timings_ms["total"])
                if r == 0:
                    first_round[name].append(answer.timings_ms["total"])
                retrieve[name].append(answer.timings_ms.get("retrieve", float("nan")))
                texts[name] = answer.answer
            same += len(set(texts.values())) == 1
            n += 1
    return {
        "default_article": built["one"].default_article,
        "questions": len(items),
        "rounds": rounds,
        "asks_each": n,
        "build_s": build_s,
        **{
            name: {
                "p50_ms": p50(totals[name]),
                "p95_ms": pct(totals[name], 0.95),
                "first_round_p50_ms": p50(first_round[name]),
                "retrieve_p50_ms": p50(retrieve[name]),
            }
            for name in SIDES
        },
        "full_over_one": ratios(totals, first_round, "full"),
        "control_over_one": ratios(totals, first_round, "control"),
        "same_answers": same,
        "libraries": {name: len(a.articles()) for name, a in built.items()},
        "totals_ms": totals,
    }


# -- 3. memory and the LRU, in a process of its own ----------------------------------------------
def probe(folder: Path, cache_size: int, default_question: str) -> dict[str, Any]:
    """Runs in a fresh process: RSS after start-up and after one question on each library article."""
    from followup_bot import Assistant

    rss_start = rss()
    t0 = time.perf_counter()
    assistant = Assistant.from_settings(configure(folder, cache_size), auto_ingest=False)
    startup_s = time.perf_counter() - t0
    rss_ready, peak_ready = rss(), peak_rss()
    for question in (default_question, *LIBRARY_QUESTIONS):  # their query vectors are cached from here on
        assistant.ask(question)
    rss_default = rss()
    ids = [a["id"] for a in assistant.articles() if a["id"] != assistant.default_article]
    miss: list[float] = []
    hit: list[float] = []
    steps: dict[str, dict[str, list[float]]] = {"miss": {}, "hit": {}}
    after: list[int] = []
    for i, article in enumerate(ids):
        first, second = LIBRARY_QUESTIONS if i % 2 == 0 else LIBRARY_QUESTIONS[::-1]
        for kind, question, times in (("miss", first, miss), ("hit", second, hit)):
            t0 = time.perf_counter()
            answer = assistant.ask(question, article=article)
            times.append((time.perf_counter() - t0) * 1000)
            for step, ms in answer.timings_ms.items():
                steps[kind].setdefault(step, []).append(ms)
            # Outside the pipeline's steps: opening the article (building its index when not cached).
            inside = sum(ms for step, ms in answer.timings_ms.items() if step != "total")
            steps[kind].setdefault("open", []).append(answer.timings_ms["total"] - inside)
        after.append(rss())
        print(f"  probe {i + 1}/{len(ids)} {article}: first use {miss[-1]:.0f} ms", file=sys.stderr)
    return {
        "cache_size": cache_size,
        "library_articles": len(ids),
        "startup_s": startup_s,
        "rss_start_bytes": rss_start,
        "rss_from_settings_bytes": rss_ready,
        "peak_rss_from_settings_bytes": peak_ready,
        "rss_default_asked_bytes": rss_default,
        "rss_after_articles_bytes": after,
        "peak_rss_bytes": peak_rss(),
        "miss_ms": miss,
        "hit_ms": hit,
        "steps_p50_ms": {kind: {k: p50(v) for k, v in d.items()} for kind, d in steps.items()},
    }


def run_probe(folder: Path, cache_size: int, default_question: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--probe", str(folder), "--cache-size", str(cache_size)]
    cmd += ["--probe-question", default_question]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])))
    out = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith(PROBE_MARK)]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"memory probe failed (exit {out.returncode}); its stderr is above")
    return json.loads(lines[-1][len(PROBE_MARK) :])


# -- the report ----------------------------------------------------------------------------------
def report(result: dict[str, Any]) -> None:
    imp, lat, mem = result["import"], result["latency"], result["memory"]
    print(f"\nLibrary benchmark on this machine: {imp['files']} JATS files from corpus/plos")
    print(f"{'import (one Importer.run)':48} {'value':>12}")
    print("-" * 62)
    rows = [
        ("articles imported / failures", f"{imp['articles']} / {len(imp['failures'])}"),
        ("passages / references", f"{imp['passages']} / {imp['references']}"),
        ("also embedded: sentences / distinct words", f"{imp['sentences']} / {imp['words']}"),
        ("model load s (not in the import time)", f"{imp['model_load_s']:.1f}"),
        ("import s", f"{imp['seconds']:.1f}"),
        ("articles/min", f"{imp['articles_per_min']:.1f}"),
        ("passages/s", f"{imp['passages_per_s']:.1f}"),
        ("store MiB (du / apparent)", f"{imp['store_bytes'] / MIB:.1f} / {imp['store_apparent_bytes'] / MIB:.1f}"),
        (
            "library folder MiB (du / apparent)",
            f"{imp['library_bytes'] / MIB:.2f} / {imp['library_apparent_bytes'] / MIB:.2f}",
        ),
    ]
    for name, value in rows:
        print(f"{name:48} {value:>12}")
    if imp["slowest"]:
        print("slowest imports: " + ", ".join(f"{n} {s:.1f} s" for n, s in imp["slowest"]))
    for f in imp["failures"]:
        print(f"  FAILED {f['path']}: {f['message']}")

    print(
        f"\nWarm ask, default article: {lat['questions']} questions x {lat['rounds']} rounds, asked of a library "
        f"of {lat['libraries']['one']} and of {lat['libraries']['full']} articles (one process, interleaved)"
    )
    print(f"{'':34} {'p50 ms':>9} {'p95 ms':>9} {'round-1 p50':>12} {'retrieve p50':>13}")
    print("-" * 81)
    labels = {"one": "library of one", "full": "full library", "control": "library of one again (A/A)"}
    for name in SIDES:
        row = lat[name]
        print(
            f"{labels[name]:34} {row['p50_ms']:9.1f} {row['p95_ms']:9.1f} {row['first_round_p50_ms']:12.1f} "
            f"{row['retrieve_p50_ms']:13.1f}"
        )
    print(f"\n{'ratio to the library of one':34} {'p50':>9} {'p95':>9} {'round-1 p50':>12} {'paired p50':>13}")
    print("-" * 81)
    for key, label in (("full_over_one", "full / one"), ("control_over_one", "one again / one (noise floor)")):
        r = lat[key]
        print(f"{label:34} {r['p50']:9.2f} {r['p95']:9.2f} {r['first_round_p50']:12.2f} {r['paired_p50']:13.2f}")
    print(f"same answer text from all three: {lat['same_answers']}/{lat['asks_each']}")
    b = lat["build_s"]
    print(
        f"from_settings s (with the default-article ingest; the first also loads torch): "
        f"one {b['one']:.1f}, full {b['full']:.1f}, one again {b['control']:.1f}"
    )

    after = mem["rss_after_articles_bytes"]
    n = len(after)
    print(f"\nServing memory, separate process, cache_size {mem['cache_size']}, {n} library articles asked")
    print(f"{'':48} {'RSS MiB':>9}")
    print("-" * 58)
    print(f"{'after Assistant.from_settings (default only)':48} {mem['rss_from_settings_bytes'] / MIB:9.0f}")
    print(f"{'after three default-article questions':48} {mem['rss_default_asked_bytes'] / MIB:9.0f}")
    for k in sorted({1, mem["cache_size"], n}):
        if 1 <= k <= n:
            print(f"{f'after questions on {k} library article(s)':48} {after[k - 1] / MIB:9.0f}")
    print(f"{'peak during Assistant.from_settings':48} {mem['peak_rss_from_settings_bytes'] / MIB:9.0f}")
    print(f"{'peak over the whole probe':48} {mem['peak_rss_bytes'] / MIB:9.0f}")
    print(f"\n{'library-article ask':30} {'p50 ms':>9} {'p95 ms':>9} {'open p50':>9} {'retrieve':>9} {'evidence':>9}")
    print("-" * 80)
    for kind, label in (("miss", "not in the LRU (builds index)"), ("hit", "in the LRU")):
        values, st = mem[f"{kind}_ms"], mem["steps_p50_ms"][kind]
        print(
            f"{label:30} {p50(values):9.1f} {pct(values, 0.95):9.1f} {st.get('open', float('nan')):9.1f} "
            f"{st.get('retrieve', float('nan')):9.1f} {st.get('evidence', float('nan')):9.1f}"
        )
    print("(open = outside the pipeline's steps: finding the article, building its index if not cached)")

    ratio, floor = lat["full_over_one"]["p50"], lat["control_over_one"]["p50"]
    print(f"\nBar: warm p50 full/one <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'} ({ratio:.2f}; A/A {floor:.2f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", help="JATS files or folders to import (default: corpus/plos)")
    parser.add_argument("--articles", type=int, help="only the first N files (sorted by name)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--questions", action="append", help="question file(s); default eval/dev.jsonl")
    parser.add_argument("--categories", default="answerable,followup")
    parser.add_argument("--limit", type=int, default=40, help="at most this many questions")
    parser.add_argument("--cache-size", type=int, default=8, help="[library] cache_size in the memory probe")
    parser.add_argument("--keep", metavar="DIR", help="build in DIR (new or empty) and keep it")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--probe-question", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.probe:
        result = probe(Path(args.probe), args.cache_size, args.probe_question)
        print(PROBE_MARK + json.dumps(result), flush=True)
        return 0

    roots = [Path(p) for p in args.paths] or [PLOS]
    files = sorted(p for r in roots for p in ([r] if r.is_file() else r.glob("*.xml")))
    if args.articles is not None:
        files = files[: args.articles]
    items = dev_questions(args.questions or [str(ROOT / "eval/dev.jsonl")], set(args.categories.split(",")), args.limit)
    if not files or not items:
        parser.error("no articles to import or no questions")

    base, tmp = work_folder(args.keep, "bench-library-")

    t0 = time.perf_counter()
    print(f"import: {len(files)} files into {base / 'full'}", file=sys.stderr)
    result: dict[str, Any] = {"import": run_import(base / "full", files)}
    print("latency: library of one vs full library", file=sys.stderr)
    result["latency"] = run_latency(base / "one", base / "full", items, args.rounds)
    print("memory: probe process", file=sys.stderr)
    result["memory"] = run_probe(base / "full", args.cache_size, items[0]["question"])
    result["wall_s"] = time.perf_counter() - t0
    result["kept"] = str(base) if args.keep else None

    report(result)
    print(f"(benchmark wall time {result['wall_s']:.0f} s)")
    if args.keep:
        print(f"Stores and libraries kept in {base} (full/, one/)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
