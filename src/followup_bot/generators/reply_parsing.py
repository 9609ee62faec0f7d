"""Reading the model's reply back: sentences, the markers they cite, and the short answers.

Small models do not write the format they are asked for: they put markers after the full stop,
write "(Source 1)" or "[a1]", copy a passage's header in front of a sentence, repeat themselves,
or answer and abstain at once. The parser accepts all of that and keeps what it cannot resolve
visible (an unknown marker stays as written), because the verifier, not the parser, decides what
is supported. The standalone rewrite and the judge's verdict are read back here too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from followup_bot.errors import GeneratorError
from followup_bot.generators.base import DraftSentence
from followup_bot.text import content_terms

if TYPE_CHECKING:
    from followup_bot.models import Turn

_BRACKET = re.compile(r"\[([^\[\]\n]{1,40})\]")
_MARKER_WORDS = re.compile(r"^(?:sources?|passages?|refs?\.?|references?|citations?|doc(?:ument)?s?)\s*", re.I)
# "The article: …" / "Source [1]: …": small models copy the passage header in front of a sentence.
_LEAD_LABEL = re.compile(
    r"^(?:(?:according to|from|in)\s+)?(?:the\s+)?(?:article|sources?|passages?|study|studies|case report|review|references?|"
    r"answer|response)(?:\s+is)?(?:\s*\[[^\]]{1,12}\])?\s*[:,-]\s*(?=\S)",
    re.I,
)
_CITING_WORDS = re.compile(
    r"(?:,\s*)?\b(?:as\s+(?:reported|described|shown|stated)\s+in|according\s+to|in|from|by|see|per)\s+(?=\[[^\[\]\n]{1,40}\])",
    re.I,
)
# "(Lee et al. 2019, preclinical animal study (rats)): …": a copied passage header.
_LEAD_HEADER = re.compile(r"^\((?:[^()]|\([^()]*\))*\)\s*:\s*")
_NO_SPLIT_BEFORE = ("ref.", "refs.", "al.", "e.g.", "i.e.", "vs.", "dr.", "approx.", "ca.", "fig.", "no.", "st.")


_PAREN_MARKER = re.compile(
    r"\(\s*(?:sources?|passages?|refs?\.?|references?)\s*([A-Za-z]?\d+[a-z]?(?:\s*(?:,|and)\s*[A-Za-z]?\d+[a-z]?)*)\s*\)",
    re.I,
)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def normalize_markers(inner: str, labels: dict[str, str]) -> list[str]:
    """'1, A2' / 'Source 1' / 'a1' → ['[1]', '[A2]']; unknown labels stay as given (invalid)."""
    lookup = {m.strip("[]").lower(): m for m in labels}
    out = []
    for part in re.split(r"\s*(?:[,;]|\band\b|&)\s*", inner.strip()):
        token = _MARKER_WORDS.sub("", part.strip()).strip()
        if not token:
            continue
        out.append(lookup.get(token.lower(), f"[{token}]"))
    return out


def split_answer(text: str) -> list[str]:
    """Sentences of a reply; markers written after the full stop stay with their sentence."""
    text = re.sub(r"^\s*(?:answer|response)\s*:\s*", "", text.strip(), flags=re.I)
    text = _PAREN_MARKER.sub(lambda m: f"[{m.group(1)}]", text)
    pieces: list[str] = []
    for line in re.split(r"\n+", text):
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line).strip()
        if not line:
            continue
        start = 0
        for m in re.finditer(r"[.!?]+[\"')]*\s+", line):
            before = line[start : m.start() + 1].lower()
            if before.endswith(_NO_SPLIT_BEFORE) or re.search(r"\b[a-z]\.$", before):
                continue
            pieces.append(line[start : m.end()].strip())
            start = m.end()
        if line[start:].strip():
            pieces.append(line[start:].strip())
    sentences: list[str] = []
    for piece in pieces:
        lead = re.match(r"^(?:\s*\[[^\[\]\n]{1,40}\]\s*[.,;]?)+", piece)
        if lead and sentences:
            sentences[-1] = sentences[-1] + " " + lead.group(0).strip().rstrip(".,;")
            piece = piece[lead.end() :].strip()
        if piece:
            sentences.append(piece)
    return sentences


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)", text) if p.strip()]


def parse_sentence(raw: str, labels: dict[str, str]) -> DraftSentence | None:
    raw = _PAREN_MARKER.sub(lambda m: f"[{m.group(1)}]", raw)
    markers: list[str] = []
    for m in _BRACKET.finditer(raw):
        markers.extend(normalize_markers(m.group(1), labels))
    body = _CITING_WORDS.sub(" ", raw)  # "the case report in [2] describes" → "the case report describes"
    body = _BRACKET.sub(" ", body)
    body = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", body)).strip()
    body = _LEAD_HEADER.sub("", body).strip()
    body = _LEAD_LABEL.sub("", body).strip()
    body = body.lstrip(",;: ").strip()
    if body[:1].islower() and not re.match(r"[a-z]+[A-Z0-9]", body):  # "aspirin reduced…", not "mRNA"
        body = body[0].upper() + body[1:]
    body = re.sub(r"\(\s*\)", "", body).strip()
    body = re.sub(r"[,;:]\s*$", "", body).strip()
    if not re.search(r"[A-Za-z0-9]", re.sub(r"\([^)]*\)", "", body)):
        return None  # nothing but punctuation or a copied "(the article)" header
    if body[-1] not in ".!?":
        body += "."
    return DraftSentence(text=body, markers=list(dict.fromkeys(markers)))


def parse_answer(text: str, labels: dict[str, str], abstention: str) -> tuple[list[DraftSentence], bool]:
    """(sentences, abstained). The fixed abstention sentence means: the passages are silent."""
    target = _norm(abstention)
    sentences = []
    seen: set[str] = set()
    saw_abstention = False
    for paragraph in _paragraphs(text):
        parsed_here: list[DraftSentence] = []
        for raw in split_answer(paragraph):
            if target and target in _norm(_BRACKET.sub(" ", raw)):
                saw_abstention = True
                continue
            parsed = parse_sentence(raw, labels)
            if parsed is not None and _norm(parsed.text) not in seen:  # small models loop; a repeat adds nothing
                seen.add(_norm(parsed.text))
                parsed_here.append(parsed)
        # "X. Y. [1]": a marker closing a paragraph covers the uncited sentences just before it.
        # Only the closing one: in "A [1]. B. C [2]." B is not said to come from [2]. The verifier
        # still checks each sentence against its passage, so nothing unsupported gets in.
        if parsed_here and parsed_here[-1].markers:
            for earlier in reversed(parsed_here[:-1]):
                if earlier.markers:
                    break
                earlier.markers = list(parsed_here[-1].markers)
        sentences.extend(parsed_here)
    if saw_abstention and not any(s.markers for s in sentences):
        return [], True
    return sentences, False


def clean_standalone(output: str, message: str, history: list[Turn]) -> str | None:
    """The rewritten standalone question, or None when the reply is unusable (then the heuristic is kept)."""
    text = output.strip().splitlines()[0].strip() if output.strip() else ""
    text = re.sub(r"^(?:standalone question|question)\s*:\s*", "", text, flags=re.I).strip().strip('"').strip()
    if not text or len(text) > max(300, 3 * len(message)):
        return None
    known = set(content_terms(message)) | {t for turn in history for t in content_terms(turn.content)}
    terms = set(content_terms(text))
    if terms and not terms & known:
        return None  # the model wandered off: nothing it wrote comes from the conversation
    return text


def parse_judgement(text: str) -> bool:
    """SUPPORTED (or yes) → True, NOT_SUPPORTED (or unsupported, no) → False; anything else is an error."""
    word = re.sub(r"[^A-Z_]", "", text.strip().upper().replace(" ", "_"))
    if word.startswith(("NOT_SUPPORTED", "NOTSUPPORTED", "UNSUPPORTED", "NO")):
        return False
    if word.startswith(("SUPPORTED", "YES")):
        return True
    raise GeneratorError(f"the judge answered {text.strip()[:40]!r}, not SUPPORTED or NOT_SUPPORTED")


__all__ = [
    "clean_standalone",
    "normalize_markers",
    "parse_answer",
    "parse_judgement",
    "parse_sentence",
    "split_answer",
]
