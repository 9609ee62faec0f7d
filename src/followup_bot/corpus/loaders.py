"""Files → text. One loader per format, chosen by extension through a registry.

Offsets of chunks are offsets in the text a loader returns. For .md and .txt that text is the
file itself, so `file[start:end]` is the quote; for .html and .pdf it is the extracted text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from followup_bot.corpus.manifest import CorpusError

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.DOTALL)


@dataclass
class LoadedDocument:
    """The text of one file, where its body starts, and its front matter."""

    text: str
    body_start: int = 0
    front_matter: dict[str, Any] = field(default_factory=dict)
    raw_bytes: bytes = b""


def _split_front_matter(text: str, path: Path) -> tuple[int, dict[str, Any]]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return 0, {}
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: front matter is not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: front matter must be a mapping")
    return match.end(), data


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def load_text(raw: bytes, path: Path) -> LoadedDocument:
    text = _decode(raw, path)
    body_start, front = _split_front_matter(text, path)
    return LoadedDocument(text=text, body_start=body_start, front_matter=front)


class _HTMLText(HTMLParser):
    """Visible text as Markdown-ish blocks; navigation, scripts and forms are chrome."""

    SKIP = frozenset(
        {"script", "style", "nav", "header", "footer", "aside", "form", "button", "noscript", "svg", "template"}
    )
    BLOCK = frozenset({"p", "div", "section", "article", "br", "tr", "table", "ul", "ol", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip_depth += 1
        elif self.skip_depth:
            return
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif not self.skip_depth and (re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCK):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(re.sub(r"\s+", " ", data))


def load_html(raw: bytes, path: Path) -> LoadedDocument:
    parser = _HTMLText()
    parser.feed(_decode(raw, path))
    text = "".join(parser.parts)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return LoadedDocument(text=text)


def load_pdf(raw: bytes, path: Path) -> LoadedDocument:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise CorpusError(f"{path}: unreadable PDF ({exc})") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise CorpusError(f"{path}: the PDF has no extractable text (scanned images need OCR first)")
    return LoadedDocument(text=text + "\n")


LOADERS: dict[str, Callable[[bytes, Path], LoadedDocument]] = {
    ".md": load_text,
    ".markdown": load_text,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
}


def load_document(path: Path) -> LoadedDocument:
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise CorpusError(f"{path}: unsupported file type {path.suffix!r} (supported: {', '.join(sorted(LOADERS))})")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"{path}: listed in the manifest but not found") from None
    except OSError as exc:
        raise CorpusError(f"{path}: cannot be read ({exc.strerror})") from None
    doc = loader(raw, path)
    doc.raw_bytes = raw
    return doc
