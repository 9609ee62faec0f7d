"""The conversation as a Markdown file a reader can keep: questions, answers, citations, sources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from followup_bot.models import DocumentRecord
from followup_bot.ui.render.chat import understood_as
from followup_bot.ui.render.exchange import Exchange
from followup_bot.ui.render.markup import ABSTAIN_REASONS, SAFETY_REASONS, normalise, safe_url
from followup_bot.ui.render.records import record_label, source_name, venue_parts


def _md_escape(text: str) -> str:
    return normalise(text).replace("*", r"\*").replace("_", r"\_")


def _record_md(record: DocumentRecord | None, source_id: str) -> str:
    if record is None:
        return f"- `{source_id}` (no record in the manifest)"
    bits = [f"**[{record_label(record)}] {source_name(record, source_id)}**"]
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
