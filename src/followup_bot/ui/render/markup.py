"""The small pieces every part of the page is built from: escaping, marker chips, evidence badges.

One rule holds the page together: text that comes from a document, a model or a user is escaped
here, and the only markup in the output is ours. User-controlled text goes through `plain_text`,
which also turns every line break into `<br>`, so a message is one line of inert HTML whatever
renderer it meets (the chat's Markdown step, were it ever switched back on, keeps a one-line HTML
block as it is; the 'Understood as' probe got through because its blank lines were left raw).

Gradio's chat sanitiser keeps `class`, `href`, `role` and `tabindex` but drops `id` and `data-*`
attributes, so a chip names its passage through a fragment link (`href="#fb-src-2-1b"`). The
passage cards live in a `gr.HTML` panel, which keeps ids, so the link works even without our
script; the script (chips.js) only adds smooth scrolling, opening and a highlight.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlparse

SAFETY_REASONS = {"emergency", "crisis"}
ABSTAIN_REASONS = {"not_in_sources", "out_of_scope"}
RECORD_SECTION = "Bibliographic record"
# Used only if a framing text file is emptied: the framing can be reworded, never removed.
DEFAULT_BANNER = (
    "**Educational information for healthcare professionals, not medical advice.** Verify everything against "
    "the primary literature before using it in patient care. **In an emergency, call your local emergency number now.**"
)
DEFAULT_DISCLAIMER = (
    "Educational information from the cited documents, not medical advice; verify against the primary literature."
)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
# Every line ending Markdown honours (\r\n, \r, \n), and the Unicode line and paragraph separators.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029]")


def esc(text: object) -> str:
    """Escape text for HTML (quotes included): documents and users never inject markup."""
    return html.escape("" if text is None else str(text), quote=True)


def line_breaks(fragment_html: str) -> str:
    """Every line break of an (already escaped) fragment as `<br>`: the result holds no raw newline."""
    return _LINE_BREAK.sub("<br>", fragment_html)


def plain_text(text: object) -> str:
    """User-controlled text as inert HTML: escaped, line breaks as `<br>`, no link, image or element."""
    return line_breaks(esc(text))


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered; anything else (javascript:, data:) is dropped."""
    if not url:
        return None
    parsed = urlparse(url.strip())
    return url.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def inline_markup(text: str) -> str:
    """Escape, then turn the two constructs our safety texts use (**bold**, bare URLs) into HTML.

    For framing texts and verified answers only: a user's words go through `plain_text`, so a URL
    the user typed never becomes a link.
    """
    out = esc(text)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _URL.sub(lambda m: f'<a href="{m.group(0)}" target="_blank" rel="noopener noreferrer">{m.group(0)}</a>', out)


def paragraphs(fragment_html: str) -> str:
    """Blank lines become paragraphs and single line breaks <br>, so a message has no raw newline."""
    unified = _LINE_BREAK.sub("\n", fragment_html)
    parts = [p.strip() for p in re.split(r"\n\s*\n", unified) if p.strip()]
    return "".join(f'<p class="fb-text">{line_breaks(p)}</p>' for p in parts)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


# --------------------------------------------------------------------------- markers and chips


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


# --------------------------------------------------------------------------- evidence badges


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
