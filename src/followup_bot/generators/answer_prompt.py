"""The answer chat: system text, the question, and the passages under reader-style markers.

The texts live in `prompts/llm/*.md` so they can be edited without code; this module only fills
them in. Passages are shown to the model under the same kind of marker a reader sees ([1] for
the source with reference number 1, [A1] for an article passage), and `AnswerPrompt.labels` maps
each marker back to its chunk so the verifier can check every sentence against the passage it
cites. The passages are chosen to fit the context window left after the system text, the
template and the reply's `max_tokens`, counted with the provider's own tokenizer when it has one.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from followup_bot.generators.base import GenerationRequest
from followup_bot.generators.chat_format import Message, TokenCounter, estimate_tokens

if TYPE_CHECKING:
    from followup_bot.models import Chunk, DocumentRecord
    from followup_bot.prompts import PromptLibrary

DEFAULT_ABSTENTION = "The sources provided do not answer this question."
DEFAULT_DOSE_RULE = (
    "Do not give any dose, amount or schedule for this person; only report what the sources say in general."
)
_SAFETY_MARGIN_TOKENS = 48


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

    The article's title names the subject (e.g. that a brand name is a given generic drug), which passages
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


__all__ = [
    "DEFAULT_ABSTENTION",
    "DEFAULT_DOSE_RULE",
    "AnswerPrompt",
    "AnswerTemplate",
    "LabelledPassage",
    "answer_template",
    "build_answer_prompt",
    "format_passages",
    "label_passages",
    "parse_front_matter",
    "system_prompt",
]
