"""The evidence panel: for each answer, the passages it quotes, highlighted, with their records.

It lives in a `gr.HTML` block (no Markdown, ids kept), so chips can point at cards by id. Passage
text, quotes and the questions in the summaries are escaped; passage text keeps its line breaks
as raw newlines, which HTML ignores and the panel's CSS (`white-space: pre-line`) shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from followup_bot.models import Chunk, Citation, DocumentRecord, Passage
from followup_bot.ui.render.exchange import Exchange
from followup_bot.ui.render.markup import (
    RECORD_SECTION,
    SAFETY_REASONS,
    badge,
    esc,
    marker_label,
    normalise,
    passage_id,
    related_id,
)
from followup_bot.ui.render.records import is_corpus_summary, record_label, render_record, source_name


def highlight(text: str, quote: str) -> str:
    """The passage, escaped, with the quoted span in <mark> (exact match, then whitespace-tolerant)."""
    if not text:
        return f"<mark>{esc(quote)}</mark>" if quote else ""
    if not quote:
        return esc(text)
    index = text.find(quote)
    if index >= 0:
        start, end = index, index + len(quote)
    else:
        tokens = quote.split()
        match = re.search(r"\s+".join(re.escape(t) for t in tokens), text) if tokens else None
        if match is None:
            return f'{esc(text)}<span class="fb-quote-only">Quoted: <mark>{esc(quote)}</mark></span>'
        start, end = match.span()
    return f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"


def _kind_label(record: DocumentRecord | None, section: str, chunk: Chunk | None) -> tuple[str, str]:
    """(css class, label) saying whose words the passage is."""
    if (chunk is not None and chunk.kind == "record") or section == RECORD_SECTION:
        return "fb-kind-record", "Bibliographic record compiled for this corpus"
    if is_corpus_summary(record):
        return "fb-kind-summary", "Summary written for this corpus, not the paper's own words"
    if record is not None and record.kind == "article":
        return "fb-kind-article", "The article's own text"
    return "fb-kind-source", "Text of the source document"


def _section_suffix(section: str) -> str:
    return f' · <span class="fb-section">{esc(section)}</span>' if section and section != RECORD_SECTION else ""


def _article_cites(citation: Citation, records: Mapping[str, DocumentRecord]) -> str:
    if not citation.article_cites:
        return ""
    names = []
    for sid in citation.article_cites:
        rec = records.get(sid)
        num = f"[{rec.reference_number}] " if rec is not None and rec.reference_number is not None else ""
        names.append(f"{num}{source_name(rec, sid)}")
    return f'<p class="fb-article-cites">Here the article cites {esc("; ".join(names))}.</p>'


def render_passage_card(
    citation: Citation, turn: int, records: Mapping[str, DocumentRecord], chunks: Mapping[str, Chunk] | None = None
) -> str:
    record = records.get(citation.source_id)
    chunk = chunks.get(citation.chunk_id) if chunks else None
    text = citation.chunk_text or (chunk.text if chunk is not None else "")
    kind_cls, kind_label = _kind_label(record, citation.section, chunk)
    level = record.evidence_level if record else citation.evidence_level
    return (
        f'<article class="fb-passage {kind_cls}" id="{passage_id(turn, citation.marker)}" tabindex="-1">'
        f'<header class="fb-passage-head"><span class="fb-chip fb-chip-static">{esc(marker_label(citation.marker))}</span>'
        f'<span class="fb-source-name">{esc(source_name(record, citation.source_id))}</span>{badge(level)}</header>'
        f'<p class="fb-kind-label">{esc(kind_label)}{_section_suffix(citation.section)}</p>'
        f'<div class="fb-passage-text">{highlight(text, citation.quote)}</div>'
        f"{_article_cites(citation, records)}"
        f"{render_record(record, citation.source_id)}</article>"
    )


def render_related_card(
    passage: Passage,
    turn: int,
    index: int,
    records: Mapping[str, DocumentRecord],
    chunks: Mapping[str, Chunk] | None = None,
) -> str:
    record = records.get(passage.source_id)
    chunk = chunks.get(passage.chunk_id) if chunks else None
    kind_cls, kind_label = _kind_label(record, passage.section, chunk)
    return (
        f'<article class="fb-passage fb-related-card {kind_cls}" id="{related_id(turn, index)}" tabindex="-1">'
        f'<header class="fb-passage-head"><span class="fb-source-name">{esc(source_name(record, passage.source_id))}</span>'
        f"{badge(record.evidence_level if record else passage.evidence_level)}</header>"
        f'<p class="fb-kind-label">{esc(kind_label)}{_section_suffix(passage.section)}</p>'
        f'<div class="fb-passage-text">{esc(passage.text)}</div>'
        f"{render_record(record, passage.source_id)}</article>"
    )


def _turn_body(
    ex: Exchange, turn: int, records: Mapping[str, DocumentRecord], chunks: Mapping[str, Chunk] | None
) -> tuple[str, str]:
    """(summary count text, body html) of one answer's evidence."""
    answer = ex.answer
    if answer is None:
        return "error", '<p class="fb-empty">No evidence: this answer failed.</p>'
    if answer.refusal_reason in SAFETY_REASONS:
        return (
            "safety message",
            '<p class="fb-empty">No sources: this is a safety message, not an answer from the documents.</p>',
        )
    if answer.citations:
        cards = "".join(render_passage_card(c, turn, records, chunks) for c in answer.citations)
        n = len(answer.citations)
        return f"{n} passage{'s' * (n != 1)}", cards
    if answer.refused and answer.related:
        cards = "".join(render_related_card(p, turn, i, records, chunks) for i, p in enumerate(answer.related, 1))
        return "related only", (
            '<div class="fb-related-panel"><p class="fb-related-title">Related, but not an answer</p>'
            '<p class="fb-related-note">The closest passages found. They do not answer the question.</p>'
            f"{cards}</div>"
        )
    return "no passages", '<p class="fb-empty">No passages were cited for this reply.</p>'


def render_knowledge_base(records: Mapping[str, DocumentRecord]) -> str:
    """Every document the assistant may quote, so readers know the limits of its knowledge."""
    ordered = sorted(records.values(), key=lambda r: (r.kind != "article", r.reference_number or 10**6, r.id))
    items = [
        f'<li class="fb-kb-item"><span class="fb-chip fb-chip-static">{esc(record_label(rec))}</span>'
        f"<div>{render_record(rec, rec.id)}</div></li>"
        for rec in ordered
    ]
    return (
        f'<details class="fb-kb"><summary>Documents the assistant can quote ({len(ordered)})</summary>'
        f'<ul class="fb-kb-list">{"".join(items)}</ul></details>'
    )


def render_source_panel(
    exchanges: Sequence[Exchange], records: Mapping[str, DocumentRecord], chunks: Mapping[str, Chunk] | None = None
) -> str:
    """Evidence of every answer, newest first and open; older answers folded."""
    head = (
        '<div class="fb-panel-head"><h2>Evidence</h2>'
        '<p>Click a marker such as <span class="fb-chip fb-chip-static">1</span> in an answer to see the passage it '
        "quotes, with the quoted words highlighted, and the publication it comes from.</p></div>"
    )
    turns = []
    for turn in range(len(exchanges), 0, -1):
        ex = exchanges[turn - 1]
        count, body = _turn_body(ex, turn, records, chunks)
        question = normalise(ex.question)
        question = question if len(question) <= 90 else question[:87] + "…"
        is_open = " open" if turn == len(exchanges) else ""
        turns.append(
            f'<details class="fb-turn" id="fb-turn-{turn}"{is_open}><summary><span class="fb-turn-n">Answer {turn}</span>'
            f'<span class="fb-turn-q">{esc(question)}</span><span class="fb-turn-count">{esc(count)}</span></summary>'
            f"{body}</details>"
        )
    if not turns:
        turns.append(
            '<p class="fb-empty fb-empty-start">No answers yet. The passages behind each answer will appear here.</p>'
        )
    return f'<div class="fb-panel" id="fb-panel">{head}{"".join(turns)}{render_knowledge_base(records)}</div>'
