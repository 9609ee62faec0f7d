"""Draw the sentences to hand-label with rhetorical roles, as the chunker splits them.

    .venv/bin/python eval/roles/make_sample.py > eval/roles/sample.jsonl

Four articles of different kinds (an answer article with source cards, a pooled cohort analysis,
a randomised trial, an essay), up to 90 sentences each, spread evenly over their sections with a
fixed seed. Labellers see the heading path and the passage each sentence sits in.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

from followup_bot.corpus import load_manifest
from followup_bot.corpus.jats import parse_jats, write_article_folder
from followup_bot.settings import load_settings
from followup_bot.store.documents import chunk_one, scan_documents

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ["corpus", "journal.pmed.1001300", "journal.pntd.0001041", "journal.pmed.0020124"]
PER_ARTICLE = 90


def folder_for(name: str, tmp: Path) -> Path:
    if name == "corpus":
        return ROOT / "corpus"
    out = tmp / name
    write_article_folder(parse_jats(ROOT / "corpus" / "plos" / f"{name}.xml"), out)
    return out


def main() -> int:
    settings = load_settings(root=ROOT)
    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ARTICLES:
            manifest = load_manifest(folder_for(name, Path(tmp)))
            scanned = scan_documents(manifest, settings)
            refs = manifest.reference_map()
            rows = []
            for doc_id in scanned:
                for chunk in chunk_one(doc_id, scanned, manifest, refs, settings):
                    for i, sentence in enumerate(chunk.sentences):
                        rows.append(
                            {
                                "article": manifest.id,
                                "source_id": chunk.source_id,
                                "kind": chunk.kind,
                                "section": " > ".join(chunk.heading_path),
                                "index_in_passage": i,
                                "sentence": sentence.text,
                                "passage": chunk.text,
                            }
                        )
            by_section: dict[str, list[dict]] = {}
            for row in rows:
                top = row["section"].split(" > ")[:2]
                by_section.setdefault(" > ".join(top), []).append(row)
            chosen: list[dict] = []
            pools = [rng.sample(v, len(v)) for v in by_section.values()]
            while len(chosen) < PER_ARTICLE and any(pools):
                for pool in pools:
                    if pool and len(chosen) < PER_ARTICLE:
                        chosen.append(pool.pop())
            for n, row in enumerate(chosen, 1):
                sys.stdout.write(json.dumps({"id": f"{manifest.id}-{n:03d}", **row}, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
