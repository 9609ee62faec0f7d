"""Small text utilities shared by retrieval, the composer and the support judge.

Deliberately simple and language-generic: lowercase word tokens, a stopword list, and a light
suffix stemmer, so that "rats"/"rat" and "reduced"/"reduces" meet without a linguistics stack.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import snowballstemmer

from followup_bot.lexicon.negation import NEGATIONS
from followup_bot.lexicon.questions import GENERIC, QUESTION_WORDS, STOPWORDS

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_NUMBER_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "sixteen": "16",
    "seventeen": "17",
    "twenty": "20",
    "single": "1",
    "once": "1",
    "twice": "2",
}


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text).lower())


_STEMMER = snowballstemmer.stemmer("english")
_BRITISH = re.compile(r"(?<=[a-z]{3})is(e|ed|es|ing|ation|ations)$")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem, with British -ise spellings folded into -ize first."""
    w = word.replace("'s", "").strip("'")
    if not w or w[0].isdigit():
        return w
    w = _BRITISH.sub(lambda m: "iz" + m.group(1), w)
    return _STEMMER.stemWord(w)


def content_terms(text: str) -> list[str]:
    """Stemmed content words, in order, without stopwords or question words."""
    out = []
    for w in words(text):
        for part in w.split("-") if "-" in w and not w[0].isdigit() else [w]:
            if part in STOPWORDS or part in QUESTION_WORDS or len(part) < 2:
                continue
            out.append(stem(part))
    return out


def numbers(text: str) -> set[str]:
    """Numbers a claim states, with number words mapped to digits ("two" → "2")."""
    t = normalize(text).lower()
    found = set(re.findall(r"\d+(?:\.\d+)?", t))
    for w in words(t):
        if w in _NUMBER_WORDS:
            found.add(_NUMBER_WORDS[w])
    return found


def has_negation(text: str) -> bool:
    return any(w in NEGATIONS or w.endswith("n't") for w in words(text))


def bounded_words(text: str, limit: int) -> str:
    """The text, or for one longer than `limit` words its first and last halves joined by " … ".

    A question is a few dozen words; a message of thousands is not a question, and reading all of
    it would make its cost grow with its length. Where the words go (the retrieval query, the
    evidence's key terms) the opening and the closing line are what carry a question.
    """
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    if len(spans) <= limit:
        return text
    head, tail = limit - limit // 2, limit // 2
    return (
        text[: spans[head - 1][1]] + " … " + text[spans[len(spans) - tail][0] :] if tail else text[: spans[head - 1][1]]
    )


def key_words(text: str) -> list[str]:
    """Surface content words of a question, without stopwords and generic question scaffolding."""
    out: list[str] = []
    seen: set[str] = set()
    for w in words(text):
        for part in w.split("-") if "-" in w and not w[0].isdigit() else [w]:
            if part in STOPWORDS or part in QUESTION_WORDS or part in GENERIC or len(part) < 2:
                continue
            if part not in seen:
                seen.add(part)
                out.append(part)
    return out


# Common clinical abbreviations, expanded so "RCTs" meets "randomized controlled trials".
ABBREVIATIONS = {
    "rct": "randomized controlled trial",
    "rcts": "randomized controlled trials",
    "fda": "food and drug administration",
    "sjs": "stevens-johnson syndrome",
    "ssri": "selective serotonin reuptake inhibitor",
    "maoi": "monoamine oxidase inhibitor",
    "maois": "monoamine oxidase inhibitors",
    "iv": "intravenous",
    "po": "by mouth",
    "otc": "over the counter",
    "bd": "bipolar disorder",
    "mdd": "major depressive disorder",
    "trd": "treatment-resistant depression",
    "sud": "substance use disorder",
    "aud": "alcohol use disorder",
}


def expand_abbreviations(text: str, keep: Callable[[str], bool] | None = None) -> str:
    """Spell out known abbreviations; two-letter ones only when written in capitals.

    `keep(word)` leaves an abbreviation the corpus itself uses: "FDA" then meets "FDA approval"
    instead of turning into "food … administration" and meeting sentences about rat food.
    """

    def repl(match: re.Match[str]) -> str:
        word = match.group(1)
        full = ABBREVIATIONS.get(word.lower())
        if full is None or (len(word) < 3 and not word.isupper()) or (keep is not None and keep(word)):
            return word
        return full

    return re.sub(r"\b([A-Za-z]{2,5})\b", repl, text)


@lru_cache(maxsize=65536)
def english_frequency(word: str) -> float:
    """Zipf frequency of a word in general English (wordfreq's bundled tables; 0 if unknown).

    A word missing from the corpus matters more the rarer it is in English: "sertraline" names
    something the documents never discuss, while "team" or "class" is only phrasing.
    """
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # pragma: no cover - dependency missing: treat every unseen word as rare
        return 0.0
    return float(zipf_frequency(word, "en"))


def _deletions(word: str) -> set[str]:
    """Every string one deleted letter away from `word`."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _within_one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours turns `a` into `b`."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1 :]


class SpellingCorrector:
    """Mend one-letter typos against the corpus's own words ("tretment", "lamotrigene").

    Clipped forms that begin exactly one corpus word family ("ket") are spelled out too.

    A misspelt word would otherwise look like a rare term the documents never use, and the
    question would be refused. Only words that are neither in the corpus nor common English are
    touched, only at one edit, and only when exactly one corpus word is that close, so a real
    word or a different drug ("esomeprazole" beside "omeprazole") is never rewritten into a corpus word.

    Lookups cost the same whatever the vocabulary's size (a symmetric-deletion index, as SymSpell
    does: two words one edit apart share a one-letter deletion), so a message of thousands of
    made-up words is corrected in time linear in its length.
    """

    # A clipped form standing for more corpus words than this is not one word family.
    MAX_CLIPPED_FAMILY = 64

    def __init__(self, vocabulary: set[str], min_length: int = 5, max_zipf: float = 2.5) -> None:
        self.vocabulary = {w for w in vocabulary if w.isalpha()}
        self.min_length = min_length
        self.max_zipf = max_zipf
        self._sorted = sorted(self.vocabulary)
        self._longest = max(map(len, self._sorted), default=0)
        self._deletions: dict[str, list[str]] = {}
        for w in self._sorted:
            if len(w) >= min_length - 1:
                for key in {w, *_deletions(w)}:
                    self._deletions.setdefault(key, []).append(w)
        self.suggest = lru_cache(maxsize=8192)(self._suggest)

    def _suggest(self, word: str) -> str | None:
        """The corpus word `word` is a typo or a clipping of, when there is exactly one."""
        lw = word.lower()
        if not lw.isalpha() or lw in self.vocabulary or len(lw) > self._longest + 1:
            return None
        if english_frequency(lw) >= self.max_zipf + 0.5:
            return None
        if 3 <= len(lw) < self.min_length:
            # A clipped form ("parac" for paracetamol) stands for the one corpus word family it begins.
            lo = bisect.bisect_left(self._sorted, lw)
            hi = bisect.bisect_left(self._sorted, lw + "{", lo)  # "{" sorts after every letter
            if hi - lo > self.MAX_CLIPPED_FAMILY:
                return None
            longer = [w for w in self._sorted[lo:hi] if len(w) >= len(lw) + 3]
            return min(longer, key=len) if longer and len({stem(w) for w in longer}) == 1 else None
        if len(lw) < self.min_length or len(lw) > self._longest + 1 or english_frequency(lw) >= self.max_zipf:
            return None
        near = {c for key in {lw, *_deletions(lw)} for c in self._deletions.get(key, ()) if _within_one_edit(lw, c)}
        return near.pop() if len(near) == 1 else None

    def correct(self, text: str) -> str:
        def repl(match: re.Match[str]) -> str:
            word = match.group(0)
            fix = self.suggest(word)
            if fix is None:
                return word
            return fix.capitalize() if word[0].isupper() else fix

        # Words with an apostrophe ("shouldn't", "Lee's") are left alone: their parts are not typos.
        return re.sub(r"[A-Za-z]+(?:'[A-Za-z]+)*", lambda m: m.group(0) if "'" in m.group(0) else repl(m), text)
