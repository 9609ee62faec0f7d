"""Importing articles into the library: JATS files, folders of them, or manifest folders.

Each article becomes a folder of the library (`article.md` + `manifest.toml`) and a pair of
collections in the store. An import is idempotent by content: an article whose folder would be
the same is left alone and reported unchanged. A new or changed article is written to a staging
folder and ingested from there; only when that succeeds does the staging folder replace the old
one, so a failure (a malformed file, a full disk, a dead Chroma server) leaves the library as it
was. A multi-file import reports each failure and imports the rest.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from followup_bot.corpus import Manifest, load_manifest
from followup_bot.corpus.jats import JatsArticle, parse_jats, write_article_folder
from followup_bot.embeddings import SentenceTransformerEmbeddings
from followup_bot.errors import CorpusError, UserError
from followup_bot.settings import Settings
from followup_bot.store import ChunkStore, corpus_manifest, make_client

Status = Literal["added", "updated", "unchanged"]
Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]


@dataclass
class Imported:
    id: str
    title: str
    documents: int
    chunks: int
    references: int
    status: Status
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "documents": self.documents,
            "chunks": self.chunks,
            "references": self.references,
            "status": self.status,
            "source": self.source,
        }


@dataclass
class Failure:
    path: str
    message: str


def sources(paths: Iterable[Path]) -> Iterator[Path]:
    """Every article a path names: a JATS file, a manifest folder, or a folder holding either."""
    for path in paths:
        if path.is_dir() and (path / "manifest.toml").is_file():
            yield path
        elif path.is_dir():
            for child in sorted(path.iterdir()):
                if child.suffix.lower() == ".xml" or (child.is_dir() and (child / "manifest.toml").is_file()):
                    yield child
        else:
            yield path


def _same_folder(a: Path, b: Path) -> bool:
    """The two folders hold the same files with the same bytes."""
    if not b.is_dir():
        return False
    names = {p.name for p in a.iterdir()} | {p.name for p in b.iterdir()}
    return all((a / n).is_file() and (b / n).is_file() and (a / n).read_bytes() == (b / n).read_bytes() for n in names)


class Importer:
    """Imports into the library folder and the store of one configuration."""

    def __init__(self, settings: Settings, embedder: SentenceTransformerEmbeddings | None = None) -> None:
        self.settings = settings
        self.folder = settings.resolve(settings.library.dir)
        self._client: Any = None
        self._embedder = embedder
        self.reserved = {corpus_manifest(settings).id}

    @property
    def client(self) -> Any:
        """The store is opened only when an article has been read whole: a bad file never touches it."""
        if self._client is None:
            self._client = make_client(self.settings)
        return self._client

    def run(self, paths: list[Path], progress: Progress | None = None) -> tuple[list[Imported], list[Failure]]:
        done: list[Imported] = []
        failures: list[Failure] = []
        seen: dict[str, str] = {}
        items = list(sources(paths))
        for path in progress(items, len(items), "articles") if progress else items:
            try:
                done.append(self.one(path, seen))
            except UserError as exc:
                failures.append(Failure(str(path), " ".join(str(exc).split())))
        return done, failures

    def one(self, path: Path, seen: dict[str, str]) -> Imported:
        """Import one article; raises a UserError naming the file, with the library untouched."""
        if not path.exists():
            raise CorpusError(f"{path}: no such file or folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".import-", dir=self.folder) as tmp:
            staging = Path(tmp) / "article"
            if path.is_dir():
                manifest = load_manifest(path)
                shutil.copytree(path, staging, ignore=shutil.ignore_patterns(".*", "__pycache__"))
                article_id = manifest.id
            else:
                if path.suffix.lower() != ".xml":
                    raise CorpusError(f"{path.name}: not a JATS .xml file or a folder with a manifest.toml")
                article: JatsArticle = parse_jats(path)
                article_id = article.id
                write_article_folder(article, staging)
            if article_id in self.reserved:
                raise CorpusError(f"{path.name}: article id {article_id!r} is the corpus article's own id")
            if article_id in seen:
                raise CorpusError(f"{path.name}: duplicate article id {article_id!r} (also from {seen[article_id]})")
            seen[article_id] = path.name
            target = self.folder / article_id
            staged = load_manifest(staging)
            if staged.id != article_id:
                staged = staged.model_copy(update={"id": article_id})
            store = ChunkStore(self.settings, self._embedder, article_id, client=self.client)
            status: Status = "added" if not target.exists() else "updated"
            if target.exists() and _same_folder(staging, target) and store.is_current(staged):
                status = "unchanged"
            else:
                store.ingest(staged)
                self._embedder = store.embedder  # loaded once, shared by the next articles
                if target.exists():
                    shutil.rmtree(target)
                staging.rename(target)
        return self._summary(load_manifest(target), store, status, path)

    @staticmethod
    def _summary(manifest: Manifest, store: ChunkStore, status: Status, path: Path) -> Imported:
        docs = store.state().get("docs", {})
        article = manifest.article()
        return Imported(
            id=manifest.id,
            title=manifest.title or (article.title if article else ""),
            documents=len(manifest.documents),
            chunks=sum(int(d.get("chunks", 0)) for d in docs.values()),
            references=sum(1 for d in manifest.documents if d.kind == "source"),
            status=status,
            source=path.name,
        )
