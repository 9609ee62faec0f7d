"""One JATS XML article → an article folder (`article.md` + `manifest.toml`).

Real articles arrive as JATS (PubMed Central, PLOS and most open-access publishers). The
rest of the system reads an article as a folder of Markdown plus a manifest, so converting
once, up front, lets the existing chunker, store and pipeline serve a JATS article unchanged,
and leaves a file a person can read and diff.

The parser is hardened because the files come from outside: no entity is resolved, no DTD
is loaded, nothing is fetched (PLOS files name their DTD by URL), and huge trees are
refused. Every failure is one `CorpusError` line that starts with the file name; a file is
either converted whole or not at all.

The body renderer lives in `jats_body.py` and the reference list in `jats_refs.py`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from pydantic import ValidationError

from followup_bot.corpus.jats_body import BodyRenderer
from followup_bot.corpus.jats_refs import (
    XLINK,
    JatsReference,
    local,
    parse_references,
    ref_elements,
    slug,
    text_of,
)
from followup_bot.corpus.manifest import Manifest
from followup_bot.errors import CorpusError

__all__ = ["JatsArticle", "JatsReference", "parse_jats", "write_article_folder"]

# Summaries other than the abstract are kept under their own title; a "toc" blurb repeats it.
_SKIPPED_ABSTRACTS = frozenset({"toc", "teaser", "graphical"})
_OUR_FILES = frozenset({"article.md", "manifest.toml"})


@dataclass
class JatsArticle:
    """What one JATS file says: the article's record, its Markdown and its reference list."""

    id: str
    source: str
    title: str
    markdown: str
    authors: list[str] = field(default_factory=list)
    journal: str = ""
    year: int | None = None
    volume: str = ""
    pages: str = ""
    doi: str | None = None
    pmid: str | None = None
    licence: str = ""
    study_type: str = ""
    abstract: str = ""
    references: list[JatsReference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _read_root(path: Path) -> etree._Element:
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 0)
        reason = (exc.msg or "").split(",")[0].strip()
        raise CorpusError(f"{name}: not well-formed XML (line {line}): {reason}") from None
    if root is None or local(root) != "article" or etree.QName(root).namespace:
        found = etree.QName(root).localname if root is not None else "nothing"
        raise CorpusError(f"{name}: not a JATS article (the root element is <{found}>, not <article>)")
    return root


def parse_jats(path: Path) -> JatsArticle:
    """Read one JATS file; `CorpusError` (naming the file) if it cannot be converted whole."""
    root = _read_root(path)
    meta = root.find("front/article-meta")
    if meta is None:
        meta = etree.Element("article-meta")
    references = parse_references(root)
    renderer = BodyRenderer({ref.get("id", ""): r for ref, r in zip(ref_elements(root), references, strict=True)})
    title = text_of(meta.find("title-group/article-title")) or path.stem
    abstract_blocks, abstract_text = _abstracts(meta, renderer)
    body = root.find("body")
    body_blocks = renderer.container(body, 1) if body is not None else []
    if abstract_blocks and body_blocks and not body_blocks[0].startswith("## "):
        body_blocks.insert(0, "## Main text")  # else the body's first paragraphs join the abstract
    if not any(not b.startswith("#") for b in abstract_blocks + body_blocks):
        raise CorpusError(f"{path.name}: no body text (no paragraphs in <body> or <abstract>)")
    doi = _article_id(meta, "doi")
    notes = [f"{n} {what}" for what, n in sorted(renderer.counts.items())]
    journal = text_of(root.find("front/journal-meta//journal-title"))
    if not journal:
        journal = text_of(root.find("front/journal-meta/journal-id[@journal-id-type='nlm-ta']"))
        notes.append("no <journal-title>; the journal is its NLM abbreviation" if journal else "no journal name")
    return JatsArticle(
        id=slug(doi.split("/", 1)[1]) if doi and "/" in doi else (slug(path.stem) or "article"),
        source=path.name,
        title=title,
        markdown="\n\n".join([f"# {title}", *abstract_blocks, *body_blocks]) + "\n",
        authors=_authors(meta),
        journal=journal,
        year=_year(meta),
        volume=text_of(meta.find("volume")),
        pages=_pages(meta),
        doi=doi,
        pmid=_article_id(meta, "pmid"),
        licence=_licence(meta),
        study_type=(root.get("article-type") or "").replace("-", " ").replace("_", " ").strip(),
        abstract=abstract_text,
        references=references,
        notes=notes,
    )


def _abstracts(meta: etree._Element, renderer: BodyRenderer) -> tuple[list[str], str]:
    """`## Abstract` (structured parts as `###`), then author or editors' summaries."""
    blocks: list[str] = []
    text = ""
    for abstract in meta.findall("abstract"):
        kind = abstract.get("abstract-type") or ""
        if kind in _SKIPPED_ABSTRACTS:
            continue
        heading = "Abstract" if not kind else (text_of(abstract.find("title")) or kind.replace("-", " ").title())
        content = renderer.container(abstract, 2)
        if content and not any(b == f"## {heading}" for b in blocks):
            blocks += [f"## {heading}", *content]
            if not kind and not text:
                text = "\n\n".join(b for b in content if not b.startswith("#"))
    return blocks, text


def _authors(meta: etree._Element) -> list[str]:
    """ "Given Surname" for people, the group's name for a collaboration."""
    names: list[str] = []
    for contrib in meta.findall("contrib-group/contrib"):
        if contrib.get("contrib-type", "author") != "author":
            continue
        for el in contrib:
            if local(el) == "collab":
                names.append(text_of(el, skip=frozenset({"contrib-group", "xref", "sup"})))
            elif local(el) in {"name", "string-name"}:
                given, surname = text_of(el.find("given-names")), text_of(el.find("surname"))
                names.append(f"{given} {surname}".strip() if surname else text_of(el))
    return [n for n in names if n]


def _year(meta: etree._Element) -> int | None:
    """The electronic, then the print publication date: when readers could first cite it."""
    dates = meta.findall("pub-date")

    def rank(date: etree._Element) -> int:
        kind = date.get("pub-type") or date.get("publication-format") or date.get("date-type") or ""
        return 0 if kind in {"epub", "electronic"} else 1 if kind in {"ppub", "print", "pub"} else 2

    for date in sorted(dates, key=rank):
        match = re.search(r"\d{4}", text_of(date.find("year")))
        if match:
            return int(match.group())
    return None


def _pages(meta: etree._Element) -> str:
    first, last = text_of(meta.find("fpage")), text_of(meta.find("lpage"))
    if first:
        return f"{first}-{last}" if last and last != first else first
    return text_of(meta.find("elocation-id"))


def _article_id(meta: etree._Element, kind: str) -> str | None:
    for el in meta.findall("article-id"):
        if (el.get("pub-id-type") or "").lower() == kind and text_of(el):
            return text_of(el)
    return None


def _licence(meta: etree._Element) -> str:
    """Short: "CC BY 4.0 (https://…)" from the licence link, else the licence's first sentence."""
    licence = meta.find("permissions/license")
    href = ""
    if licence is not None:
        link = licence.find(".//ext-link")
        href = licence.get(f"{XLINK}href") or (link.get(f"{XLINK}href", "") if link is not None else "")
    text = text_of(licence) or text_of(meta.find("permissions/copyright-statement"))
    cc = re.search(r"creativecommons\.org/(?:licenses/([a-z-]+)|publicdomain/(zero))/(\d\.\d)", href)
    if cc:
        name = "CC0" if cc.group(2) else "CC " + (cc.group(1) or "").upper()
        return f"{name} {cc.group(3)} ({href})"
    if "Creative Commons Attribution License" in text:
        return "CC BY (Creative Commons Attribution License)"
    if "free of all copyright" in text or "public domain" in text.lower():
        return "public domain (free of all copyright)"
    first = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0]
    return href or (first[:157] + "…" if len(first) > 160 else first)


# -- the folder ---------------------------------------------------------------------------


TomlValue = str | int | list[str] | dict[str, str]


def toml_value(value: TomlValue) -> str:
    """A TOML literal; strings as basic strings with every control character escaped."""
    if isinstance(value, bool):
        raise TypeError("booleans are not written")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_value(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    out = "".join(escapes.get(c, c if c >= " " and c != "\x7f" else f"\\u{ord(c):04x}") for c in value)
    return f'"{out}"'


def _table(entries: dict[str, TomlValue | None], always: set[str]) -> str:
    """`key = value` lines; empty values are left out (the record's defaults say the same)."""
    lines = [f"{k} = {toml_value(v)}\n" for k, v in entries.items() if v is not None and (v or k in always)]
    return "".join(lines)


def _label_map(references: list[JatsReference]) -> dict[str, str]:
    """`[n]` → reference id; when two entries share a label, the first one listed keeps it."""
    labels: dict[str, str] = {}
    for ref in references:
        labels.setdefault(ref.label, ref.id)
    return labels


def manifest_text(article: JatsArticle) -> str:
    """The manifest: the article's record with its `[n]` map, then one record per reference."""
    head = _table(
        {"id": article.id, "title": article.title, "source": article.source, "licence": article.licence}, set()
    )
    doc: dict[str, TomlValue | None] = {
        "id": "article",
        "path": "article.md",
        "kind": "article",
        "title": article.title,
        "authors": article.authors,
        "journal": article.journal,
        "year": article.year,
        "volume": article.volume,
        "pages": article.pages,
        "doi": article.doi,
        "pmid": article.pmid,
        "study_type": article.study_type,
        "evidence_level": "",
        "content_kind": "full text (JATS)",
        "references": _label_map(article.references),
    }
    parts = [head, "\n[[documents]]\n" + _table(doc, {"evidence_level"})]
    for ref in article.references:
        record: dict[str, TomlValue | None] = {
            "id": ref.id,
            "path": "",
            "kind": "source",
            "reference_number": ref.number,
            "title": ref.title or ref.text,
            "authors": ref.authors,
            "journal": ref.journal,
            "year": ref.year,
            "volume": ref.volume,
            "pages": ref.pages,
            "doi": ref.doi,
            "pmid": ref.pmid,
            "url": ref.url,
            "content_kind": "bibliographic record only",
        }
        parts.append("\n[[documents]]\n" + _table(record, {"path"}))
    return "".join(parts)


def _check_manifest(text: str, name: str) -> None:
    """What is written must load: TOML first, then every record through the real model."""
    try:
        data = tomllib.loads(text)
        manifest = Manifest(title=data.get("title", ""), documents=data.get("documents", []))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise CorpusError(f"{name}: the generated manifest does not load ({exc})") from None
    ids = [d.id for d in manifest.documents]
    if len(ids) != len(set(ids)):
        raise CorpusError(f"{name}: the generated manifest repeats a document id")


def write_article_folder(article: JatsArticle, folder: Path) -> None:
    """Write `article.md` and `manifest.toml` into `folder`, all or nothing.

    Both files go to a temporary folder beside the target, which is renamed into place, so a
    reader (or an interrupted run) never sees one new file next to one old one. An existing
    folder is replaced only if it holds nothing but these two files (an earlier conversion).
    """
    manifest = manifest_text(article)
    _check_manifest(manifest, article.source)
    if folder.exists() and (not folder.is_dir() or {p.name for p in folder.iterdir()} - _OUR_FILES):
        raise CorpusError(f"{folder}: exists and holds other files than an earlier conversion; not replaced")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as exc:
        raise CorpusError(f"{folder}: cannot write ({exc.strerror or exc})") from None
    old = folder.parent / f"{tmp.name}.old"
    try:
        (tmp / "article.md").write_text(article.markdown, encoding="utf-8")
        (tmp / "manifest.toml").write_text(manifest, encoding="utf-8")
        os.chmod(tmp, 0o755)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
    except OSError as exc:
        if old.exists() and not folder.exists():
            old.rename(folder)
        raise CorpusError(f"{folder}: cannot write ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
