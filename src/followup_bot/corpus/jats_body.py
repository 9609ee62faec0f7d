"""JATS abstract and body → the Markdown the chunker reads.

The chunker knows four things: `#` headings that bound passages, paragraphs separated by
blank lines, `- ` bullets, and `[n]` markers. So a paragraph is one line, a list item is one
bullet line, a section's depth is its heading level, and every citation becomes a marker
whose label the manifest's `references` map resolves. What is not evidence a reader can
quote (table cells, formulas, footnotes, supplementary files) is left out and counted.

Figures and tables get their own heading one level below their section, after the
section's own paragraphs rather than at the exact spot they float in the XML: the chunker
files every paragraph under the last heading above it, so a figure heading in the middle of
a section would claim the paragraphs that follow it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

from followup_bot.corpus.jats_refs import JatsReference, collapse, entity_text, expand, format_run, local, text_of

# What the chunker reads as a citation marker (chunking._CITE).
_MARKER_LIKE = re.compile(r"\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]")
_NUMERIC = re.compile(r"\d+(?:\s*[,;–—-]\s*\d+)*")
_LIST_SEP = re.compile(r"(?:\][\s,;]*\[|[\s,;]*)")
_RANGE_SEP = re.compile(r"\]?\s*[–—-]\s*\[?")
_SKIPPED_SECTIONS = re.compile(
    r"^(supporting information|supplementa\w* (material|information|data|files?)|acknowledge?ments?|"
    r"author'?s'? contributions?|funding( statement)?|competing interests?|conflicts? of interests?|"
    r"financial disclosures?|abbreviations)$",
    re.I,
)
_FLOATS = frozenset({"fig", "table-wrap", "fig-group", "table-wrap-group"})
_FLATTENED = frozenset({"boxed-text", "disp-quote", "statement", "verse-group", "speech", "sec", "caption"})
_DROPPED = frozenset(
    {"supplementary-material", "disp-formula", "disp-formula-group", "fn", "fn-group", "graphic", "inline-graphic"}
    | {"media", "ack", "glossary", "ref-list", "table-wrap-foot", "object-id", "alternatives", "tex-math", "table"}
    | {"preformat", "code", "chem-struct-wrap", "array", "label", "title", "sec-meta", "kwd-group", "notes"}
)
# Structure-free MathML: a run of these reads as text ("n = 12"); msup or mfrac would not ("x2").
_FLAT_MATH = frozenset({"math", "mrow", "mi", "mo", "mn", "mtext", "mspace", "semantics", "mstyle"})


@dataclass
class _Cite:
    """The labels one bibr xref stands for; adjacent ones merge into one bracket."""

    labels: list[tuple[str, bool]]


@dataclass
class _Fixed:
    """Finished text (a marker already placed in prose); never merged, never bracket-scanned."""

    text: str


Piece = str | _Cite | _Fixed


@dataclass
class _Flow:
    """Blocks being written for one section, its paragraph in progress and its floats."""

    blocks: list[str] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    floats: list[etree._Element] = field(default_factory=list)


class BodyRenderer:
    """Renders one article; `counts` says what was left out, for `JatsArticle.notes`."""

    def __init__(self, references: dict[str, JatsReference]) -> None:
        self.references = references  # by the <ref>'s XML id
        self.known = {r.label for r in references.values()}
        self.counts: Counter[str] = Counter()

    # -- sections -------------------------------------------------------------------------

    def container(self, el: etree._Element, level: int) -> list[str]:
        """An element's own content, then its floats, then its subsections one level down.

        `level` is the heading level of `el` itself (1 for the body under the `#` title).
        """
        flow = _Flow()
        sections = [child for child in el if local(child) == "sec"]
        for child in el:
            if local(child) not in {"sec", "title", "label", "sec-meta", ""}:
                self.block(child, flow)
        self.flush(flow)
        blocks = flow.blocks
        for fl in flow.floats:
            blocks += self.float_block(fl, min(level + 1, 6))
        titled_before = False
        for sec in sections:
            if self.heading(sec) or not titled_before:
                blocks += self.section(sec, level + 1)
            else:  # an untitled section after a titled one: its text must not join that sibling
                parent = self.heading(el) or "Text"
                body = self.section(sec, level + 1)
                blocks += [f"{'#' * min(level + 1, 6)} {parent} (continued)", *body] if body else []
            titled_before = titled_before or bool(self.heading(sec))
        return blocks

    def heading(self, sec: etree._Element) -> str:
        label, title = text_of(sec.find("label")), text_of(sec.find("title"))
        return f"{label} {title}".strip() if label and title else (title or label)

    def section(self, sec: etree._Element, level: int) -> list[str]:
        """A `<sec>` under a heading of `level`; without a title or label it joins its parent."""
        title = self.heading(sec)
        if sec.get("sec-type", "").startswith("supplementary") or _SKIPPED_SECTIONS.match(title):
            self.counts["sections left out (supporting information, funding and the like)"] += 1
            return []
        if not title:
            return self.container(sec, level - 1)
        body = self.container(sec, level)
        return [f"{'#' * min(level, 6)} {title}", *body] if body else []

    def float_block(self, el: etree._Element, level: int) -> list[str]:
        """A figure or table as `#### Figure 1. Title` with its caption paragraphs."""
        if local(el) in {"fig-group", "table-wrap-group"}:
            inner = [b for child in el if local(child) in _FLOATS for b in self.float_block(child, level)]
            return self.float_block_of(el, level, "Figures") + inner
        if local(el) == "table-wrap" and (el.find(".//table") is not None or el.find(".//graphic") is not None):
            self.counts["table bodies left out"] += 1
        return self.float_block_of(el, level, "Figure" if local(el) == "fig" else "Table")

    def float_block_of(self, el: etree._Element, level: int, kind: str) -> list[str]:
        caption = el.find("caption")
        label = text_of(el.find("label")).rstrip(".:")
        title = self.inline_text(caption.find("title")) if caption is not None else ""
        flow = _Flow()
        for child in caption if caption is not None else []:
            if local(child) not in {"title", ""}:
                self.block(child, flow)
        self.flush(flow)
        if not (label or title or flow.blocks):
            return []
        head = ". ".join(x for x in (label or kind, title.rstrip(".")) if x)
        return [f"{'#' * level} {head}", *flow.blocks]

    # -- blocks ---------------------------------------------------------------------------

    def block(self, el: etree._Element, flow: _Flow) -> None:
        name = local(el)
        if name == "p":
            self.flush(flow)
            self.inline(el, flow)
            self.flush(flow)
        elif name in _FLOATS:
            flow.floats.append(el)
        elif name in {"list", "def-list"}:
            self.flush(flow)
            lines = self.list_lines(el, 0)
            if lines:
                flow.blocks.append("\n".join(lines))
        elif name in _FLATTENED:  # boxes, quotes, a sec inside a box: its titles become paragraphs
            self.flush(flow)
            head = " ".join(x for x in (text_of(el.find("label")), self.inline_text(el.find("title"))) if x)
            if head:
                flow.blocks.append(_escape(head))
            for child in el:
                self.block(child, flow)
        elif name in {"disp-formula", "disp-formula-group"}:
            self.counts["display formulas left out"] += 1
        elif name == "supplementary-material":
            self.counts["supplementary files left out"] += 1
        elif name and name not in _DROPPED:
            for child in el:  # an unknown wrapper: its paragraphs still count
                self.block(child, flow)

    def list_lines(self, el: etree._Element, depth: int) -> list[str]:
        """Each `<list-item>` (or `<def-item>`) one bullet; a nested list indents two spaces."""
        lines: list[str] = []
        for item in el:
            if local(item) not in {"list-item", "def-item"}:
                continue
            texts: list[str] = []
            nested: list[str] = []
            for child in item:
                if local(child) in {"list", "def-list"}:
                    nested += self.list_lines(child, depth + 1)
                elif local(child) in {"p", "term", "def"}:
                    flow = _Flow()
                    self.inline(child, flow)
                    texts.append(self.join(flow.pieces))
            if not texts and local(item) == "list-item":  # an item without <p> holds its text directly
                flow = _Flow()
                self.inline(item, flow)
                texts.append(self.join(flow.pieces))
            text = (": " if local(item) == "def-item" else " ").join(t for t in texts if t)
            if text:
                lines.append(f"{'  ' * depth}- {text}")
            lines += nested
        return lines

    # -- inline ---------------------------------------------------------------------------

    def inline(self, el: etree._Element, flow: _Flow) -> None:
        """The element's text into `flow.pieces`; a block inside a `<p>` splits the paragraph."""
        flow.pieces.append(el.text or "")
        for child in el:
            name = local(child)
            if isinstance(child, etree._Entity):
                flow.pieces.append(entity_text(child))
            elif name == "xref":
                self.xref(child, flow.pieces)
            elif name == "inline-formula" or name == "math":
                flow.pieces.append(self.formula(child))
            elif name == "break":
                flow.pieces.append(" ")
            elif name in _FLOATS or name in {"list", "def-list", "boxed-text", "disp-quote", "statement", "p"}:
                self.flush(flow)
                self.block(child, flow)
            elif name in {"disp-formula", "supplementary-material"}:
                self.block(child, flow)
            elif name and name not in _DROPPED:
                self.inline(child, flow)
            flow.pieces.append(child.tail or "")

    def inline_text(self, el: etree._Element | None) -> str:
        """One line of inline text (a title), with its citation markers."""
        if el is None:
            return ""
        flow = _Flow()
        self.inline(el, flow)
        return self.join(flow.pieces)

    def formula(self, el: etree._Element) -> str:
        """A short formula of plain tokens reads as text ("P < 0.05"); anything else is dropped."""
        names = {local(node) for node in el.iter() if local(node)} - {"inline-formula", "alternatives"}
        text = text_of(el, skip=frozenset({"tex-math"}))
        if names <= _FLAT_MATH and text and len(text) <= 40:
            return text
        self.counts["inline formulas left out"] += 1
        return ""

    def xref(self, el: etree._Element, pieces: list[Piece]) -> None:
        """A bibliography xref → a mergeable `_Cite`; author-year or locator text stays as prose."""
        text = text_of(el)
        refs = [self.references[rid] for rid in (el.get("rid") or "").split() if rid in self.references]
        if el.get("ref-type") != "bibr" or not refs:
            pieces.append(text)
            return
        labels = [(r.label, False) for r in refs]
        core = text.strip("[]() ")
        if not core or _NUMERIC.fullmatch(core):
            written = expand(core) if core else []
            if written and labels[0][0] in {w for w, _ in written} and all(w in self.known for w, _ in written):
                labels = written  # "1–3" in one xref that points at ref 1
            pieces.append(_Cite(labels))
            return
        marker = f"[{format_run(labels, self.known)}]"
        self.counts["citations with author-year or locator text"] += 1
        token = re.search(rf"(?<![\w.]){re.escape(labels[0][0])}(?![\w.])", core)
        if text.startswith("[") and text.endswith("]") and token:  # "[1: fig. 4]" → "[1]: fig. 4"
            pieces.append(_Fixed(core[: token.start()] + marker + core[token.end() :]))
        else:  # "Smith et al. 2004" → "Smith et al. 2004 [12]"
            pieces.append(_Fixed(f"{text} {marker}"))

    def join(self, pieces: list[Piece]) -> str:
        """Pieces → one line: runs of cites merge into one marker, and brackets the source
        wrote around them (`[<xref>3</xref>, <xref>4</xref>]`) are not doubled."""
        merged: list[Piece] = []
        for piece in pieces:  # adjacent source text joins, so a separator is one piece
            if piece == "":
                continue
            if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                merged[-1] += piece
            else:
                merged.append(piece)
        out: list[str] = []
        open_bracket = False  # a "[" before a run was dropped; drop its "]" too
        i = 0
        while i < len(merged):
            piece = merged[i]
            if isinstance(piece, _Fixed):
                out.append(piece.text)
            elif isinstance(piece, str):
                if open_bracket:
                    close, opening = piece.find("]"), piece.find("[")
                    if close >= 0 and (opening < 0 or close < opening):
                        piece = piece[:close] + piece[close + 1 :]
                    open_bracket = open_bracket and close < 0 and opening < 0
                out.append(_MARKER_LIKE.sub(self.literal, piece))
            else:
                labels = list(piece.labels)
                while i + 1 < len(merged):
                    nxt, sep = merged[i + 1], ""
                    if isinstance(nxt, str) and i + 2 < len(merged) and isinstance(merged[i + 2], _Cite):
                        sep, nxt = nxt, merged[i + 2]
                    if not isinstance(nxt, _Cite):
                        break
                    ranged = bool(_RANGE_SEP.fullmatch(sep))
                    if not ranged and not _LIST_SEP.fullmatch(sep):
                        break
                    labels += [(nxt.labels[0][0], ranged), *nxt.labels[1:]]
                    i += 1 if nxt is merged[i + 1] else 2
                before = out[-1].rstrip() if out else ""
                if before.endswith("["):
                    out[-1] = before[:-1]
                    open_bracket = True
                elif out and out[-1] and (out[-1][-1].isalnum() or out[-1][-1] == ")"):
                    out.append(" ")
                out.append(f"[{format_run(labels, self.known)}]")
            i += 1
        return _escape(collapse("".join(out)))

    def literal(self, match: re.Match[str]) -> str:
        """Bracketed numbers the source wrote as plain text, not as an xref.

        A single known label ("Spalding et al. [25]" in a caption) is a citation typed by
        hand and stays one. Anything else is an interval or a vector ("[0, 1]", "[10, 20] mm")
        or a number with no reference: spaced as "[ 0, 1 ]" so the chunker does not read it
        as citing references 0 and 1.
        """
        if match.group(1) in self.known:
            self.counts["plain-text citations kept"] += 1
            return match.group(0)
        self.counts["bracketed numbers that are not citations, spaced"] += 1
        return f"[ {match.group(1)} ]"

    def flush(self, flow: _Flow) -> None:
        text = self.join(flow.pieces)
        flow.pieces.clear()
        if text:
            flow.blocks.append(text)


def _escape(line: str) -> str:
    """A paragraph that starts like a heading ("# 1 priority") must not become one."""
    return "\\" + line if re.match(r"#{1,6}\s", line) else line
