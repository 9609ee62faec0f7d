"""The fixed parts of the page around the chat: header, disclaimer banner, article notice, audience note, footer.

The banner's text comes from the framing prompts only, and an emptied framing file falls back to
a built-in text, so no setting can hide it. The article title (possibly from an imported JATS
file) and the generator's name are escaped like any other outside text.
"""

from __future__ import annotations

from followup_bot.ui.render.markup import DEFAULT_BANNER, esc, inline_markup, normalise, paragraphs

MAX_REQUESTED_CHARS = 80


def render_header(title: str) -> str:
    return (
        '<header class="fb-header"><p class="fb-kicker">Follow-up questions</p>'
        f'<h1 class="fb-h1">{esc(title)}</h1>'
        '<p class="fb-sub">Answers come only from the article and the publications it cites, '
        "each statement quoted and marked.</p></header>"
    )


def render_banner(banner_markdown: str) -> str:
    """The mandatory disclaimer banner; its text comes from the framing prompts only."""
    return (
        '<div class="fb-banner" id="fb-banner" role="note" aria-label="Disclaimer">'
        '<span class="fb-banner-icon" aria-hidden="true"></span>'
        f'<div class="fb-banner-text">{paragraphs(inline_markup(banner_markdown.strip() or DEFAULT_BANNER))}</div></div>'
    )


def render_article_notice(requested: str, opened_title: str, reference: str = "") -> str:
    """Why the page shows another article than the URL asked for; the id comes from the URL, so it is escaped."""
    shown = normalise(requested)
    shown = shown if len(shown) <= MAX_REQUESTED_CHARS else shown[: MAX_REQUESTED_CHARS - 1] + "…"
    why = f"could not be opened (reference {esc(reference)})" if reference else "is not in the library"
    return (
        f'<p class="fb-article-notice" role="status">The article “{esc(shown)}” {why}, '
        f"so the page shows <strong>{esc(opened_title)}</strong> instead.</p>"
    )


def render_audience_note(disclaimer: str) -> str:
    return f'<p class="fb-audience-note">Each answer ends with: <em>{esc(disclaimer)}</em></p>'


def render_footer(provider: str, model: str, fingerprint: str) -> str:
    return (
        '<p class="fb-footer">Answers by the <code>'
        f"{esc(provider)}</code> generator ({esc(model or 'default')}) · configuration "
        f"<code>{esc(fingerprint)}</code> · feedback is stored on this server only.</p>"
    )
