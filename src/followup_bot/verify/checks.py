"""The strict checks of a claim against a passage: what makes a medical claim wrong while it still looks right.

Each check is a pure function that returns `Reason`s. A reason is `strict` when it is a fact
mismatch (another number, a dropped "not", another drug, population or publication, a dose in
another role, a stronger modality): such a claim is unsupported whatever any similarity says, and
the LLM judge may never overrule it. Non-strict reasons only say "not similar enough".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from followup_bot.lexicon.drugs import drug_names
from followup_bot.lexicon.negation import NEGATIONS, NEGATIVE_WORDS
from followup_bot.lexicon.populations import GENERIC_POPULATION, POPULATION
from followup_bot.lexicon.questions import STOPWORDS
from followup_bot.text import content_terms, numbers, words


@dataclass(frozen=True)
class Reason:
    """Why a claim is not supported: a stable `code`, whether it is a `strict` veto, and the detail."""

    code: str
    detail: str
    strict: bool = True

    def __str__(self) -> str:
        return self.detail


# Words that make a claim absolute or definite; a passage that does not use them cannot support them.
_ABSOLUTE = frozenset(
    "will cure cures cured curing prove proves proved proven always every must guarantee guarantees guaranteed definitely "
    "certainly safe safely completely eliminate eliminates first-line".split()
)
_PUBLICATION_NOUNS = r"(?:study|trial|review|paper|report|case report|search|group|series|team|abstract)"
_SOURCE_REF = re.compile(
    r"\b([A-Z][a-z]{2,})(?=\s+et\s+al\b|\s+and\s+colleagues\b)"
    rf"|\b[Tt]he\s+([A-Z][a-z]{{2,}})(?=(?:['’]s)?\s+{_PUBLICATION_NOUNS}\b)"
    rf"|\b([A-Z][a-z]{{2,}})(?=['’]s\s+{_PUBLICATION_NOUNS}\b)"
)
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,}[A-Z0-9]s?\b")
_CAPITALISED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-z]{3,}\b")
# Where a passage sentence turns ("did not change X, but it did reduce Y"); polarity is compared per part.
PASSAGE_TURNS = re.compile(r",\s*(?:but|whereas|while|although|though|yet)\s+|;\s+|\s+but\s+", re.IGNORECASE)
_PARENTHESES = re.compile(r"\([^()]*\)")
_SCOPE_SKIP = frozenset("yet still even also ever always necessarily significantly".split())

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


def dose_role_mismatch(claim: str, passage: str) -> list[Reason]:
    """A dose whose role (maximum, daily, recommended, starting…) the passage does not give it."""
    if not _DOSE.search(claim):
        return []
    claim_words, passage_words = set(words(claim)), set(words(passage))
    missing = [role for role, forms in _DOSE_ROLES.items() if claim_words & forms and not passage_words & forms]
    if not missing:
        return []
    return [Reason("dose_role", f"dose stated as {', '.join(missing)}, which the passage does not say")]


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 4 else word


def source_references(text: str) -> set[str]:
    """Names used to refer to a publication ("Mathew et al.", "the Abdallah study"), lower-case."""
    found = {name.lower() for groups in _SOURCE_REF.findall(text) for name in groups if name}
    return {n for n in found if n not in STOPWORDS}


def _is_negative(word: str) -> bool:
    return word in NEGATIONS or word.endswith("n't") or word in NEGATIVE_WORDS


def negated(text: str) -> bool:
    """Whether a clause is negative, ignoring asides in parentheses ("(not as a drug of abuse)")."""
    return any(_is_negative(w) for w in words(_PARENTHESES.sub(" ", text)))


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


def numbers_check(claim: str, passage: str) -> list[Reason]:
    """Every number of the claim is in the passage, attached to the same thing."""
    missing = numbers(claim) - numbers(passage)
    if missing:
        return [Reason("numbers", f"numbers not in passage: {sorted(missing)}")]
    passage_bound = _numbers_bound(passage)
    for num, term in _first_bound_term(claim).items():
        here = passage_bound.get(num, set())
        elsewhere = {n for n, terms in passage_bound.items() if n != num and term in terms}
        if term not in here and elsewhere:
            detail = f"number {num} is attached to '{term}', which the passage gives as {sorted(elsewhere)}"
            return [Reason("number_binding", detail)]
    return []


def negation_scopes(text: str, near: int = 3) -> tuple[set[str], set[str], set[str]]:
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
            if _is_negative(w):
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


def polarity_conflicts(claim: str, passage: str) -> set[str]:
    """Terms the claim asserts that the passage only ever denies, and the reverse.

    "The drug reduced the side effects" against "The drug did not reduce the side
    effects": the word after the passage's "not" is asserted by the claim, and the passage
    never asserts it. The claim's scope is generous and the passage's strict, so a paraphrase
    that moves the negation ("no specific established protocol") is not flagged.
    """
    c_neg_first, c_neg_near, c_plain = negation_scopes(claim)
    p_neg_first, p_neg_near, p_plain = negation_scopes(passage)
    asserted_denied = (c_plain - c_neg_near) & p_neg_first - p_plain
    denied_asserted = c_neg_first & (p_plain - p_neg_near) - c_plain
    return asserted_denied | denied_asserted


def names_check(claim: str, passage: str, pterms: set[str]) -> list[Reason]:
    """Drugs, publications, proper names, acronyms, populations and absolute words the passage lacks."""
    reasons = []
    claim_words = words(claim)
    passage_word_list = words(passage)
    passage_words = set(passage_word_list) | pterms
    cdrugs, pdrugs = drug_names(claim), drug_names(passage)
    missing_drugs, other_drugs = cdrugs - pdrugs, pdrugs - cdrugs
    # A drug the passage never names is fine when the passage names no drug of its own
    # (an article bullet about one drug need not repeat its name); not when it names another.
    if missing_drugs and other_drugs:
        detail = f"drug not in passage: {sorted(missing_drugs)} (passage: {sorted(other_drugs)})"
        reasons.append(Reason("drug", detail))
    crefs, prefs = source_references(claim), source_references(passage)
    missing_refs = {r for r in crefs - prefs if r not in passage_words}
    if missing_refs and prefs - crefs:
        reasons.append(Reason("publication", f"publication name not in passage: {sorted(missing_refs)}"))
    skip = crefs | cdrugs
    names = {
        w for w in _CAPITALISED.findall(claim) if w.lower() not in passage_words and _singular(w.lower()) not in skip
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
        reasons.append(Reason("names", f"names not in passage: {sorted(names | acronyms)}"))
    pops = {w for w in claim_words if w in POPULATION and w not in passage_words and content_terms(w)[0] not in pterms}
    # "Patients" is how any clinical claim is phrased; it is only wrong when the passage is
    # about someone else (volunteers, rats). A species or a named group must always match.
    if pops <= GENERIC_POPULATION and not ({w for w in passage_word_list if w in POPULATION} - set(claim_words)):
        pops = set()
    if pops:
        reasons.append(Reason("population", f"population not in passage: {sorted(pops)}"))
    absolute = {w for w in claim_words if w in _ABSOLUTE and w not in passage_words}
    if absolute:
        reasons.append(Reason("absolute", f"stronger than the passage: {sorted(absolute)}"))
    return reasons
