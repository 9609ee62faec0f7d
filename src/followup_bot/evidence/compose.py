"""The shape of an answer: the sentence that answers first, short, complete, and still quoted exactly.

What a question asks decides which roles lead (`FOCI`, a table with its own examples): "what did
the trial find?" leads with findings and conclusions, "how was it done?" with methods, "is it
approved?" with the direct statement, "what are the limitations?" with caveats. Methods sentences
are left out unless the question asks for them, caveats go last, and the answer stops at a word
budget unless a part of the question is still uncovered. A sentence that announces what follows
("two ways", "the following:") brings its continuation. When only one clause of a long sentence
answers, that clause alone is quoted (an exact span), unless the rest holds a negation or a
condition that would change its meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from followup_bot.evidence.ranking import ScoredSentence, brought
from followup_bot.lexicon.records import BIBLIOGRAPHIC, asked_fields
from followup_bot.text import content_terms

FocusName = Literal["limitations", "methods", "direct", "findings", "background", "any"]


@dataclass(frozen=True)
class Focus:
    """What kind of answer a question wants, and which sentence roles give it (first preferred first)."""

    name: FocusName
    pattern: re.Pattern[str]
    prefer: tuple[str, ...]
    asked_by: tuple[str, ...]
    not_asked_by: tuple[str, ...]

    def asked(self, question: str) -> bool:
        return self.pattern.search(question) is not None


def _focus(
    name: FocusName, pattern: str, prefer: tuple[str, ...], asked_by: tuple[str, ...], not_asked_by: tuple[str, ...]
) -> Focus:
    return Focus(name, re.compile(pattern, re.I), prefer, asked_by, not_asked_by)


FOCI: tuple[Focus, ...] = (
    _focus(
        "limitations",
        r"\b(?:limitations?|weakness(?:es)?|caveats?|drawbacks?|shortcomings?|how (?:reliable|strong|good|robust) "
        r"(?:is|are) (?:the|this) (?:evidence|study|data|findings)|what (?:are|were) the risks of relying)\b",
        ("caveat",),
        ("What limitations do the authors acknowledge?", "How reliable is the evidence?"),
        ("What did the trial find?", "How was the study done?"),
    ),
    _focus(
        "methods",
        r"\bhow (?:was|were|did) (?:it|they|this|the \w+(?: \w+)?) (?:done|do|conducted|designed|measured|assessed|"
        r"selected|recruited|analy[sz]ed|collected|carried out|run)\b|\bhow (?:was|were) [^?]{0,40} "
        r"(?:measured|assessed|defined|calculated|randomi[sz]ed|selected|recruited)\b|\bhow many (?:patients|"
        r"participants|people|subjects|children|women|men|adults|studies|trials|centres|centers|countries|cases|"
        r"rats|animals|volunteers)\b|\bsample size\b|\bwhat (?:dose|doses|dosage|regimen|design|methods?|criteria|"
        r"kind of (?:study|trial|design))\b|\bwho (?:was|were) (?:included|eligible|enrolled|recruited|excluded)\b|"
        r"\bstudy design\b|\bwhat type of (?:study|trial)\b|\b(?:which|what) (?:strain|species|sex|breed|route|"
        r"schedule|protocol|assay|instrument|scale|questionnaire|outcome measures?|comparator|control)\b|"
        r"\bhow (?:did|do|were|was) (?:the )?(?:\w+ )?(?:receive|given|administered|dosed|randomi[sz]ed|blinded|"
        r"followed up)\b",
        ("method", "finding"),
        ("How was the study done?", "How many patients were randomised?", "What strain and sex of rats did they use?"),
        ("What did the trial find?", "Is it approved for this use?"),
    ),
    _focus(
        "direct",
        r"\bis (?:it|this|that) (?:approved|safe|recommended|licensed|legal|effective|established|standard|a cure)\b|"
        r"\b(?:is|are) \w+ (?:fda[- ])?(?:approved|licensed|recommended)\b|\bshould (?:i|we|they|patients|doctors|"
        r"clinicians)\b|\bcan (?:it|this) be used\b|\bis there (?:an? )?(?:approved|established|standard)\b",
        ("conclusion", "finding"),
        ("Is it approved for this use?", "Should patients take it?"),
        ("How was the study done?", "What limitations do the authors acknowledge?"),
    ),
    _focus(
        "background",
        r"^\W*what (?:is|are) (?:a |an |the )?[\w-]+\W*$|\bhow does (?:it|\w+) work\b|\bmechanism\b|\bwhat causes\b",
        ("background", "conclusion", "finding"),
        ("What is XMRV?", "How does it work?"),
        ("What did the trial find?", "How many patients were randomised?"),
    ),
    _focus(
        "findings",
        r"\bwhat (?:did|does|do) (?:it|they|this|these|the [\w-]+(?: [\w-]+)?) (?:show|find|found|conclude|report|"
        r"demonstrate|suggest)\b|\b(?:does|did|do) (?:it|this|they|the \w+) (?:work|help|reduce|improve|increase|"
        r"prevent|change|lower|raise|affect)\b|\bwhat (?:was|were|are) the (?:results?|findings|effects?|outcomes?|"
        r"main|key)\b|\bhow (?:effective|well)\b|\bbottom line\b|\bmain (?:findings|results|message)\b|\bconclu\w+\b|"
        r"\bwhat happened\b|\bany (?:effect|difference|benefit)\b",
        ("finding", "conclusion"),
        ("What did the trial find?", "Does it work?"),
        ("How was the study done?", "Who wrote reference 3?"),
    ),
)
_ANY = Focus("any", re.compile(r"$^"), ("finding", "conclusion"), (), ())

# A sentence that announces what follows: its continuation belongs in the answer.
ANNOUNCES = re.compile(
    r"\b(?:two|three|four|five|six|several|a number of|the following|these|main|key) (?:ways|reasons|factors|steps|"
    r"mechanisms|things|points|criteria|conditions|options|components|groups|types|outcomes|approaches|"
    r"strategies|questions|categories|lines of evidence)\b|:\s*$|\bas follows\b|\bfirst(?:ly)?,",
    re.I,
)
# Where a long sentence may be cut into clauses, and what in the other clause would change the meaning.
_CLAUSE_BREAKS = re.compile(r";\s+|,\s+(?:and|but|while|whereas|which|although|though)\s+|\s+—\s+|\s+-\s+")
_MEANING = re.compile(r"\b(?:not|no|never|without|unless|only if|if|except|although|though|but|however)\b", re.I)
LONG_SENTENCE_WORDS = 32
# How far below the ranker's best a sentence in the role the question asks for may be and still lead.
LEAD_MARGIN = 0.05


def focus_of(question: str) -> Focus:
    return next((f for f in FOCI if f.asked(question)), _ANY)


def words(text: str) -> int:
    return len(text.split())


def clause_of(sentence: ScoredSentence, key_terms: set[str]) -> tuple[int, int] | None:
    """The span of the one clause of a long sentence that holds all of its question terms, if cutting keeps the meaning."""
    text = sentence.text
    if words(text) < LONG_SENTENCE_WORDS or not key_terms:
        return None
    bounds, start = [], 0
    for m in _CLAUSE_BREAKS.finditer(text):
        bounds.append((start, m.start()))
        start = m.end()
    bounds.append((start, len(text)))
    if len(bounds) < 2:
        return None
    hits = [(s, e) for s, e in bounds if key_terms & set(content_terms(text[s:e]))]
    in_sentence = key_terms & set(content_terms(text))
    if len(hits) != 1:
        return None
    s, e = hits[0]
    rest = text[:s] + " " + text[e:]
    if in_sentence - set(content_terms(text[s:e])) or _MEANING.search(rest) or words(text[s:e]) < 8:
        return None
    while e > s and text[e - 1] in " ,;:":
        e -= 1
    return (s, e)


@dataclass(frozen=True)
class Shape:
    """How long an answer may be: sentences, and a word budget past which only uncovered parts are added."""

    sentences: int = 4
    words: int = 60
    stretch: float = 1.5


def compose(
    chosen: list[ScoredSentence],
    question: str,
    specific: dict[str, float],
    shape: Shape,
    continuation: Callable[[ScoredSentence], list[ScoredSentence]] | None = None,
) -> list[ScoredSentence]:
    """Order and trim the sentences the ranker chose into the answer: the one that answers first.

    The set is the ranker's (it picks sentences that together cover the question's parts); this
    only orders it, leaves out what the question did not ask for, and stops at the word budget. A
    sentence that brings a word of the question no kept sentence has may run past the budget (up to
    `shape.stretch` times it), since that is how a fact the question asks for is kept.
    """
    if not chosen:
        return []
    focus = focus_of(question)
    pool = list({(s.chunk_id, s.index): s for s in chosen}.values())
    best = pool[0]
    # The lead: the ranker's best, unless a sentence in a role the question asks for is nearly as good.
    leads = [s for s in pool if s.role in focus.prefer and s.score >= best.score - LEAD_MARGIN]
    lead = leads[0] if leads and focus.name != "any" else best
    fields = asked_fields(question) if BIBLIOGRAPHIC.search(question) else []
    # A bibliographic question is answered by the record sentence of the field it asks for.
    giving = [s for s in pool if s.role == "record" and any(f.sentence.search(s.text) for f in fields)]
    if giving:
        giving.sort(key=lambda s: next(i for i, f in enumerate(fields) if f.sentence.search(s.text)))
        lead = giving[0]
    covered = brought(lead.text, specific)
    rest = [s for s in pool if s is not lead]
    if focus.name != "methods":
        # Methods only when asked: by the question's focus, or by a word of the question the sentence holds.
        rest = [s for s in rest if s.role != "method" or brought(s.text, specific) - covered]
    limitations = focus.name == "limitations"
    rest.sort(key=lambda s: (s.caveat or s.role == "caveat") and not limitations)
    answer = [lead]
    total = words(lead.quoted)
    for s in rest:
        if len(answer) >= shape.sentences:
            break
        adds = brought(s.text, specific) - covered
        size = words(s.text)
        # A sentence that brings nothing new must fit the budget. One that brings a word of the question no
        # kept sentence has may run past it, as long as the answer is not already `shape.stretch` times over.
        if (total >= shape.words * shape.stretch) if adds else (total + size > shape.words):
            continue
        answer.append(s)
        covered |= adds
        total += size
    answer = _continue(answer, continuation, shape)
    terms = set(specific)
    return [replace(s, clause=clause_of(s, terms)) if s.role != "record" else s for s in answer]


def _continue(
    answer: list[ScoredSentence], continuation: Callable[[ScoredSentence], list[ScoredSentence]] | None, shape: Shape
) -> list[ScoredSentence]:
    """After a sentence that announces what follows, its next sentences (or list items), up to three."""
    if continuation is None:
        return answer
    out: list[ScoredSentence] = []
    have = {(s.chunk_id, s.index) for s in answer}
    for s in answer:
        out.append(s)
        if ANNOUNCES.search(s.text):
            for nxt in continuation(s)[:3]:
                if (nxt.chunk_id, nxt.index) not in have:
                    out.append(nxt)
                    have.add((nxt.chunk_id, nxt.index))
    return out[: shape.sentences + 3]


# Where a question asks a second thing: "…, and what did it do to side effects?", "…? How long…?", "…; …".
_PART_BREAKS = re.compile(
    r"\?\s+|;\s+|,?\s+and\s+(?=(?:what|how|when|where|which|who|why|whether|is|are|was|were|does|did|do|can|could|"
    r"should|has|have)\b)",
    re.I,
)


def question_parts(question: str) -> list[str]:
    """The separate questions a message asks, in its own words (one part for a simple question)."""
    parts = [p.strip(" ?.,;") for p in _PART_BREAKS.split(" ".join(question.split()))]
    return [p for p in parts if len(p.split()) >= 2]


def unstated_parts(
    question: str, answer: list[ScoredSentence], specific: dict[str, float], uncovered: list[str]
) -> list[str]:
    """The parts of a multi-part question the answer says nothing about: none of the part's specific words is in
    the answer, and none was found as a synonym either, so the reader is told the documents do not say."""
    parts = question_parts(question)
    if len(parts) < 2 or not answer:
        return []
    said = {t for s in answer for t in brought(s.text, specific)}
    missing = set(uncovered)
    out = []
    for part in parts:
        own = {t for t in content_terms(part) if t in specific}
        if own and not own & said and own <= missing:
            out.append(part)
    return out
