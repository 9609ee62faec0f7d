"""The library commands: `import PATH...` and `articles`.

They print one line per article (or JSON with `--json`), report every failure on its own line,
and exit 2 when any file failed, after importing all the others.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from followup_bot.errors import UserError
from followup_bot.library_import import Importer
from followup_bot.settings import Settings
from followup_bot.store import ChunkStore, corpus_manifest, list_articles, make_client


def add_parsers(sub: Any, common: Any) -> None:
    p = sub.add_parser("import", help="import JATS XML files, folders of them, or manifest folders into the library")
    common(p)
    p.add_argument("paths", nargs="+", help="a .xml file, a folder of them, or a folder holding a manifest.toml")
    p = sub.add_parser("articles", help="list the articles in the library")
    common(p)


def _progress(enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return lambda it, total, desc: tqdm(it, total=total, desc=desc, unit="article", file=sys.stderr)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    importer = Importer(settings)
    done, failures = importer.run([Path(p) for p in args.paths], progress=_progress(sys.stderr.isatty()))
    counts = {s: sum(1 for d in done if d.status == s) for s in ("added", "updated", "unchanged")}
    if args.json:
        payload = {
            "articles": [
                {k: v for k, v in d.as_dict().items() if k in ("id", "title", "documents", "chunks", "references")}
                for d in done
            ],
            **counts,
            "failed": [{"path": f.path, "error": f.message} for f in failures],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        for d in done:
            sys.stdout.write(f"{d.status:9} {d.id}  {d.chunks} passages, {d.references} references  {d.title[:70]}\n")
        sys.stdout.write(", ".join(f"{n} {s}" for s, n in counts.items()) + f", {len(failures)} failed\n")
    for f in failures:
        sys.stderr.write(f"followup-bot: {f.message}\n")
    return UserError.exit_code if failures else 0


def cmd_articles(args: argparse.Namespace, settings: Settings) -> int:
    from followup_bot.corpus import load_manifest

    client = make_client(settings)
    indexed = list_articles(client, settings)
    manifests = [corpus_manifest(settings)]
    folder = settings.resolve(settings.library.dir)
    if folder.is_dir():
        manifests += [load_manifest(p) for p in sorted(folder.iterdir()) if (p / "manifest.toml").is_file()]
    rows: list[dict[str, Any]] = []
    for manifest in manifests:
        info = indexed.get(manifest.id, {})
        chunks = info.get("chunks")
        if chunks is None:
            chunks = sum(
                int(d.get("chunks", 0))
                for d in ChunkStore(settings, None, manifest.id, client).state().get("docs", {}).values()
            )
        article = manifest.article()
        rows.append(
            {
                "id": manifest.id,
                "title": manifest.title or (article.title if article else ""),
                "documents": len(manifest.documents),
                "chunks": int(chunks),
            }
        )
    if args.json:
        sys.stdout.write(json.dumps({"articles": rows}, ensure_ascii=False, indent=2) + "\n")
    else:
        for r in rows:
            sys.stdout.write(f"{r['id']:32} {r['documents']:4} documents {r['chunks']:6} passages  {r['title'][:70]}\n")
    return 0
