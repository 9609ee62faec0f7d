"""Text → chunks that respect the document's structure.

Headings bound chunks (no chunk crosses a section), each bullet or paragraph is a block, and
only a block over the size budget is split, at sentence boundaries. Every chunk and sentence
keeps absolute offsets into the loaded text, so a quote is a slice of the file, never a
paraphrase. Reference lists and front matter are skipped: they are metadata, not evidence.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from followup_bot.corpus.loaders import LoadedDocument
from followup_bot.corpus.roles import sentence_role
from followup_bot.models import Chunk, DocumentRecord, Sentence

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_BULLET = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+")
_CITE = re.compile(r"\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]")
_TRAILING_CITES = re.compile(r"(?:\s*\[\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*\])+\s*$")
_REFERENCE_HEADINGS = re.compile(r"^(references?|bibliography|works cited|sources|literature cited|citations)$", re.I)
_ABBREVIATIONS = {
    "al",
    "e.g",
    "i.e",
    "vs",
    "dr",
    "mr",
    "mrs",
    "ms",
    "prof",
    "fig",
    "figs",
    "approx",
    "no",
    "vol",
    "pp",
    "st",
    "etc",
    "cf",
    "ca",
    "jr",
    "sr",
    "inc",
    "ltd",
    "resp",
    "min",
    "max",
    "eq",
    "ref",
    "refs",
}
_BOUNDARY = re.compile(r"([.!?][\"')\]]*)(\s+)(?=[\"'(\[]?[A-Z0-9])")


@dataclass
class _Block:
    start: int
    end: int
    heading_path: tuple[str, ...]


def parse_citations(text: str, reference_map: dict[str, str]) -> list[str]:
    """Ids cited by `[n]`, `[n, m]` or `[n-m]` markers, in order of first appearance."""
    out: list[str] = []
    for match in _CITE.finditer(text):
        body = match.group(1)
        numbers: list[int] = []
        for part in re.split(r"\s*[,;]\s*", body):
            if re.fullmatch(r"\d+\s*[–-]\s*\d+", part):
                lo, hi = (int(x) for x in re.split(r"\s*[–-]\s*", part))
                numbers.extend(range(lo, hi + 1) if 0 < hi - lo < 50 else [lo, hi])
            elif part.strip().isdigit():
                numbers.append(int(part))
        for n in numbers:
            ref = reference_map.get(str(n))
            if ref and ref not in out:
                out.append(ref)
    return out


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans (absolute) of `text`; abbreviations and initials do not end sentences."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start() + 1]
        last_word = re.findall(r"([A-Za-z][A-Za-z.]*)\.$", before)
        if last_word:
            word = last_word[-1].lower().rstrip(".")
            if word in _ABBREVIATIONS or len(word) == 1:
                continue
        end = match.end(1)
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end(2)
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        out.append((s + offset, e + offset))
    return out


def _blocks(doc: LoadedDocument) -> list[_Block]:
    text = doc.text
    blocks: list[_Block] = []
    headings: list[tuple[int, str]] = []
    skip_level: int | None = None
    current: _Block | None = None
    pos = doc.body_start

    def flush() -> None:
        nonlocal current
        if current is not None and skip_level is None:
            blocks.append(current)
        current = None

    for line in text[doc.body_start :].splitlines(keepends=True):
        line_start, pos = pos, pos + len(line)
        content = line.rstrip("\n").rstrip()
        heading = _HEADING.match(content)
        if heading:
            flush()
            level, title = len(heading.group(1)), heading.group(2).strip()
            if skip_level is not None and level <= skip_level:
                skip_level = None
            headings = [h for h in headings if h[0] < level] + [(level, title)]
            if _REFERENCE_HEADINGS.match(title):
                skip_level = level
            continue
        if not content.strip():
            flush()
            continue
        bullet = _BULLET.match(content)
        if bullet:
            flush()
            current = _Block(line_start + bullet.end(), line_start + len(content), tuple(h[1] for h in headings))
            continue
        if current is None:
            lead = len(content) - len(content.lstrip())
            current = _Block(line_start + lead, line_start + len(content), tuple(h[1] for h in headings))
        else:
            current.end = line_start + len(content)
    flush()
    return blocks


def _sentences(
    text: str, start: int, end: int, block_cites: list[str], reference_map: dict[str, str]
) -> list[Sentence]:
    out: list[Sentence] = []
    for s, e in split_sentences(text[start:end], start):
        span = text[s:e]
        trailing = _TRAILING_CITES.search(span)
        cites = parse_citations(span, reference_map) or block_cites
        if trailing:
            e = s + trailing.start()
        span = text[s:e].rstrip()
        if not span or not re.search(r"[A-Za-z]", span):
            continue
        out.append(Sentence(text=span, start=s, end=s + len(span), cites=cites))
    return out


def chunk_id(source_id: str, heading_path: list[str], text: str) -> str:
    payload = "\x1f".join([source_id, " > ".join(heading_path), text])
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def chunk_document(
    doc: LoadedDocument,
    record: DocumentRecord,
    reference_map: dict[str, str],
    max_chars: int = 700,
    min_chars: int = 20,
    doc_hash: str = "",
) -> list[Chunk]:
    text = doc.text
    refs = reference_map if record.kind == "article" or record.references else {}
    chunks: list[Chunk] = []
    ids: set[str] = set()
    for block in _blocks(doc):
        block_text = text[block.start : block.end]
        if len(block_text.strip()) < min_chars:
            continue
        block_cites = parse_citations(block_text, refs)
        sentences = _sentences(text, block.start, block.end, block_cites, refs)
        if not sentences:
            continue
        for sent in sentences:
            sent.role = sentence_role(sent.text, block.heading_path)
        groups: list[list[Sentence]] = [[]]
        for sent in sentences:
            group = groups[-1]
            if group and sent.end - group[0].start > max_chars:
                groups.append([sent])
            else:
                group.append(sent)
        for i, group in enumerate(groups):
            start = block.start if i == 0 else group[0].start
            end = block.end if i == len(groups) - 1 else group[-1].end
            chunk_text = text[start:end]
            heading_path = list(block.heading_path)
            cites: list[str] = []
            for sent in group:
                cites.extend(c for c in sent.cites if c not in cites)
            cid = chunk_id(record.id, heading_path, chunk_text)
            # The same text twice under the same heading (a repeated caption or sentence) must still get
            # two ids, or the store refuses the document; the repeat is numbered, so ids stay stable.
            repeat = 1
            while cid in ids:
                repeat += 1
                cid = chunk_id(record.id, heading_path, f"{chunk_text}\x1f{repeat}")
            ids.add(cid)
            chunks.append(
                Chunk(
                    chunk_id=cid,
                    source_id=record.id,
                    text=chunk_text,
                    section=heading_path[-1] if heading_path else "",
                    heading_path=heading_path,
                    start=start,
                    end=end,
                    cites=cites,
                    sentences=group,
                    doc_hash=doc_hash,
                    position=len(chunks),
                )
            )
    return chunks


RECORD_SECTION = "Bibliographic record"


def record_chunk(record: DocumentRecord, doc_hash: str = "", position: int = 10_000) -> Chunk | None:
    """The bibliographic record as a citable passage, so "which journal?" has evidence.

    Its text is rendered from the manifest (never from the raw front matter), and its sentence
    offsets are offsets in this text, since it has no span in the file.
    """
    if record.kind == "article" and not record.year:
        return None
    name = record.short_name()
    parts: list[str] = []
    if record.title:
        # "the journal" is spelled out so "which journal?" meets the sentence that answers it.
        where = (
            f" in the journal {record.journal}"
            if record.journal and record.kind != "article"
            else (f" in {record.journal}" if record.journal else "")
        )
        year = f" ({record.year})" if record.year else ""
        subject = "The article" if record.kind == "article" else name
        parts.append(f'{subject}, "{record.title.rstrip(".")}", was published{where}{year}.')
    locator = [f"volume {record.volume}" if record.volume else "", f"pages {record.pages}" if record.pages else ""]
    if any(locator):
        parts.append(f"{name} appeared in {', '.join(x for x in locator if x)}.")
    if record.authors and record.kind != "article":
        parts.append(f"The authors of {name} are {', '.join(record.authors)}.")
    ident = []
    if record.doi:
        ident.append(f"DOI {record.doi}")
    if record.pmid:
        ident.append(f"PubMed ID (PMID) {record.pmid}")
    if record.url and not record.doi:
        ident.append(f"URL {record.url}")
    if ident and record.kind != "article":
        parts.append(f"{name} is identified by {'; '.join(ident)}.")
    if record.study_type:
        level = f", evidence level: {record.evidence_level}" if record.evidence_level else ""
        parts.append(f"Study type of {name}: {record.study_type}{level}.")
    if record.identification_confidence and record.kind != "article":
        parts.append(
            f"Confidence that {name} is the publication the article cites: {record.identification_confidence}."
        )
    if not parts:
        return None
    text = " ".join(parts)
    sentences, pos = [], 0
    for part in parts:
        sentences.append(Sentence(text=part, start=pos, end=pos + len(part), role="record"))
        pos += len(part) + 1
    heading = [RECORD_SECTION]
    return Chunk(
        chunk_id=chunk_id(record.id, heading, text),
        source_id=record.id,
        text=text,
        section=RECORD_SECTION,
        heading_path=heading,
        start=0,
        end=0,
        sentences=sentences,
        doc_hash=doc_hash,
        position=position,
        kind="record",
    )
