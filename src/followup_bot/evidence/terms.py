"""What a question is about, in the corpus's own terms: weighted key terms, and word similarity.

A question's key terms are its content words, stemmed and weighted by how informative they are
in this corpus (idf), so "rash" counts for more than the word every document shares. A follow-up
borrows the terms of the conversation at a reduced weight. Word vectors let coverage accept a
close synonym ("lessen" for "reduce", "mice" for "rats").
"""

from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable

import numpy as np

from followup_bot.lexicon.records import BY_NUMBER
from followup_bot.models import Chunk, DocumentRecord
from followup_bot.settings import EvidenceSettings
from followup_bot.text import content_terms, english_frequency, expand_abbreviations, key_words, stem

# "Mathew et al. 2010: a randomized trial…": a short label before a colon opening a passage.
_LEAD_LABEL = re.compile(r"^\s*([^:;\n]{2,40}?):\s")
# Prefixes that leave a word's topic unchanged ("reassess" is about assessing); negating ones
# ("un-", "non-", "dis-") are left out on purpose.
_NEUTRAL_PREFIXES = ("re", "co", "pre", "post", "sub", "over", "under", "inter", "intra", "multi", "semi")


class TermWeights:
    """Inverse document frequency of stemmed terms over the live chunks."""

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        df: Counter[str] = Counter()
        n = 0
        for chunk in chunks:
            n += 1
            df.update(set(content_terms(chunk.text)) | set(content_terms(" ".join(chunk.heading_path))))
        self.n = max(1, n)
        self.df = df
        self.unseen = math.log(1 + self.n) + 1.0

    def idf(self, term: str) -> float:
        d = self.df.get(term, 0)
        if d == 0:
            return self.unseen
        return math.log(1 + (self.n - d + 0.5) / (d + 0.5))

    def known(self, term: str) -> bool:
        return term in self.df


# Longer "words" are junk (no word of any language is this long): they get no vector and no synonym.
MAX_WORD_CHARS = 40


class WordVectors:
    """Embeddings of single words, so coverage can accept "lessen" for "reduce", "mice" for "rats".

    The corpus vocabulary is embedded once at start-up (about a second for ~800 words); words
    from questions are embedded on demand and cached.
    """

    def __init__(
        self,
        encode: Callable[[list[str]], np.ndarray],
        vocabulary: set[str],
        known: dict[str, np.ndarray] | None = None,
        max_asked: int = 20_000,
    ) -> None:
        self.encode = encode
        # Vectors the store already holds: the vocabulary then needs no embedding at start-up.
        self.cache: dict[str, np.ndarray] = dict(known or {})
        self._base = sorted(vocabulary)
        self._matrix: np.ndarray | None = None
        self._vocab: list[str] = []
        self._asked: OrderedDict[str, np.ndarray] = OrderedDict()
        self.max_asked = max_asked
        self._ready = False
        self.add(self._base)
        self._ready = True
        self._vocab = list(self._base)

    def add(self, items: list[str]) -> None:
        """Embed the words not yet known, in one batch.

        Words from questions are kept in a bounded cache (oldest dropped first), so a stream of
        made-up words cannot grow memory; the corpus's own words are kept for good."""
        new = [
            w
            for w in dict.fromkeys(items)
            if w not in self.cache and w not in self._asked and (len(w) <= MAX_WORD_CHARS or not self._ready)
        ]
        if new:
            target = self._asked if self._ready else self.cache
            for word, vec in zip(new, self.encode(new), strict=True):
                target[word] = vec
            while len(self._asked) > self.max_asked:
                self._asked.popitem(last=False)

    def vector(self, word: str) -> np.ndarray:
        if word in self.cache:
            return self.cache[word]
        vec = self._asked.get(word)
        if vec is None:  # dropped by another request's words in between
            vec = self.encode([word])[0]
            self._asked[word] = vec
        return vec

    def best(self, word: str, candidates: set[str]) -> float:
        if len(word) > MAX_WORD_CHARS:
            return 0.0
        self.add([word, *candidates])
        candidates = {c for c in candidates if c in self.cache or c in self._asked}
        if not candidates:
            return 0.0
        v = self.vector(word)
        return max(float(v @ self.vector(c)) for c in candidates)

    def best_in_vocabulary(self, word: str) -> float:
        """Closest corpus word to `word` (1.0 when the corpus uses the word itself)."""
        if len(word) > MAX_WORD_CHARS:
            return 0.0
        if self._matrix is None:
            self._matrix = np.stack([self.cache[w] for w in self._vocab]) if self._vocab else np.zeros((0, 1))
        self.add([word])
        if not len(self._vocab):
            return 0.0
        return float(np.max(self._matrix @ self.vector(word)))


class KeyTerms:
    """Turns a question (and, for a follow-up, its topic) into weighted key terms of the corpus."""

    def __init__(self, weights: TermWeights, records: dict[str, DocumentRecord], settings: EvidenceSettings) -> None:
        self.weights = weights
        self.records = records
        self.settings = settings

    def is_specific(self, term: str) -> bool:
        """A word that says what the question adds to the corpus's topic ("rash", not the drug every chunk names).

        Judged by the word's own idf, not its weight in a question: a follow-up's borrowed topic
        words are weighted down but are no less specific."""
        return self.weights.idf(term) >= self.settings.specific_idf_share * self.weights.unseen

    def term(self, word: str) -> str:
        """The word's stem; for "reassessed" or "coexisting", the corpus's "assess" or "exist"."""
        t = stem(word)
        if self.weights.known(t):
            return t
        for prefix in _NEUTRAL_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 4:
                rest = word[len(prefix) :].lstrip("-")
                base = stem(rest)
                # A common prefixed word is a word of its own ("reaction" is not about "action");
                # a rare one is built on the spot ("reassessed", "coexisting") and keeps its base's sense.
                if self.weights.known(base) and english_frequency(word) < self.settings.lexicalised_zipf:
                    return base
        return t

    def of(self, message: str, topic: str = "", surface: dict[str, str] | None = None) -> dict[str, float]:
        """Stemmed key terms with their weight (idf); a follow-up borrows its topic's terms.

        `surface` collects stem → the word as the reader wrote it, for messages ("never mention: sedate").
        """
        surface = {} if surface is None else surface
        s = self.settings
        terms: dict[str, float] = {}
        message = BY_NUMBER.sub(" ", message)  # "reference 12" names a publication; it is not a subject
        message = expand_abbreviations(message, keep=lambda w: self.weights.known(stem(w.lower())))
        for w in key_words(message):
            t = self.term(w)
            if t not in terms and len(terms) >= s.max_question_terms:
                break  # a message longer than any question costs no more than one
            surface.setdefault(t, w)
            terms[t] = self.weights.idf(t)
        if topic:
            borrowed: dict[str, float] = {}
            for w in key_words(topic):
                t = self.term(w)
                if len(borrowed) >= s.max_question_terms:
                    break
                if t not in terms and t not in borrowed:
                    surface.setdefault(t, w)
                    borrowed[t] = self.weights.idf(t)
            # The new message dominates: the topic's words together weigh at most a share of the
            # message's ("what about the volunteers?" is about volunteers, in the topic's context).
            own = sum(terms.values())
            total = sum(borrowed.values()) or 1.0
            cap = s.topic_cap_single if len(terms) <= 1 else s.topic_cap
            scale = min(cap, s.topic_share * own / total) if own else cap
            terms.update({t: w * scale for t, w in borrowed.items()})
        return terms

    def context(self, chunk: Chunk) -> set[str]:
        """Words every sentence of the passage is about: its headings, its publication, and the
        label a list item opens with ("Mathew et al. 2010: …" covers the item's later sentences)."""
        record = self.records.get(chunk.source_id)
        extra = " ".join(chunk.heading_path)
        if record is not None and record.kind != "article":
            extra += " " + record.short_name()
        label = _LEAD_LABEL.match(chunk.text)
        if label:
            extra += " " + label.group(1)
        return set(content_terms(extra))
