"""The conversation as a Markdown file a reader can keep: questions, answers, citations, sources.

A Markdown viewer (an editor's preview, a forge, a notes app) renders what it is given, so text
we do not write ourselves must not become markup there either. Two neutralisers:

- `md_literal` for words shown verbatim (the reader's questions, 'Understood as', quotes,
  passages, titles and other record fields): every character Markdown could read as syntax is
  backslash-escaped (``\\ ` * _ [ ] < > #``), and any word that looks like a link (a scheme with
  `://`, `www.`, an e-mail address, `javascript:` and friends) is put in a code span, so no
  viewer autolinks it, loads it as an image or lets it open a raw HTML element.
- `md_prose` for framing texts and verified answers: as on the page, `**bold**` and plain
  http(s) URLs stay; brackets (except the answer's own citation markers), angle brackets and
  backticks are escaped, and other link-like words go in code spans.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from followup_bot.models import DocumentRecord
from followup_bot.ui.render.chat import understood_as
from followup_bot.ui.render.exchange import Exchange
from followup_bot.ui.render.markup import ABSTAIN_REASONS, SAFETY_REASONS, normalise, safe_url
from followup_bot.ui.render.records import record_label, source_name, venue_parts

_LITERAL_SPECIAL = re.compile(r"([\\`*_\[\]<>#])")
_PROSE_SPECIAL = re.compile(r"([\\`\[\]<>])")
_LINK_LIKE = re.compile(
    r"://|@|(?<![\w.])www\.|(?<![\w.+-])(?:javascript|vbscript|data|file|mailto|tel|xmpp|ftp|irc|blob|wss?):(?=\S)",
    re.IGNORECASE,
)
_CLEAN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+")
_URL_SAFE_CHARS = ":/?#@!$&'*+,;=%~.-_"


def md_code(text: str) -> str:
    """A code span holding `text` literally, whatever backticks it contains."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_url(url: str) -> str:
    """A URL with every character that could end a Markdown link destination percent-encoded."""
    return quote(url, safe=_URL_SAFE_CHARS)


def md_literal(text: str) -> str:
    """Text shown exactly as written, on one line: no emphasis, link, image, autolink or HTML."""
    words = normalise(text).split(" ")
    return " ".join(md_code(w) if _LINK_LIKE.search(w) else _LITERAL_SPECIAL.sub(r"\\\1", w) for w in words)


def _prose_word(word: str, markers: Sequence[str]) -> str:
    if _CLEAN_HTTP_URL.fullmatch(word):
        return word  # autolinked by viewers, as the page links it
    if _LINK_LIKE.search(word):
        return md_code(word)
    if not markers:
        return _PROSE_SPECIAL.sub(r"\\\1", word)
    out, last = [], 0
    for match in re.finditer("|".join(re.escape(m) for m in markers), word):
        out.append(_PROSE_SPECIAL.sub(r"\\\1", word[last : match.start()]))
        opens_link = word[match.end() : match.end() + 1] in ("(", ":")  # `[1](…)` or `[1]: …` would be a link
        out.append(_PROSE_SPECIAL.sub(r"\\\1", match.group(0)) if opens_link else match.group(0))
        last = match.end()
    out.append(_PROSE_SPECIAL.sub(r"\\\1", word[last:]))
    return "".join(out)


def md_prose(text: str, markers: Iterable[str] = ()) -> str:
    """Our framing texts and verified answers: **bold**, http(s) URLs and citation markers survive.

    Paragraphs (blank lines) are kept; a paragraph never starts with a bracket, so a marker can
    never open a link reference definition (`[1]: http://…`).
    """
    known = sorted(set(markers), key=len, reverse=True)
    paragraphs = [normalise(p) for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    out = []
    for paragraph in paragraphs:
        rendered = " ".join(_prose_word(w, known) for w in paragraph.split(" "))
        out.append("\\" + rendered if rendered.startswith("[") else rendered)
    return "\n\n".join(out)


def _record_md(record: DocumentRecord | None, source_id: str) -> str:
    if record is None:
        return f"- {md_code(source_id)} (no record in the manifest)"
    bits = [f"**[{md_literal(record_label(record))}] {md_literal(source_name(record, source_id))}**"]
    if record.authors:
        bits.append(md_literal(", ".join(record.authors)) + ".")
    bits.append(f"*{md_literal(record.title or record.id)}*.")
    venue = ", ".join(x for x in venue_parts(record) if x)
    if venue:
        bits.append(md_literal(venue) + ".")
    url = safe_url(record.url)
    if record.doi:
        bits.append(f"DOI: [{md_literal(record.doi)}](https://doi.org/{md_url(record.doi)}).")
    elif url:
        bits.append(f"URL: <{md_url(url)}>.")
    lines = [f"- {' '.join(bits)}"]
    for key, value in (
        ("Study type", record.study_type),
        ("Evidence level", record.evidence_level),
        ("Identification confidence", record.identification_confidence),
        ("Content", record.content_kind),
    ):
        if value:
            lines.append(f"  - {key}: {md_literal(value)}")
    return "\n".join(lines)


def _where(records: Mapping[str, DocumentRecord], source_id: str, section: str) -> str:
    name = md_literal(source_name(records.get(source_id), source_id))
    return name + (f', section "{md_literal(section)}"' if section else "")


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
        f"# Follow-up questions: {md_literal(title)}",
        "",
        f"Exported {stamp} · configuration {md_literal(fingerprint)}",
        "",
        "> " + normalise(md_prose(banner)),
        "",
    ]
    cited: list[str] = []
    for turn, ex in enumerate(exchanges, 1):
        out += [f"## {turn}. {md_literal(ex.question)}", ""]
        answer = ex.answer
        if answer is None:
            out += [f"*No answer: an error occurred (reference {md_literal(ex.error or 'unknown')}).*", ""]
            continue
        shown = understood_as(ex.question, answer.standalone_question)
        if shown and answer.refusal_reason not in SAFETY_REASONS:
            out += [f"*Understood as: {md_literal(shown)}*", ""]
        if answer.refusal_reason in SAFETY_REASONS:
            out += [f"**Safety message ({answer.refusal_reason}).**", ""]
        out += [md_prose(answer.answer, (c.marker for c in answer.citations)), ""]
        if answer.citations:
            out += ["Citations:", ""]
            for c in answer.citations:
                out.append(f'- {c.marker} {_where(records, c.source_id, c.section)}: "{md_literal(c.quote)}"')
                if c.source_id not in cited:
                    cited.append(c.source_id)
            out.append("")
        if answer.refused and answer.refusal_reason in ABSTAIN_REASONS and answer.related:
            out += ["Related, but not an answer:", ""]
            for p in answer.related:
                out.append(f"- {_where(records, p.source_id, p.section)}: {md_literal(p.text)}")
                if p.source_id not in cited:
                    cited.append(p.source_id)
            out.append("")
        if answer.notice:
            out += [f"*{normalise(md_prose(answer.notice))}*", ""]
        out += [f"*{normalise(md_prose(answer.disclaimer))}*", ""]
    if cited:
        out += ["## Sources", ""]
        out += [_record_md(records.get(sid), sid) for sid in cited]
        out.append("")
    return "\n".join(out)
