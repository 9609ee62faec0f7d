"""Prompts in, drafts out: what every chat-LLM provider shares.

The texts live in `prompts/llm/*.md` so they can be edited without code; this module only fills
them in and reads the model's reply back. Passages are shown to the model under the same kind
of marker a reader sees ([1] for the source with reference number 1, [A1] for an article
passage), and `Draft.labels` maps each marker back to its chunk so the verifier can check every
sentence against the passage it cites. A provider subclasses `ChatGenerator` and implements one
method, `_chat`, that streams text for a list of chat messages.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from followup_bot.errors import GeneratorError
from followup_bot.generators.base import Draft, DraftSentence, GenerationRequest
from followup_bot.text import content_terms

if TYPE_CHECKING:
    from followup_bot.models import Chunk, DocumentRecord, Turn
    from followup_bot.prompts import PromptLibrary
    from followup_bot.settings import Settings

Message = dict[str, str]
TokenCounter = Callable[[str], int]

DEFAULT_ABSTENTION = "The sources provided do not answer this question."
DEFAULT_DOSE_RULE = (
    "Do not give any dose, amount or schedule for this person; only report what the sources say in general."
)
JUDGE_GRAMMAR = 'root ::= "SUPPORTED" | "NOT_SUPPORTED"'
_SAFETY_MARGIN_TOKENS = 48


def estimate_tokens(text: str) -> int:
    """Rough count (English prose is ~4 characters a token; 3.5 keeps the budget on the safe side)."""
    return int(len(text) / 3.5) + 1


# ---------------------------------------------------------------------------------------------
# The answer template


@dataclass
class AnswerTemplate:
    body: str
    abstention: str = DEFAULT_ABSTENTION
    personal_dose_rule: str = DEFAULT_DOSE_RULE


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """`key: value` lines between `---` fences at the top of a prompt file, and the rest."""
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n?", text, re.S)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip()] = value.strip()
    return meta, text[match.end() :]


def answer_template(prompts: PromptLibrary) -> AnswerTemplate:
    meta, body = parse_front_matter(prompts.raw("llm/answer.md"))
    return AnswerTemplate(
        body=body.strip(),
        abstention=meta.get("abstention") or DEFAULT_ABSTENTION,
        personal_dose_rule=meta.get("personal_dose_rule") or DEFAULT_DOSE_RULE,
    )


def system_prompt(prompts: PromptLibrary, audience: str, abstention: str, article_title: str = "") -> str:
    """System text plus the audience variant; constant per audience so the KV cache is reused.

    The article's title names the subject (e.g. that Lamictal is lamotrigine), which passages
    taken out of context often do not.
    """
    text = prompts.render("llm/system.md", abstention=abstention, article_title=article_title or "the article")
    try:
        variant = prompts.raw(f"llm/audience_{audience}.md")
    except Exception:  # noqa: BLE001 - an audience variant is optional
        variant = ""
    return f"{text}\n\n{variant}".strip()


# ---------------------------------------------------------------------------------------------
# Passages and markers


@dataclass
class LabelledPassage:
    marker: str
    chunk_id: str
    text: str
    origin: str


_ARTICLE_CITE = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def _marked_text(chunk: Chunk, marker: str, is_article: bool) -> str:
    """The passage with its marker after every sentence, the way an answer should cite it.

    Small models copy sentences; when each one already ends with its marker, the copy is cited
    correctly. The article's own reference numbers ("[2, 1]") are dropped from this view: they
    would read as our markers, and the final citations carry them anyway (`article_cites`).
    """
    texts = [s.text for s in chunk.sentences] or [chunk.text]
    out = []
    for text in texts:
        text = re.sub(r"\s+", " ", text).strip()
        if is_article:
            text = _ARTICLE_CITE.sub("", text).strip()
        if not text:
            continue
        body, end = (text[:-1].rstrip(), text[-1]) if text[-1] in ".!?" else (text, ".")
        out.append(f"{body} {marker}{end}")
    return " ".join(out)


def _short_name(record: DocumentRecord) -> str:
    if not record.authors:
        return record.title or record.id
    surname = record.authors[0].split()[-1].strip(".,")
    return surname if len(record.authors) == 1 else f"{surname} et al."


def _order(request: GenerationRequest) -> list[str]:
    """Chunks holding the evidence ranker's chosen sentences first, then retrieval order."""
    seen: dict[str, None] = {}
    for s in request.evidence.chosen if request.evidence is not None else []:
        seen.setdefault(s.chunk_id, None)
    for p in request.passages:
        seen.setdefault(p.chunk_id, None)
    return [c for c in seen if c in request.chunks]


def label_passages(
    request: GenerationRequest,
    budget_tokens: int,
    count: TokenCounter = estimate_tokens,
    max_passages: int | None = None,
) -> list[LabelledPassage]:
    """The best passages that fit the budget, each under a reader-style marker."""
    per_label: dict[str, int] = {}
    out: list[LabelledPassage] = []
    used = 0
    for chunk_id in _order(request):
        if max_passages is not None and len(out) >= max_passages:
            break
        chunk = request.chunks[chunk_id]
        record = request.records.get(chunk.source_id)
        label = record.marker_label() if record is not None else chunk.source_id
        is_article = record is not None and record.kind == "article"
        # No year in the label: a model that repeats "Lee et al. (2019)" states a number the
        # passage text does not contain, and the strict number check rightly removes it.
        origin = "the article" if is_article else (_short_name(record) if record is not None else chunk.source_id)
        if record is not None and not is_article and record.study_type:
            origin += f", {record.study_type}"
        n = per_label.get(label, 0) + 1
        if label == "A":
            marker = f"[A{n}]"
        elif n == 1:
            marker = f"[{label}]"
        else:
            suffix = string.ascii_lowercase[(n - 1) % 26]
            marker = f"[{label}{suffix}]" if label.isdigit() else f"[{label}-{suffix}]"
        text = _marked_text(chunk, marker, is_article)
        cost = count(f"{marker} ({origin}): {text}") + 2
        if used + cost > budget_tokens:
            if out:
                continue  # a smaller passage further down may still fit
            text = text[: max(200, int(budget_tokens * 3.5))]  # never send the model nothing
            cost = count(text) + 12
        per_label[label] = n
        out.append(LabelledPassage(marker, chunk_id, text, origin))
        used += cost
    return out


def format_passages(passages: list[LabelledPassage]) -> str:
    return "\n\n".join(f"{p.marker} ({p.origin}): {p.text}" for p in passages)


@dataclass
class AnswerPrompt:
    messages: list[Message]
    labels: dict[str, str]
    abstention: str
    passages: list[LabelledPassage] = field(default_factory=list)


def build_answer_prompt(
    request: GenerationRequest,
    prompts: PromptLibrary,
    *,
    n_ctx: int,
    max_tokens: int,
    count: TokenCounter = estimate_tokens,
    max_passages: int | None = None,
) -> AnswerPrompt:
    template = answer_template(prompts)
    article = next((r for r in request.records.values() if r.kind == "article"), None)
    system = system_prompt(prompts, request.audience, template.abstention, article.title if article is not None else "")
    rules = template.personal_dose_rule + "\n\n" if request.personal_dose else ""

    def render(passages_text: str) -> str:
        text = template.body
        for key, value in {
            "question": request.question.strip(),
            "rules": rules,
            "abstention": template.abstention,
        }.items():
            text = text.replace("{" + key + "}", value)
        return text.replace("{passages}", passages_text)

    overhead = count(system) + count(render("")) + _SAFETY_MARGIN_TOKENS
    budget = max(64, n_ctx - max_tokens - overhead)
    passages = label_passages(request, budget, count, max_passages)
    user = render(format_passages(passages))
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return AnswerPrompt(messages, {p.marker: p.chunk_id for p in passages}, template.abstention, passages)


# ---------------------------------------------------------------------------------------------
# Reading the answer back

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
    if body[:1].islower() and not re.match(r"[a-z]+[A-Z0-9]", body):  # "lamotrigine reduced…", not "mRNA"
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


# ---------------------------------------------------------------------------------------------
# Condense and judge prompts


def build_condense_messages(
    message: str, history: list[Turn], prompts: PromptLibrary, max_turns: int = 6
) -> list[Message]:
    turns = history[-2 * max_turns :]
    lines = []
    for t in turns:
        speaker = "User" if t.role == "user" else "Assistant"
        lines.append(f"{speaker}: {' '.join(t.content.split())[:600]}")
    text = prompts.render("llm/standalone.md", history="\n".join(lines) or "(none)", message=message.strip())
    return [{"role": "user", "content": text}]


def clean_condensed(output: str, message: str, history: list[Turn]) -> str | None:
    """The rewritten question, or None when the reply is unusable (then the heuristic is kept)."""
    text = output.strip().splitlines()[0].strip() if output.strip() else ""
    text = re.sub(r"^(?:standalone question|question)\s*:\s*", "", text, flags=re.I).strip().strip('"').strip()
    if not text or len(text) > max(300, 3 * len(message)):
        return None
    known = set(content_terms(message)) | {t for turn in history for t in content_terms(turn.content)}
    terms = set(content_terms(text))
    if terms and not terms & known:
        return None  # the model wandered off: nothing it wrote comes from the conversation
    return text


def build_judge_messages(claim: str, passage: str, prompts: PromptLibrary) -> list[Message]:
    return [{"role": "user", "content": prompts.render("llm/judge.md", claim=claim.strip(), passage=passage.strip())}]


def parse_judgement(text: str) -> bool:
    word = re.sub(r"[^A-Z_]", "", text.strip().upper().replace(" ", "_"))
    if word.startswith(("NOT_SUPPORTED", "NOTSUPPORTED", "UNSUPPORTED", "NO")):
        return False
    if word.startswith(("SUPPORTED", "YES")):
        return True
    raise GeneratorError(f"the judge answered {text.strip()[:40]!r}, not SUPPORTED or NOT_SUPPORTED")


# ---------------------------------------------------------------------------------------------
# The shared generator


class ChatGenerator:
    """generate/stream/condense/judge_support on top of one streaming chat call.

    Subclasses implement `_chat(messages, max_tokens, deadline, grammar)` yielding text deltas and
    raising GeneratorError on timeouts and connection errors; everything else lives here so both
    providers behave the same.
    """

    name = "chat"

    def __init__(
        self, settings: Settings | None = None, prompts: PromptLibrary | None = None, model: str = "", **_: Any
    ) -> None:
        from followup_bot.prompts import PromptLibrary
        from followup_bot.settings import load_settings

        self.settings = settings if settings is not None else load_settings()
        self.gen = self.settings.generator
        self.prompts = (
            prompts if prompts is not None else PromptLibrary(self.settings.resolve(self.settings.prompts.dir))
        )
        self.model = model or self.gen.model

    # -- provider hooks ------------------------------------------------------------------------

    def _chat(
        self, messages: list[Message], max_tokens: int, deadline: float, grammar: str | None = None
    ) -> Iterator[str]:
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    # -- answers --------------------------------------------------------------------------------

    def build_prompt(self, request: GenerationRequest) -> AnswerPrompt:
        return build_answer_prompt(
            request,
            self.prompts,
            n_ctx=self.gen.n_ctx,
            max_tokens=self.gen.max_tokens,
            count=self.count_tokens,
            max_passages=getattr(self.gen, "max_passages", None),
        )

    def stream(self, request: GenerationRequest) -> Iterator[str | Draft]:
        """Text deltas as the model writes them (unverified), then the parsed Draft."""
        prompt = self.build_prompt(request)
        t0 = time.perf_counter()
        deadline = time.monotonic() + self.gen.timeout_s
        first: float | None = None
        parts: list[str] = []
        for delta in self._chat(prompt.messages, self.gen.max_tokens, deadline):
            if not delta:
                continue
            if first is None:
                first = (time.perf_counter() - t0) * 1000
            parts.append(delta)
            yield delta
        raw = "".join(parts)
        sentences, abstained = parse_answer(raw, prompt.labels, prompt.abstention)
        yield Draft(
            sentences=sentences,
            provider=self.name,
            model=self.model,
            abstained=abstained,
            raw_text=raw,
            first_token_ms=first,
            labels=prompt.labels,
        )

    def generate(self, request: GenerationRequest) -> Draft:
        draft: Draft | None = None
        for event in self.stream(request):
            if isinstance(event, Draft):
                draft = event
        assert draft is not None
        return draft

    def complete(
        self, messages: list[Message], max_tokens: int, grammar: str | None = None, timeout_s: float | None = None
    ) -> str:
        deadline = time.monotonic() + (timeout_s or self.gen.timeout_s)
        return "".join(self._chat(messages, max_tokens, deadline, grammar))

    # -- conversation and judging ---------------------------------------------------------------

    def condense(self, message: str, history: list[Turn]) -> str | None:
        """A standalone question for a follow-up, or the message itself when it stands alone."""
        if not history or not message.strip():
            return message
        messages = build_condense_messages(message, history, self.prompts, self.settings.conversation.max_history_turns)
        return clean_condensed(self.complete(messages, 64), message, history)

    def judge_support(self, claim: str, passage: str) -> bool:
        """True when the model says SUPPORTED; raises GeneratorError when it says something else."""
        return parse_judgement(
            self.complete(build_judge_messages(claim, passage, self.prompts), 6, grammar=JUDGE_GRAMMAR)
        )


__all__ = [
    "AnswerPrompt",
    "AnswerTemplate",
    "ChatGenerator",
    "LabelledPassage",
    "build_answer_prompt",
    "build_condense_messages",
    "build_judge_messages",
    "clean_condensed",
    "estimate_tokens",
    "label_passages",
    "normalize_markers",
    "parse_answer",
    "parse_judgement",
    "split_answer",
]
