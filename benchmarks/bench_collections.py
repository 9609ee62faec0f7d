"""Store layout: one Chroma collection per article vs. one shared collection filtered by article.

    .venv/bin/python benchmarks/bench_collections.py [--articles 118] [--passages 90] [--queries 200] [--json FILE]

The measurement behind the store design (src/followup_bot/store/client.py). Synthetic unit
vectors (384-d, fixed seed; each article gets 0.5x-1.5x `--passages` of them) are added to two
fresh PersistentClients in temporary folders: "shared" holds every passage in one collection with
an `article` metadata field, "per-article" holds one collection per article with the same rows and
metadata. Each query picks an article and a vector near one of its passages, then asks both
layouts for the top `--k` in that article: a `where={"article": ...}` query in the shared
collection, an unfiltered query in the article's own collection. The two are interleaved, and
their order alternates, so the machine's noise falls on both alike. Every article is queried once
before the timed queries ("first query", which loads that article's index in the per-article
layout). Reported: p50/p95 per layout and the ratio shared/per-article, add time, disk size (du:
allocated blocks) and how often both layouts return the same top-k ids.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from measure import disk_usage, pct, work_folder


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def make_data(n_articles: int, passages: int, dim: int, seed: int) -> dict[str, np.ndarray]:
    """Article id -> its passage vectors (unit length); the counts vary around `passages`."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(max(1, passages // 2), passages * 3 // 2 + 1, size=n_articles)
    return {f"art-{i:03d}": unit(rng.standard_normal((int(n), dim))) for i, n in enumerate(counts)}


def client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))


def new_collection(c: Any, name: str) -> Any:
    # The same index settings as the real store (cosine HNSW, vectors supplied by the caller).
    return c.create_collection(name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=118)
    parser.add_argument("--passages", type=int, default=90, help="mean passages per article")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=20, help="results per query (retrieval.dense_k)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", metavar="DIR", help="build the two stores in DIR (new or empty) and keep them")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    args = parser.parse_args()

    root, tmp = work_folder(args.keep, "bench-collections-")

    data = make_data(args.articles, args.passages, args.dim, args.seed)
    n_rows = sum(len(v) for v in data.values())
    shared_client, per_client = client(root / "shared"), client(root / "per-article")
    shared = new_collection(shared_client, "bench-shared")
    per: dict[str, Any] = {}

    # Adds: one call per article in both layouts, alternating which layout goes first.
    add_s = {"shared": 0.0, "per-article": 0.0}
    for i, (aid, vectors) in enumerate(data.items()):
        ids = [f"{aid}-{j}" for j in range(len(vectors))]
        metas = [{"article": aid, "position": j} for j in range(len(vectors))]
        steps = [("shared", None), ("per-article", aid)]
        for layout, article in steps if i % 2 == 0 else steps[::-1]:
            t0 = time.perf_counter()
            if article is None:
                shared.add(ids=ids, embeddings=vectors, metadatas=metas)
            else:
                per[article] = new_collection(per_client, f"bench-{article}")
                per[article].add(ids=ids, embeddings=vectors, metadatas=metas)
            add_s[layout] += time.perf_counter() - t0

    rng = np.random.default_rng(args.seed + 1)
    ids_list = list(data)

    def query_vector(aid: str) -> np.ndarray:
        base = data[aid][rng.integers(len(data[aid]))]
        return unit((base + 0.5 * unit(rng.standard_normal((1, args.dim)))[0])[None, :])

    def run(aid: str, q: np.ndarray, order: int) -> tuple[float, float, bool]:
        ms = {}
        got = {}
        for layout in ("shared", "per-article")[:: 1 if order % 2 == 0 else -1]:
            t0 = time.perf_counter()
            if layout == "shared":
                res = shared.query(query_embeddings=q, n_results=args.k, where={"article": aid}, include=[])
            else:
                res = per[aid].query(query_embeddings=q, n_results=args.k, include=[])
            ms[layout] = (time.perf_counter() - t0) * 1000
            got[layout] = set(res["ids"][0])
        return ms["shared"], ms["per-article"], got["shared"] == got["per-article"]

    first = [run(aid, query_vector(aid), i) for i, aid in enumerate(ids_list)]
    timed = []
    for i in range(args.queries):
        aid = ids_list[int(rng.integers(len(ids_list)))]
        timed.append(run(aid, query_vector(aid), i))

    shared_disk, per_disk = disk_usage(root / "shared"), disk_usage(root / "per-article")
    sq, pq = [t[0] for t in timed], [t[1] for t in timed]
    sf, pf = [t[0] for t in first], [t[1] for t in first]
    result = {
        "articles": args.articles,
        "passages": n_rows,
        "dim": args.dim,
        "k": args.k,
        "queries": args.queries,
        "seed": args.seed,
        "shared": {
            "query_p50_ms": statistics.median(sq),
            "query_p95_ms": pct(sq, 0.95),
            "first_query_p50_ms": statistics.median(sf),
            "add_s": add_s["shared"],
            "disk_bytes": shared_disk[0],
            "apparent_bytes": shared_disk[1],
        },
        "per_article": {
            "query_p50_ms": statistics.median(pq),
            "query_p95_ms": pct(pq, 0.95),
            "first_query_p50_ms": statistics.median(pf),
            "add_s": add_s["per-article"],
            "disk_bytes": per_disk[0],
            "apparent_bytes": per_disk[1],
        },
        "ratio_p50_shared_over_per_article": statistics.median(sq) / statistics.median(pq),
        "same_top_k": sum(t[2] for t in timed) / len(timed) if timed else float("nan"),
        "store": str(root) if args.keep else None,
    }

    s, p = result["shared"], result["per_article"]
    mib = 1024 * 1024
    print(
        f"\nStore layout on this machine: {args.articles} articles, {n_rows} passages of {args.dim}-d, "
        f"top-{args.k}, {args.queries} queries (seed {args.seed})"
    )
    print(f"{'':34} {'shared+filter':>14} {'per-article':>12} {'shared/per':>11}")
    print("-" * 74)
    rows = [
        ("query p50 ms", s["query_p50_ms"], p["query_p50_ms"], "{:14.2f} {:12.2f}"),
        ("query p95 ms", s["query_p95_ms"], p["query_p95_ms"], "{:14.2f} {:12.2f}"),
        ("first query per article p50 ms", s["first_query_p50_ms"], p["first_query_p50_ms"], "{:14.2f} {:12.2f}"),
        ("add all passages s", s["add_s"], p["add_s"], "{:14.2f} {:12.2f}"),
        ("disk (du) MiB", s["disk_bytes"] / mib, p["disk_bytes"] / mib, "{:14.1f} {:12.1f}"),
        ("disk (apparent) MiB", s["apparent_bytes"] / mib, p["apparent_bytes"] / mib, "{:14.1f} {:12.1f}"),
    ]
    for name, a, b, fmt in rows:
        print(f"{name:34} " + fmt.format(a, b) + f" {a / b if b else float('nan'):11.2f}")
    print(f"\nSame top-{args.k} ids in both layouts: {result['same_top_k']:.0%} of timed queries")
    if args.keep:
        print(f"Stores kept in {root}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if tmp is not None:
        del shared, per, shared_client, per_client
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
