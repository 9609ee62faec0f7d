"""HTML and Markdown for the chat page, as pure functions of the Answer contract.

Kept free of Gradio so that every visible promise of the page (the disclaimer closes every
answer, markers are chips that point at their passage, a corpus summary never looks like the
paper's own words) can be unit-tested in milliseconds. Everything that comes from a document, a
model or a user is escaped here; the only markup in the output is ours.

Gradio's chat sanitiser keeps `class`, `href`, `role` and `tabindex` but drops `id` and `data-*`
attributes, so a chip names its passage through a fragment link (`href="#fb-src-2-1b"`). The
passage cards live in a `gr.HTML` panel, which keeps ids, so the link works even without our
script; the script (chips.js) only adds smooth scrolling, opening and a highlight.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlparse

from followup_bot.models import Answer, Chunk, Citation, DocumentRecord, Passage

SAFETY_REASONS = {"emergency", "crisis"}
ABSTAIN_REASONS = {"not_in_sources", "out_of_scope"}
MAX_SUGGESTIONS = 6
RECORD_SECTION = "Bibliographic record"
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
_QUESTION_WORDS = (
    "when ",
    "how ",
    "why ",
    "what ",
    "which ",
    "who ",
    "where ",
    "should ",
    "can ",
    "is ",
    "are ",
    "does ",
    "do ",
)
# Used only if a framing text file is emptied: the framing can be reworded, never removed.
DEFAULT_BANNER = (
    "**Educational information for healthcare professionals, not medical advice.** Verify everything against "
    "the primary literature before using it in patient care. **In an emergency, call your local emergency number now.**"
)
DEFAULT_DISCLAIMER = (
    "Educational information from the cited documents, not medical advice; verify against the primary literature."
)
_SKIP_HEADINGS = {"references", "sources", "bibliography", "bibliographic record", "see also", "related", "footnotes"}


@dataclass
class Exchange:
    """One question of the conversation and what became of it (an Answer, or an error)."""

    question: str
    answer: Answer | None = None
    error: str | None = None
    audience: str = "clinician"
    asked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


# --------------------------------------------------------------------------- small helpers


def esc(text: object) -> str:
    """Escape text for HTML (quotes included): documents and users never inject markup."""
    return html.escape("" if text is None else str(text), quote=True)


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered; anything else (javascript:, data:) is dropped."""
    if not url:
        return None
    parsed = urlparse(url.strip())
    return url.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def inline_markup(text: str) -> str:
    """Escape, then turn the two constructs our safety texts use (**bold**, bare URLs) into HTML."""
    out = esc(text)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _URL.sub(lambda m: f'<a href="{m.group(0)}" target="_blank" rel="noopener noreferrer">{m.group(0)}</a>', out)


def _paragraphs(fragment_html: str) -> str:
    """Blank lines become paragraphs and single newlines <br>, so a message has no raw newline.

    The chat renders Markdown; a single-line HTML block is passed through untouched.
    """
    parts = [p.strip() for p in re.split(r"\n\s*\n", fragment_html) if p.strip()]
    return "".join(f'<p class="fb-text">{p.replace(chr(10), "<br>")}</p>' for p in parts)


def marker_slug(marker: str) -> str:
    """'[1b]' -> '1b', '[my doc-b]' -> 'my-doc-b': safe inside an HTML id."""
    inner = marker.strip().strip("[]")
    return re.sub(r"[^A-Za-z0-9]+", "-", inner).strip("-") or "x"


def marker_label(marker: str) -> str:
    return marker.strip().strip("[]")


def passage_id(turn: int, marker: str) -> str:
    """The id of a cited passage's card in the source panel (one per answer and marker)."""
    return f"fb-src-{turn}-{marker_slug(marker)}"


def related_id(turn: int, index: int) -> str:
    return f"fb-rel-{turn}-{index}"


def chip(marker: str, turn: int) -> str:
    """A clickable marker; the brackets stay in the text (copy, screen readers) but are hidden."""
    label = esc(marker_label(marker))
    return (
        f'<a class="fb-chip" href="#{passage_id(turn, marker)}" role="button">'
        f'<span class="fb-sr">[</span>{label}<span class="fb-sr">]</span></a>'
    )


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def understood_as(message: str, standalone: str) -> str | None:
    """The standalone question, when it says more than the message did (a follow-up)."""
    if not standalone:
        return None

    def key(s: str) -> str:
        return normalise(s).rstrip("?.!").casefold()

    return standalone.strip() if key(standalone) != key(message) else None


def evidence_class(level: str) -> str:
    """A CSS class per kind of evidence, so a reader sees its weight at a glance."""
    value = (level or "").lower()
    for needle, cls in (
        ("preclinical", "preclinical"),
        ("animal", "preclinical"),
        ("in vitro", "preclinical"),
        ("case", "case"),
        ("trial", "trial"),
        ("rct", "trial"),
        ("meta", "review"),
        ("review", "review"),
        ("guideline", "guideline"),
        ("narrative", "narrative"),
        ("cohort", "observational"),
        ("observational", "observational"),
    ):
        if needle in value:
            return f"fb-level-{cls}"
    return "fb-level-other"


def badge(level: str) -> str:
    if not level:
        return ""
    return f'<span class="fb-badge {evidence_class(level)}" title="Evidence level">{esc(level)}</span>'


def confidence_class(value: str) -> str:
    v = (value or "").lower()
    return "fb-conf-high" if v.startswith("high") else "fb-conf-low" if v.startswith("low") else "fb-conf-medium"


def is_corpus_summary(record: DocumentRecord | None) -> bool:
    """A source card summarises a paper for this corpus; it must not pass for the paper's words."""
    if record is None:
        return False
    kind = record.content_kind.lower()
    return "source card" in kind or "summary" in kind


def authors_text(authors: Sequence[str], limit: int = 3) -> str:
    if not authors:
        return ""
    shown = ", ".join(authors[:limit])
    return f"{shown}, et al." if len(authors) > limit else shown


def source_name(record: DocumentRecord | None, source_id: str) -> str:
    if record is None:
        return source_id
    return "The article" if record.kind == "article" else record.short_name()


def record_link(record: DocumentRecord) -> tuple[str | None, str | None]:
    """(href, visible text) for a record: the DOI resolver first, then the URL."""
    if record.doi:
        return f"https://doi.org/{record.doi}", f"doi:{record.doi}"
    url = safe_url(record.url)
    if url:
        return url, urlparse(url).netloc
    return None, None


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


# --------------------------------------------------------------------------- chat messages


def render_user_message(text: str) -> str:
    """The user's words, escaped: a typed <img src=…> or Markdown image must not load anything."""
    return f'<div class="fb-user">{esc(text).replace(chr(10), "<br>")}</div>'


def render_draft(partial: str, disclaimer: str) -> str:
    """Streaming text, visibly marked as not yet checked against the sources."""
    body = (
        esc(normalise(partial))
        if partial.strip()
        else '<span class="fb-dots">Searching the article and its sources…</span>'
    )
    return (
        '<div class="fb-msg fb-draft" role="status">'
        '<p class="fb-draft-label">Draft: not yet checked against the sources</p>'
        f'<p class="fb-text">{body}</p>'
        f'<p class="fb-disclaimer">{esc(disclaimer.strip() or DEFAULT_DISCLAIMER)}</p></div>'
    )


def render_error(reference: str, disclaimer: str) -> str:
    """A friendly apology with a reference the operator can find in the log; never a traceback."""
    return (
        '<div class="fb-msg fb-error" role="alert">'
        '<p class="fb-text"><strong>Sorry, something went wrong while answering.</strong> '
        "Please try again in a moment. If it keeps happening, tell the site operator "
        f"and quote reference <code>{esc(reference)}</code>.</p>"
        f'<p class="fb-disclaimer">{esc(disclaimer.strip() or DEFAULT_DISCLAIMER)}</p></div>'
    )


def answer_body(answer: Answer, turn: int) -> str:
    """The answer text with each known marker turned into a chip pointing at its passage."""
    body = inline_markup(answer.answer)
    markers = sorted({c.marker for c in answer.citations}, key=len, reverse=True)
    if markers:
        pattern = re.compile("|".join(re.escape(esc(m)) for m in markers))
        lookup = {esc(m): m for m in markers}
        body = pattern.sub(lambda m: chip(lookup[m.group(0)], turn), body)
    return _paragraphs(body)


def _callout(answer: Answer, body: str) -> str:
    if answer.refusal_reason == "emergency":
        title, cls = "Medical emergency: get help now", "fb-callout fb-callout-emergency"
    else:
        title, cls = "You are not alone: support is available now", "fb-callout fb-callout-crisis"
    return (
        f'<div class="{cls}" role="alert"><p class="fb-callout-title"><span aria-hidden="true">⚠</span> '
        f"{esc(title)}</p>{body}</div>"
    )


def _related_list(related: Sequence[Passage], records: Mapping[str, DocumentRecord], turn: int) -> str:
    if not related:
        return ""
    items = []
    for i, p in enumerate(related, 1):
        name = source_name(records.get(p.source_id), p.source_id)
        where = f"{name} · {p.section}" if p.section else name
        snippet = normalise(p.text)
        snippet = snippet if len(snippet) <= 160 else snippet[:157].rsplit(" ", 1)[0] + "…"
        items.append(f'<li><a class="fb-jump" href="#{related_id(turn, i)}">{esc(where)}</a>: {esc(snippet)}</li>')
    return (
        '<div class="fb-related"><p class="fb-related-title">Related, but not an answer</p>'
        f"<ul>{''.join(items)}</ul></div>"
    )


def render_meta(answer: Answer) -> str:
    """One discreet line on how the answer was produced and checked."""
    parts = []
    if not answer.refused and answer.citations:
        n = len({c.source_id for c in answer.citations})
        parts.append(
            f"{len(answer.citations)} passage{'s' * (len(answer.citations) != 1)} from {n} document{'s' * (n != 1)}"
        )
        v = answer.verification
        if v.sentences:
            parts.append(
                f"{v.supported} of {v.sentences} sentence{'s' * (v.sentences != 1)} checked against the quotes"
            )
    total = answer.timings_ms.get("total")
    if total is not None:
        parts.append(f"{total:.0f} ms" if total < 1000 else f"{total / 1000:.1f} s")
    if not parts:
        return ""
    return f'<p class="fb-meta">{esc(" · ".join(parts))}</p>'


def render_answer(answer: Answer, message: str, turn: int, records: Mapping[str, DocumentRecord]) -> str:
    """A final answer: understood-as, text with chips (or a safety callout), notes, disclaimer last."""
    parts = ['<div class="fb-msg fb-final']
    if answer.refusal_reason:
        parts.append(f" fb-reason-{esc(answer.refusal_reason)}")
    parts.append('">')
    shown = understood_as(message, answer.standalone_question)
    if shown and answer.refusal_reason not in SAFETY_REASONS:
        parts.append(f'<p class="fb-understood">Understood as: <em>{esc(shown)}</em></p>')
    body = answer_body(answer, turn)
    if answer.refusal_reason in SAFETY_REASONS:
        parts.append(_callout(answer, body))
    elif answer.refused:
        parts.append(f'<div class="fb-abstain">{body}</div>')
    else:
        parts.append(body)
    if answer.refused and answer.refusal_reason in ABSTAIN_REASONS:
        parts.append(_related_list(answer.related, records, turn))
    if answer.notice:
        parts.append(f'<p class="fb-notice">{inline_markup(answer.notice)}</p>')
    if answer.generator.note:
        parts.append(f'<p class="fb-notice">{esc(answer.generator.note)}</p>')
    parts.append(render_meta(answer))
    parts.append(f'<p class="fb-disclaimer">{esc(answer.disclaimer.strip() or DEFAULT_DISCLAIMER)}</p></div>')
    return "".join(parts)


def chat_messages(
    exchanges: Sequence[Exchange], records: Mapping[str, DocumentRecord], default_disclaimer: str
) -> list[dict[str, str]]:
    """The whole conversation as Gradio 'messages' (the state is the source of truth)."""
    messages: list[dict[str, str]] = []
    for turn, ex in enumerate(exchanges, 1):
        messages.append({"role": "user", "content": render_user_message(ex.question)})
        if ex.answer is not None:
            content = render_answer(ex.answer, ex.question, turn, records)
        else:
            content = render_error(ex.error or "unknown", default_disclaimer)
        messages.append({"role": "assistant", "content": content})
    return messages


# --------------------------------------------------------------------------- source panel


def _kind_label(record: DocumentRecord | None, section: str, chunk: Chunk | None) -> tuple[str, str]:
    """(css class, label) saying whose words the passage is."""
    if (chunk is not None and chunk.kind == "record") or section == RECORD_SECTION:
        return "fb-kind-record", "Bibliographic record compiled for this corpus"
    if is_corpus_summary(record):
        return "fb-kind-summary", "Summary written for this corpus, not the paper's own words"
    if record is not None and record.kind == "article":
        return "fb-kind-article", "The article's own text"
    return "fb-kind-source", "Text of the source document"


def venue_parts(record: DocumentRecord) -> tuple[str, str]:
    """Journal, and "2019;194:257-263": the usual citation form, so a reader can find the paper."""
    when = str(record.year) if record.year else ""
    locator = ":".join(x for x in (record.volume, record.pages) if x)
    if locator:
        when = f"{when};{locator}" if when else locator
    return record.journal, when


def render_record(record: DocumentRecord | None, source_id: str) -> str:
    """Title, authors, journal, year, DOI/URL, study type, evidence, identification, content kind."""
    if record is None:
        return f'<p class="fb-cite-line">Document <code>{esc(source_id)}</code> (no record in the manifest)</p>'
    href, link_text = record_link(record)
    title = esc(record.title or record.id)
    title_html = (
        f'<a class="fb-title" href="{esc(href)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        if href
        else (f'<span class="fb-title">{title}</span>')
    )
    line = []
    if record.authors:
        names = authors_text(record.authors)
        line.append(f'<span class="fb-authors">{esc(names if names.endswith(".") else names + ".")}</span>')
    line.append(title_html + ".")
    journal, when = venue_parts(record)
    venue = ", ".join(x for x in (f"<em>{esc(journal)}</em>" if journal else "", esc(when)) if x)
    if venue:
        line.append(venue + ".")
    if href and link_text:
        line.append(
            f'<a class="fb-doi" href="{esc(href)}" target="_blank" rel="noopener noreferrer">{esc(link_text)}</a>'
        )
    facts = []
    if record.study_type:
        facts.append(f'<li><span class="fb-fact-k">Study type</span> {esc(record.study_type)}</li>')
    if record.evidence_level:
        facts.append(f'<li><span class="fb-fact-k">Evidence level</span> {badge(record.evidence_level)}</li>')
    if record.identification_confidence:
        facts.append(
            f'<li><span class="fb-fact-k">Identification confidence</span> '
            f'<span class="fb-conf {confidence_class(record.identification_confidence)}">'
            f"{esc(record.identification_confidence)}</span></li>"
        )
    if record.content_kind:
        facts.append(f'<li><span class="fb-fact-k">Content</span> {esc(record.content_kind)}</li>')
    return f'<p class="fb-cite-line">{" ".join(line)}</p><ul class="fb-facts">{"".join(facts)}</ul>'


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
    section = (
        f' · <span class="fb-section">{esc(citation.section)}</span>'
        if citation.section and citation.section != RECORD_SECTION
        else ""
    )
    level = record.evidence_level if record else citation.evidence_level
    return (
        f'<article class="fb-passage {kind_cls}" id="{passage_id(turn, citation.marker)}" tabindex="-1">'
        f'<header class="fb-passage-head"><span class="fb-chip fb-chip-static">{esc(marker_label(citation.marker))}</span>'
        f'<span class="fb-source-name">{esc(source_name(record, citation.source_id))}</span>{badge(level)}</header>'
        f'<p class="fb-kind-label">{esc(kind_label)}{section}</p>'
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
    section = (
        f' · <span class="fb-section">{esc(passage.section)}</span>'
        if passage.section and passage.section != RECORD_SECTION
        else ""
    )
    return (
        f'<article class="fb-passage fb-related-card {kind_cls}" id="{related_id(turn, index)}" tabindex="-1">'
        f'<header class="fb-passage-head"><span class="fb-source-name">{esc(source_name(record, passage.source_id))}</span>'
        f"{badge(record.evidence_level if record else passage.evidence_level)}</header>"
        f'<p class="fb-kind-label">{esc(kind_label)}{section}</p>'
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
    items = []
    for rec in ordered:
        num = (
            "A"
            if rec.kind == "article"
            else (str(rec.reference_number) if rec.reference_number is not None else rec.id)
        )
        items.append(
            f'<li class="fb-kb-item"><span class="fb-chip fb-chip-static">{esc(num)}</span>'
            f"<div>{render_record(rec, rec.id)}</div></li>"
        )
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


# --------------------------------------------------------------------------- banner, suggestions


def render_banner(banner_markdown: str) -> str:
    """The mandatory disclaimer banner; its text comes from the framing prompts only."""
    return (
        '<div class="fb-banner" id="fb-banner" role="note" aria-label="Disclaimer">'
        '<span class="fb-banner-icon" aria-hidden="true"></span>'
        f'<div class="fb-banner-text">{_paragraphs(inline_markup(banner_markdown.strip() or DEFAULT_BANNER))}</div></div>'
    )


def render_audience_note(disclaimer: str) -> str:
    return f'<p class="fb-audience-note">Each answer ends with: <em>{esc(disclaimer)}</em></p>'


def _sentence_case(text: str) -> str:
    """'Dosing Considerations' -> 'dosing considerations'; acronyms (FDA, QTc) keep their case."""
    words = text.split(" ")
    title_case = sum(w[:1].isupper() for w in words) >= max(2, len(words) // 2 + 1)
    out = []
    for i, word in enumerate(words):
        acronym = sum(ch.isupper() for ch in word) > 1 or any(ch.isdigit() for ch in word)
        out.append(word if acronym or (not title_case and i > 0) else word[:1].lower() + word[1:])
    return " ".join(out)


def _question_for(heading: str) -> str:
    text = _sentence_case(normalise(heading).rstrip(":?."))
    if text.lower().startswith(_QUESTION_WORDS):
        return text[:1].upper() + text[1:] + "?"
    return f"What does the article say about {text}?"


def suggested_questions(
    chunks: Iterable[Chunk], records: Mapping[str, DocumentRecord], limit: int = MAX_SUGGESTIONS
) -> list[str]:
    """Questions built from the article's own section headings, in reading order.

    Leaf headings are the specific ones ("Dosing Considerations"); the document title and
    reference lists are skipped. Nothing here knows what the article is about.
    """
    article_ids = {sid for sid, rec in records.items() if rec.kind == "article"}
    ordered = sorted(
        (c for c in chunks if c.source_id in article_ids and c.kind == "text" and c.heading_path),
        key=lambda c: (c.source_id, c.start),
    )
    paths: list[tuple[str, ...]] = []
    for c in ordered:
        path = tuple(normalise(h) for h in c.heading_path if normalise(h))
        if path and path not in paths:
            paths.append(path)
    deepest = max((len(p) for p in paths), default=0)
    leaves = [p for p in paths if not any(len(q) > len(p) and q[: len(p)] == p for q in paths)]
    if deepest > 1:
        leaves = [p for p in leaves if len(p) > 1]
    out: list[str] = []
    for path in leaves:
        heading = path[-1]
        if heading.casefold() in _SKIP_HEADINGS:
            continue
        question = _question_for(heading)
        if question not in out:
            out.append(question)
    return out[:limit]


# --------------------------------------------------------------------------- export


def _md_escape(text: str) -> str:
    return normalise(text).replace("*", r"\*").replace("_", r"\_")


def _record_md(record: DocumentRecord | None, source_id: str) -> str:
    if record is None:
        return f"- `{source_id}` (no record in the manifest)"
    label = (
        "A"
        if record.kind == "article"
        else (str(record.reference_number) if record.reference_number is not None else record.id)
    )
    bits = [f"**[{label}] {source_name(record, source_id)}**"]
    if record.authors:
        bits.append(", ".join(record.authors) + ".")
    bits.append(f"*{record.title or record.id}*.")
    venue = ", ".join(x for x in venue_parts(record) if x)
    if venue:
        bits.append(venue + ".")
    if record.doi:
        bits.append(f"DOI: [{record.doi}](https://doi.org/{record.doi}).")
    elif safe_url(record.url):
        bits.append(f"URL: <{record.url}>.")
    lines = [f"- {' '.join(bits)}"]
    for key, value in (
        ("Study type", record.study_type),
        ("Evidence level", record.evidence_level),
        ("Identification confidence", record.identification_confidence),
        ("Content", record.content_kind),
    ):
        if value:
            lines.append(f"  - {key}: {value}")
    return "\n".join(lines)


def export_markdown(
    exchanges: Sequence[Exchange],
    records: Mapping[str, DocumentRecord],
    *,
    title: str,
    banner: str,
    fingerprint: str,
    now: datetime | None = None,
) -> str:
    """The conversation as a Markdown file a reader can keep: answers, citations, the sources."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"# Follow-up questions: {title}",
        "",
        f"Exported {stamp} · configuration {fingerprint}",
        "",
        "> " + normalise(banner),
        "",
    ]
    cited: list[str] = []
    for turn, ex in enumerate(exchanges, 1):
        out += [f"## {turn}. {normalise(ex.question)}", ""]
        answer = ex.answer
        if answer is None:
            out += [f"*No answer: an error occurred (reference {ex.error}).*", ""]
            continue
        shown = understood_as(ex.question, answer.standalone_question)
        if shown and answer.refusal_reason not in SAFETY_REASONS:
            out += [f"*Understood as: {_md_escape(shown)}*", ""]
        if answer.refusal_reason in SAFETY_REASONS:
            out += [f"**Safety message ({answer.refusal_reason}).**", ""]
        out += [answer.answer.strip(), ""]
        if answer.citations:
            out += ["Citations:", ""]
            for c in answer.citations:
                rec = records.get(c.source_id)
                where = source_name(rec, c.source_id) + (f', section "{c.section}"' if c.section else "")
                out.append(f'- {c.marker} {where}: "{normalise(c.quote)}"')
                if c.source_id not in cited:
                    cited.append(c.source_id)
            out.append("")
        if answer.refused and answer.refusal_reason in ABSTAIN_REASONS and answer.related:
            out += ["Related, but not an answer:", ""]
            for p in answer.related:
                rec = records.get(p.source_id)
                out.append(
                    f"- {source_name(rec, p.source_id)}"
                    + (f', section "{p.section}"' if p.section else "")
                    + f": {normalise(p.text)}"
                )
                if p.source_id not in cited:
                    cited.append(p.source_id)
            out.append("")
        if answer.notice:
            out += [f"*{normalise(answer.notice)}*", ""]
        out += [f"*{normalise(answer.disclaimer)}*", ""]
    if cited:
        out += ["## Sources", ""]
        out += [_record_md(records.get(sid), sid) for sid in cited]
        out.append("")
    return "\n".join(out)
