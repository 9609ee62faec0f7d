"""The chat messages: the user's words, the streaming draft, and the verified answer with its chips.

Every message is one line of HTML in a block element, handed to a Chatbot that runs no Markdown
(`render_markdown=False`) and then sanitises: what a user typed (`![x](…)`, `<img …>`, an
autolink, blank lines) is shown as the characters typed, in the message and in its 'Understood
as' line, and never becomes an element that loads something or a link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from followup_bot.models import Answer, DocumentRecord, Passage
from followup_bot.ui.render.exchange import Exchange
from followup_bot.ui.render.markup import (
    ABSTAIN_REASONS,
    DEFAULT_DISCLAIMER,
    SAFETY_REASONS,
    chip,
    esc,
    inline_markup,
    line_breaks,
    normalise,
    paragraphs,
    plain_text,
    related_id,
)
from followup_bot.ui.render.records import source_name


def understood_as(message: str, standalone: str) -> str | None:
    """The standalone question, when it says more than the message did (a follow-up)."""
    if not standalone:
        return None

    def key(s: str) -> str:
        return normalise(s).rstrip("?.!").casefold()

    return standalone.strip() if key(standalone) != key(message) else None


def render_user_message(text: str) -> str:
    """The user's words as typed: a typed <img src=…> or Markdown image must not load anything."""
    return f'<div class="fb-user">{plain_text(text)}</div>'


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
        f'<p class="fb-disclaimer">{plain_text(disclaimer.strip() or DEFAULT_DISCLAIMER)}</p></div>'
    )


def render_error(reference: str, disclaimer: str) -> str:
    """A friendly apology with a reference the operator can find in the log; never a traceback."""
    return (
        '<div class="fb-msg fb-error" role="alert">'
        '<p class="fb-text"><strong>Sorry, something went wrong while answering.</strong> '
        "Please try again in a moment. If it keeps happening, tell the site operator "
        f"and quote reference <code>{plain_text(reference)}</code>.</p>"
        f'<p class="fb-disclaimer">{plain_text(disclaimer.strip() or DEFAULT_DISCLAIMER)}</p></div>'
    )


def answer_body(answer: Answer, turn: int) -> str:
    """The answer text with each known marker turned into a chip pointing at its passage."""
    body = inline_markup(answer.answer)
    markers = sorted({c.marker for c in answer.citations}, key=len, reverse=True)
    if markers:
        pattern = re.compile("|".join(re.escape(esc(m)) for m in markers))
        lookup = {esc(m): m for m in markers}
        body = pattern.sub(lambda m: chip(lookup[m.group(0)], turn), body)
    return paragraphs(body)


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
        items.append(
            f'<li><a class="fb-jump" href="#{related_id(turn, i)}">{plain_text(where)}</a>: {esc(snippet)}</li>'
        )
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
        parts.append(f'<p class="fb-understood">Understood as: <em>{plain_text(shown)}</em></p>')
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
        parts.append(f'<p class="fb-notice">{line_breaks(inline_markup(answer.notice))}</p>')
    if answer.generator.note:
        parts.append(f'<p class="fb-notice">{plain_text(answer.generator.note)}</p>')
    parts.append(render_meta(answer))
    parts.append(f'<p class="fb-disclaimer">{plain_text(answer.disclaimer.strip() or DEFAULT_DISCLAIMER)}</p></div>')
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
