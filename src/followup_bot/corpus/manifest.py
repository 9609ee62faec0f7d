"""The manifest: which documents form the knowledge base, and what each one is.

Bibliographic facts live here (or in a file's front matter), never in code, so another
article and its references can be dropped into `corpus/` without touching `src/`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from followup_bot.errors import CorpusError
from followup_bot.models import DocumentRecord


class Manifest(BaseModel):
    """One article and the works it cites. `id` names the article in the library."""

    id: str = ""
    title: str = ""
    source: str = ""
    licence: str = ""
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


def article_id(text: str) -> str:
    """A stable, readable article id: lower case, [a-z0-9._-], no leading or trailing punctuation."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower()).strip("._-")
    return slug[:120] or "article"


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
        manifest = Manifest(
            id=article_id(str(data.get("id") or corpus_dir.resolve().name)),
            title=data.get("title", ""),
            source=str(data.get("source", "")),
            licence=str(data.get("licence", "")),
            documents=data.get("documents", []),
            dir=corpus_dir,
        )
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
