"""The small pieces every part of the page is built from: escaping, marker chips, evidence badges.

Everything that comes from a document, a model or a user is escaped here; the only markup in the
output is ours.

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


def paragraphs(fragment_html: str) -> str:
    """Blank lines become paragraphs and single newlines <br>, so a message has no raw newline.

    The chat renders Markdown; a single-line HTML block is passed through untouched.
    """
    parts = [p.strip() for p in re.split(r"\n\s*\n", fragment_html) if p.strip()]
    return "".join(f'<p class="fb-text">{p.replace(chr(10), "<br>")}</p>' for p in parts)


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
