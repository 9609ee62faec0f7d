"""The support judge, and the checks that every sentence of a draft rests on its citation.

No entailment model can be installed offline here, so the default judge is built from what we
have: content-word overlap, embedding similarity, and strict checks on the things that make a
medical claim wrong while it still *looks* similar: numbers and doses, negation, and names
(drugs, populations) that the passage never mentions. One judge serves both the verification of
LLM answers and the evaluation's citation recall and precision; its accuracy is measured on
eval/judge_calibration.jsonl.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from followup_bot.citations import MarkerBook
from followup_bot.corpus import split_sentences
from followup_bot.generators.base import Draft
from followup_bot.models import Chunk, Citation, Verification
from followup_bot.text import NEGATIONS, STOPWORDS, content_terms, numbers, words

_MARKER = re.compile(r"\[([A-Za-z]?\d+[a-z]?(?:-[a-z])?|[A-Za-z][\w.-]*)\]")
_POPULATION = frozenset(
    "rat rats mouse mice animal animals primate primates monkey monkeys human humans patient patients volunteer volunteers "
    "healthy child children infant infants adult adults women men woman man male males female females boys girls "
    "pregnant elderly adolescent adolescents schizophrenia bipolar depression epilepsy".split()
)
_GENERIC_POPULATION = frozenset({"patient", "patients"})
# Drugs are recognised by the international non-proprietary name stems, plus a few classes.
# Ordinary English words with the same endings are listed so they are never taken for drugs.
_DRUG_STEM = re.compile(
    r"[a-z]{3,}(?:ine|pine|pam|olam|idol|done|zole|mab|ium|xone|profen|pril|sartan|olol|statin|mycin|cillin|barbital|triptan|afil)$"
)
_DRUG_CLASSES = frozenset(
    "antipsychotic opioid maoi ssri snri stimulant psychostimulant stabilizer stabiliser anticonvulsant antiepileptic".split()
)
_NOT_DRUGS = frozenset(
    """medicine routine determine examine line baseline guideline decline define combine fine nine online outline discipline
    machine engine genuine imagine undermine doctrine spine urine intestine feminine masculine marine canine feline bovine
    porcine alkaline saline quarantine magazine cuisine wine vine shine mine pine entine pristine sanguine endocrine
    medium premium podium stadium symposium millennium equilibrium delirium consortium compendium gymnasium auditorium
    aquarium criterium cranium done undone condone deadline headline airline pipeline timeline borderline incline sideline
    hotline helpline underline refine confine recline predetermine uterine equine divine supine alpine famine jasmine
    turbine medline""".split()
)
# Words that make a claim absolute or definite; a passage that does not use them cannot support them.
_ABSOLUTE = frozenset(
    "will cure cures cured curing prove proves proved proven always every must guarantee guarantees guaranteed definitely "
    "certainly safe safely completely eliminate eliminates first-line".split()
)
# Negative-polarity words beyond the plain negations: "unchanged" says what "did not change" says.
_NEGATIVE_WORDS = frozenset(
    "unknown unclear unchanged unaffected unable unlikely unsupported unproven untested unestablished inconclusive "
    "ineffective insufficient absent absence lack lacks lacking lacked fail fails failed neither".split()
)
_PUBLICATION_NOUNS = r"(?:study|trial|review|paper|report|case report|search|group|series|team|abstract)"
_SOURCE_REF = re.compile(
    r"\b([A-Z][a-z]{2,})(?=\s+et\s+al\b|\s+and\s+colleagues\b)"
    rf"|\b[Tt]he\s+([A-Z][a-z]{{2,}})(?=(?:['’]s)?\s+{_PUBLICATION_NOUNS}\b)"
    rf"|\b([A-Z][a-z]{{2,}})(?=['’]s\s+{_PUBLICATION_NOUNS}\b)"
)
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,}[A-Z0-9]s?\b")
_CAPITALISED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-z]{3,}\b")
# Where a claim joins two assertions; each part must be supported on its own ("partial" claims).
_CLAIM_JOINS = re.compile(
    r",\s*(?:and|but|while|whereas|although|though)\s+|;\s+|\s+but\s+|\s+and\s+(?:also\s+)?(?=\w+ed\b|(?:the|it|they|this|these)\s)",
    re.IGNORECASE,
)
# Where a passage sentence turns ("did not change X, but it did reduce Y"); polarity is compared per part.
_PASSAGE_TURNS = re.compile(r",\s*(?:but|whereas|while|although|though|yet)\s+|;\s+|\s+but\s+", re.IGNORECASE)
_PARENTHESES = re.compile(r"\([^()]*\)")


@dataclass
class Judgement:
    supported: bool
    score: float
    reasons: list[str] = field(default_factory=list)


class SupportJudge(Protocol):
    name: str

    def judge(self, claim: str, passage: str) -> Judgement: ...


_DOSE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|milligrams?|mcg|micrograms?|µg|g|grams?|ml|units?)\b", re.I)
# What a dose is *for*. "Patients took 300 mg before the infusion" does not support "the maximum
# daily dose is 300 mg": the number is in the passage, its role is not. Each group is one role.
_DOSE_ROLES = {
    "maximum": {"maximum", "max", "maximal", "highest", "ceiling", "up"},
    "minimum": {"minimum", "min", "lowest", "least"},
    "daily": {"daily", "day", "days", "d"},
    "recommended": {"recommended", "recommend", "recommends", "recommendation", "advised", "guideline", "guidelines"},
    "starting": {"starting", "start", "starts", "started", "initial", "initially", "begin", "beginning"},
    "usual": {"usual", "usually", "standard", "typical", "typically", "normal", "common"},
    "effective": {"effective", "efficacious", "therapeutic"},
    "safe": {"safe", "safely", "safest", "tolerated"},
}


def dose_role_mismatch(claim: str, passage: str) -> list[str]:
    """A dose whose role (maximum, daily, recommended, starting…) the passage does not give it."""
    if not _DOSE.search(claim):
        return []
    claim_words, passage_words = set(words(claim)), set(words(passage))
    missing = [role for role, forms in _DOSE_ROLES.items() if claim_words & forms and not passage_words & forms]
    return [f"dose stated as {', '.join(missing)}, which the passage does not say"] if missing else []


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 4 else word


def drug_names(text: str) -> set[str]:
    """Drug names and classes in a text, singular and lower-case ("Benzodiazepines" -> "benzodiazepine")."""
    found = set()
    for token in words(text):
        for part in token.split("-"):
            w = _singular(part)
            if w in _NOT_DRUGS or len(w) < 5:
                continue
            if _DRUG_STEM.search(w) or w in _DRUG_CLASSES:
                found.add(w)
    return found


def source_references(text: str) -> set[str]:
    """Names used to refer to a publication ("Mathew et al.", "the Abdallah study"), lower-case."""
    found = {name.lower() for groups in _SOURCE_REF.findall(text) for name in groups if name}
    return {n for n in found if n not in STOPWORDS}


def negated(text: str) -> bool:
    """Whether a clause is negative, ignoring asides in parentheses ("(not as a drug of abuse)")."""
    ws = words(_PARENTHESES.sub(" ", text))
    return any(w in NEGATIONS or w.endswith("n't") or w in _NEGATIVE_WORDS for w in ws)


def _acronym_expanded(acronym: str, passage_words: list[str]) -> bool:
    """ "RCTs" is supported by "randomized controlled trials": initials of consecutive words."""
    letters = acronym.rstrip("s").lower()
    if not letters.isalpha():
        return False
    n = len(letters)
    initials = "".join(w[0] for w in passage_words)
    return letters in initials and any(initials[i : i + n] == letters for i in range(len(initials) - n + 1))


def _number_tokens(text: str) -> list[tuple[str | None, str]]:
    """(number or None, stemmed content term or "") per word: the sequence the binding check walks."""
    out: list[tuple[str | None, str]] = []
    for w in words(text):
        num = numbers(w)
        if num and (w[0].isdigit() or len(num) == 1):
            out.append((sorted(num)[0], ""))
            continue
        terms = content_terms(w)
        out.append((None, terms[0] if terms else ""))
    return out


def _numbers_bound(text: str, window: int = 3) -> dict[str, set[str]]:
    """Each number with the content terms that follow it ("22 patients", "29 healthy controls")."""
    tokens = _number_tokens(text)
    bound: dict[str, set[str]] = {}
    for i, (num, _) in enumerate(tokens):
        if num is None:
            continue
        following = set()
        for other_num, term in tokens[i + 1 : i + 1 + window]:
            if other_num is not None:
                break
            if term:
                following.add(term)
        bound.setdefault(num, set()).update(following)
    return bound


def _first_bound_term(text: str) -> dict[str, str]:
    tokens = _number_tokens(text)
    first: dict[str, str] = {}
    for i, (num, _) in enumerate(tokens):
        if num is None:
            continue
        for other_num, term in tokens[i + 1 : i + 3]:
            if other_num is not None:
                break
            if term:
                first.setdefault(num, term)
                break
    return first


_SCOPE_SKIP = frozenset("yet still even also ever always necessarily significantly".split())


def _negation_scopes(text: str, near: int = 3) -> tuple[set[str], set[str], set[str]]:
    """(first term after each negation, terms within `near` after one, terms outside any scope).

    Asides in parentheses are dropped, and a scope ends at punctuation, so "(not as a drug of
    abuse)" or "did not change X, but reduced Y" do not negate what follows.
    """
    first: set[str] = set()
    scoped: set[str] = set()
    plain: set[str] = set()
    for clause in re.split(r"[,;:.()]|\bbut\b|\band\b", _PARENTHESES.sub(" ", text)):
        remaining = 0
        need_first = False
        for w in words(clause):
            if w in NEGATIONS or w.endswith("n't") or w in _NEGATIVE_WORDS:
                remaining, need_first = near, True
                continue
            if w in _SCOPE_SKIP or (w.endswith("ly") and len(w) > 5):
                continue
            terms = content_terms(w)
            if not terms:
                continue
            if remaining > 0:
                scoped.update(terms)
                if need_first:
                    first.add(terms[0])
                    need_first = False
                remaining -= 1
            else:
                plain.update(terms)
    return first, scoped, plain


class HeuristicJudge:
    """Overlap + embedding similarity, vetoed by strict checks of what makes a claim wrong.

    A medical claim can look almost identical to its passage and still be false: another number,
    a dropped "not", another drug or population, an extra clause, or "will cure" where the
    passage says "may". Similarity cannot see those, so each is a hard veto; similarity only
    decides among the claims that survive them. The rules are general (numbers, negation, names,
    modality, coordination), not keyed to the calibration pairs, so they transfer to new text.
    """

    name = "heuristic"
    cache_size = 4096

    def __init__(
        self,
        threshold: float = 0.46,
        embed: Callable[[list[str]], np.ndarray] | None = None,
        idf: Callable[[str], float] | None = None,
    ) -> None:
        self.threshold = threshold
        self.embed = embed
        self.idf = idf or (lambda _t: 1.0)
        self.part_floor = max(0.0, threshold - 0.1)
        self._vectors: dict[str, np.ndarray] = {}

    # -- similarity -------------------------------------------------------------------------
    def _encode(self, texts: list[str]) -> list[np.ndarray]:
        """Embeddings with a small cache: evaluation judges the same quotes many times."""
        assert self.embed is not None
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            if len(self._vectors) + len(missing) > self.cache_size:
                self._vectors.clear()
            for text, vec in zip(missing, self.embed(missing), strict=True):
                self._vectors[text] = np.asarray(vec, dtype=np.float32)
        return [self._vectors[t] for t in texts]

    def _coverage(self, terms: list[str], pterms: set[str]) -> float:
        total = sum(self.idf(t) for t in terms)
        return sum(self.idf(t) for t in terms if t in pterms) / total if total else 0.0

    def _units(self, passage: str) -> list[str]:
        """Passage sentences, split again where they turn ("…, but …")."""
        units = []
        for s, e in split_sentences(passage) or [(0, len(passage))]:
            units.extend(u for u in _PASSAGE_TURNS.split(passage[s:e]) if u.strip())
        return units or [passage]

    def _best_sentence(self, claim_terms: set[str], passage: str) -> str:
        best, best_hit = passage, -1.0
        for unit in self._units(passage):
            hit = len(claim_terms & set(content_terms(unit)))
            if hit > best_hit:
                best, best_hit = unit, hit
        return best

    # -- checks -------------------------------------------------------------------------------
    def _negation_differs(self, claim: str, units: list[str]) -> bool:
        """Polarity of each part of the claim against the passage part that says the same thing."""
        scored_units = [(set(content_terms(u)), u) for u in units]
        for part in _PASSAGE_TURNS.split(claim):
            pterms = content_terms(part)
            if not pterms:
                continue
            scored = [(self._coverage(pterms, terms), u) for terms, u in scored_units]
            best = max(s for s, _ in scored)
            if best <= 0:
                continue
            polarity = negated(part)
            if all(negated(u) != polarity for s, u in scored if s >= best - 1e-9):
                return True
        return False

    @staticmethod
    def _polarity_conflicts(claim: str, passage: str) -> set[str]:
        """Terms the claim asserts that the passage only ever denies, and the reverse.

        "Lamotrigine reduced the side effects" against "Lamotrigine did not reduce the side
        effects": the word after the passage's "not" is asserted by the claim, and the passage
        never asserts it. The claim's scope is generous and the passage's strict, so a paraphrase
        that moves the negation ("no specific established protocol") is not flagged.
        """
        c_neg_first, c_neg_near, c_plain = _negation_scopes(claim)
        p_neg_first, p_neg_near, p_plain = _negation_scopes(passage)
        asserted_denied = (c_plain - c_neg_near) & p_neg_first - p_plain
        denied_asserted = c_neg_first & (p_plain - p_neg_near) - c_plain
        return asserted_denied | denied_asserted

    def _numbers_check(self, claim: str, passage: str) -> list[str]:
        missing = numbers(claim) - numbers(passage)
        if missing:
            return [f"numbers not in passage: {sorted(missing)}"]
        passage_bound = _numbers_bound(passage)
        for num, term in _first_bound_term(claim).items():
            here = passage_bound.get(num, set())
            elsewhere = {n for n, terms in passage_bound.items() if n != num and term in terms}
            if term not in here and elsewhere:
                return [f"number {num} is attached to '{term}', which the passage gives as {sorted(elsewhere)}"]
        return []

    def _names_check(self, claim: str, passage: str, pterms: set[str]) -> list[str]:
        reasons = []
        claim_words = words(claim)
        passage_word_list = words(passage)
        passage_words = set(passage_word_list) | pterms
        cdrugs, pdrugs = drug_names(claim), drug_names(passage)
        missing_drugs, other_drugs = cdrugs - pdrugs, pdrugs - cdrugs
        # A drug the passage never names is fine when the passage names no drug of its own
        # (an article bullet about lamotrigine need not repeat its name); not when it names another.
        if missing_drugs and other_drugs:
            reasons.append(f"drug not in passage: {sorted(missing_drugs)} (passage: {sorted(other_drugs)})")
        crefs, prefs = source_references(claim), source_references(passage)
        missing_refs = {r for r in crefs - prefs if r not in passage_words}
        if missing_refs and prefs - crefs:
            reasons.append(f"publication name not in passage: {sorted(missing_refs)}")
        skip = crefs | cdrugs
        names = {
            w
            for w in _CAPITALISED.findall(claim)
            if w.lower() not in passage_words and _singular(w.lower()) not in skip
        }
        names = {n for n in names if content_terms(n) and content_terms(n)[0] not in pterms}
        acronyms = {
            a
            for a in _ACRONYM.findall(claim)
            if a.lower() not in passage_words
            and a.lower().rstrip("s") not in passage_words
            and not _acronym_expanded(a, passage_word_list)
        }
        if names | acronyms:
            reasons.append(f"names not in passage: {sorted(names | acronyms)}")
        pops = {
            w for w in claim_words if w in _POPULATION and w not in passage_words and content_terms(w)[0] not in pterms
        }
        # "Patients" is how any clinical claim is phrased; it is only wrong when the passage is
        # about someone else (volunteers, rats). A species or a named group must always match.
        if pops <= _GENERIC_POPULATION and not ({w for w in passage_word_list if w in _POPULATION} - set(claim_words)):
            pops = set()
        if pops:
            reasons.append(f"population not in passage: {sorted(pops)}")
        absolute = {w for w in claim_words if w in _ABSOLUTE and w not in passage_words}
        if absolute:
            reasons.append(f"stronger than the passage: {sorted(absolute)}")
        return reasons

    def _parts(self, claim: str, excused: set[str]) -> list[str]:
        parts = [p for p in _CLAIM_JOINS.split(claim) if len([t for t in content_terms(p) if t not in excused]) >= 2]
        return parts if len(parts) >= 2 else []

    def _parts_check(
        self, parts: list[str], pterms: set[str], excused: set[str], similarity: list[float] | None
    ) -> list[str]:
        """Every joined assertion of the claim must be covered on its own ("partial" claims)."""
        for i, part in enumerate(parts):
            score = self._coverage([t for t in content_terms(part) if t not in excused], pterms)
            if similarity is not None:
                score = 0.6 * score + 0.4 * similarity[i]
            if score < self.part_floor:
                return [f"part not supported ({score:.2f}): {part.strip()[:60]}"]
        return []

    @staticmethod
    def _verbatim(claim: str, passage: str, units: list[str]) -> bool:
        """The claim is one of the passage's sentences (or the whole passage), word for word."""
        key = words(claim)
        return bool(key) and any(words(u) == key for u in [passage, *units])

    # -- verdict ------------------------------------------------------------------------------
    def judge(self, claim: str, passage: str) -> Judgement:
        """Supported only if no strict check vetoes the claim and the similarity reaches the threshold.

        The strict checks run first and need no model, so a vetoed claim costs no embedding; its
        score is then the lexical overlap alone. A claim that is a whole sentence of the passage
        is supported outright (the common case for extractive answers, and the cheapest).
        """
        claim_clean = re.sub(r"\s+", " ", _MARKER.sub(" ", claim)).strip()
        passage = re.sub(r"\s+", " ", _MARKER.sub(" ", passage)).strip()
        pterms = set(content_terms(passage))
        # A publication's name ("the Huang case report") identifies the source; it is not a claim
        # the passage text has to repeat, so it does not count against the overlap.
        excused = {t for r in source_references(claim_clean) - source_references(passage) for t in content_terms(r)}
        cterms = [t for t in content_terms(claim_clean) if t not in excused]
        if not cterms or not passage:
            return Judgement(False, 0.0, ["claim has no content" if not cterms else "empty passage"])
        units = self._units(passage)
        if self._verbatim(claim_clean, passage, units):
            return Judgement(True, 1.0, [])
        lexical = self._coverage(cterms, pterms)
        reasons = self._numbers_check(claim_clean, passage)
        if self._negation_differs(claim_clean, units):
            reasons.append("negation differs from the passage")
        else:
            conflicts = self._polarity_conflicts(claim_clean, passage)
            if conflicts:
                reasons.append(f"negation conflict: the passage denies {sorted(conflicts)}")
        reasons += self._names_check(claim_clean, passage, pterms)
        reasons += dose_role_mismatch(claim_clean, passage)
        if reasons:
            return Judgement(False, round(lexical, 4), reasons)
        parts = self._parts(claim_clean, excused)
        score = lexical
        similarity = None
        if self.embed is not None:
            vecs = self._encode([claim_clean, *parts, passage, *units])
            targets = vecs[1 + len(parts) :]
            score = 0.6 * lexical + 0.4 * max(float(vecs[0] @ v) for v in targets)
            similarity = [max(float(vecs[1 + i] @ v) for v in targets) for i in range(len(parts))]
        reasons = self._parts_check(parts, pterms, excused, similarity)
        supported = not reasons and score >= self.threshold
        if not supported and not reasons:
            reasons.append(f"score {score:.2f} < {self.threshold}")
        return Judgement(supported, round(score, 4), reasons)


def strip_markers(text: str) -> str:
    return re.sub(r"\s+", " ", _MARKER.sub(" ", text)).strip()


def find_markers(text: str) -> list[str]:
    return [f"[{m}]" for m in _MARKER.findall(text)]


@dataclass
class VerifiedSentence:
    text: str
    citations: list[Citation]


@dataclass
class VerificationResult:
    sentences: list[VerifiedSentence]
    record: Verification


def verify_draft(draft: Draft, book: MarkerBook, chunks: dict[str, Chunk], judge: SupportJudge) -> VerificationResult:
    """Keep the sentences whose markers resolve and whose cited passages support them."""
    kept: list[VerifiedSentence] = []
    details: list[dict] = []
    removed = 0
    for sentence in draft.sentences:
        if sentence.verbatim and sentence.refs:
            # Quotes are exact by construction; the check is that the span is really there.
            cites = []
            for chunk_id, index in sentence.refs:
                if chunk_id in chunks and index < len(chunks[chunk_id].sentences):
                    cites.append(book.cite_sentence(chunk_id, index))
            if cites and all(c.quote in c.chunk_text for c in cites):
                kept.append(VerifiedSentence(sentence.text, cites))
            else:
                removed += 1
                details.append({"sentence": sentence.text, "removed": "quote not found"})
            continue
        claim = strip_markers(sentence.text)
        chunk_ids = [draft.labels[m] for m in sentence.markers if m in draft.labels]
        if not sentence.markers or not chunk_ids:
            removed += 1
            details.append({"sentence": sentence.text, "removed": "no valid marker"})
            continue
        citations = []
        reasons = []
        for chunk_id in dict.fromkeys(chunk_ids):
            chunk = chunks[chunk_id]
            best: tuple[float, int] | None = None
            for i, sent in enumerate(chunk.sentences):
                verdict = judge.judge(claim, sent.text)
                if verdict.supported and (best is None or verdict.score > best[0]):
                    best = (verdict.score, i)
                elif not verdict.supported:
                    reasons.extend(verdict.reasons[:1])
            if best is None:
                whole = judge.judge(claim, chunk.text)
                if whole.supported:
                    best = (
                        whole.score,
                        max(
                            range(len(chunk.sentences)),
                            key=lambda i: len(set(content_terms(claim)) & set(content_terms(chunk.sentences[i].text))),
                        ),
                    )
                else:
                    reasons.extend(whole.reasons[:1])
            if best is not None:
                citations.append(book.cite_sentence(chunk_id, best[1]))
        if citations:
            kept.append(VerifiedSentence(claim, citations))
        else:
            removed += 1
            details.append({"sentence": claim, "removed": "; ".join(dict.fromkeys(reasons)) or "not supported"})
    record = Verification(sentences=len(draft.sentences), supported=len(kept), removed=removed, details=details)
    return VerificationResult(kept, record)
