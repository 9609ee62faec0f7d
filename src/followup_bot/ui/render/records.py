"""A document's bibliographic record as a reader needs it: who wrote it, where, and how to find it.

Shared by the passage cards, the knowledge-base list and the chat's related-passage links, so a
source is named the same way everywhere. Record fields come from manifests and imported JATS
files, which we do not control: every field is escaped, and only DOI and http(s) links survive.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlparse

from followup_bot.models import DocumentRecord
from followup_bot.ui.render.markup import badge, confidence_class, esc, safe_url


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


def record_label(record: DocumentRecord) -> str:
    """'A' for the article, the reference number for a cited work, else the record's id."""
    if record.kind == "article":
        return "A"
    return str(record.reference_number) if record.reference_number is not None else record.id


def record_link(record: DocumentRecord) -> tuple[str | None, str | None]:
    """(href, visible text) for a record: the DOI resolver first, then the URL."""
    if record.doi:
        return f"https://doi.org/{record.doi}", f"doi:{record.doi}"
    url = safe_url(record.url)
    if url:
        return url, urlparse(url).netloc
    return None, None


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
