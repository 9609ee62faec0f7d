"""The manifest: which documents form the knowledge base, and what each one is.

Bibliographic facts live here (or in a file's front matter), never in code, so another
article and its references can be dropped into `corpus/` without touching `src/`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from followup_bot.errors import CorpusError
from followup_bot.models import DocumentRecord


class Manifest(BaseModel):
    title: str = ""
    documents: list[DocumentRecord] = Field(default_factory=list)
    dir: Path = Path(".")

    def by_id(self) -> dict[str, DocumentRecord]:
        return {d.id: d for d in self.documents}

    def article(self) -> DocumentRecord | None:
        return next((d for d in self.documents if d.kind == "article"), None)

    def reference_map(self) -> dict[str, str]:
        """`[n]` → document id, from the article's list, then from the sources' numbers."""
        refs = {str(d.reference_number): d.id for d in self.documents if d.reference_number is not None}
        for doc in self.documents:
            refs.update(doc.references)
        return refs


def load_manifest(corpus_dir: Path, filename: str = "manifest.toml") -> Manifest:
    path = corpus_dir / filename
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(f"corpus manifest not found: {path} (set corpus.dir / corpus.manifest)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"corpus manifest unreadable: {path} ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"corpus manifest is not valid TOML: {path} ({exc})") from None
    try:
        manifest = Manifest(title=data.get("title", ""), documents=data.get("documents", []), dir=corpus_dir)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise CorpusError(f"corpus manifest {path}: '{loc}': {err['msg']}") from None
    ids = [d.id for d in manifest.documents]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise CorpusError(f"corpus manifest {path}: duplicate document ids {sorted(duplicates)}")
    if not manifest.documents:
        raise CorpusError(f"corpus manifest {path} lists no documents")
    return manifest
