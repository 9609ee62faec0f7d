"""Bibliographic cues: a question about a publication's record (journal, authors, year) rather than its findings."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Fields only a publication's record has: a short message naming one ("What volume and pages?")
# asks for the record of the publication under discussion.
RECORD_FIELDS = re.compile(
    r"\b(?:journal|volume|pages|doi|pmid|published|publication|authors?|wrote|written|title|issue)\b", re.I
)
# Questions about a publication's record (journal, authors, year) rather than its findings.
BIBLIOGRAPHIC = re.compile(
    r"\b(journal|publish\w*|publication|"
    # "who are the authors?" asks for the record; "what limitations do the authors acknowledge?" asks about
    # the content, so "author" counts only in phrasings that ask who the authors are.
    r"who (?:are|were|is|was) the (?:\w+ )?authors?|"
    # "(tell me / and) the authors of X?", but not "the authors of X recommend what?"
    r"(?:^\W*(?:and\s+)?|\b(?:me|give|tell|list|name|show)\s+)(?:the\s+)?authors? of\b"
    r"(?![^?]*\b(?:say|said|says|find|found|recommend\w*|conclude\w*|report\w*|suggest\w*|acknowledge\w*|"
    r"argue\w*|propose\w*|think|believe)\b)|authors? (?:list|names?)|(?:first|last|lead|senior|"
    r"corresponding) authors?|which authors?|(?:name|list) the authors?|authorship|"
    r"wrote|written|writer|year|when was|doi|pmid|pubmed id|cite|citation|"
    r"reference|title|identif\w*|study type|kind of study|type of study|evidence level|level of evidence|confiden\w*|"
    r"who (?:did|ran|conducted|led)|where (?:was|did) it (?:appear|come out)|venue|volume|pages|url|link|"
    r"which (?:paper|publication|source|reference|article|study)s? (?:reported|found|said|says?|showed|described|was|"
    r"is|did|do they cite|did they cite|cites?|supports?)|where (?:does|did) (?:that|this) come from|source for (?:that|"
    r"this))\b",
    re.I,
)
# The examples BIBLIOGRAPHIC is tested on: questions for the record, and questions about content that
# merely mention the authors or the study.
BIBLIOGRAPHIC_ASKED_BY = (
    "Who are the authors of the rat study?",
    "authors of the review?",
    "Tell me the authors of the rat study",
    "And the authors of the rat study?",
    "Which journal published it?",
    "Who wrote reference 12?",
    "What year was it published?",
)
BIBLIOGRAPHIC_NOT_ASKED_BY = (
    "What did the authors of the rat study say should be done next?",
    "What limitations do the authors acknowledge?",
    "The authors of the review recommend what?",
    "What did the trial find?",
    "How many patients were randomised?",
)
# "reference 12", "ref. 12", "citation #3", "[12]": a cited work named by its number in the article.
# The words address a publication; they are not a subject the evidence must contain.
BY_NUMBER = re.compile(
    r"\b(?:references?|refs?\.?|citations?|cited (?:work|paper|study)|sources?)\s*(?:no\.?|number|#)?\s*(\d{1,3})\b|"
    r"\[(\d{1,3})\]",
    re.I,
)


@dataclass(frozen=True)
class RecordField:
    """One field of a bibliographic record: how a question asks for it, and the record sentence that gives it
    (corpus/chunking.py renders those sentences), with examples of questions that ask and that do not."""

    name: str
    asked: re.Pattern[str]
    sentence: re.Pattern[str]
    asked_by: tuple[str, ...]
    not_asked_by: tuple[str, ...]


def _field(
    name: str, asked: str, sentence: str, asked_by: tuple[str, ...], not_asked_by: tuple[str, ...]
) -> RecordField:
    return RecordField(name, re.compile(asked, re.I), re.compile(sentence, re.I), asked_by, not_asked_by)


# The record sentence that answers a bibliographic question goes first ("doi for lee et al?" leads with
# the identifier, not the study type).
RECORD_FIELD_ROWS: tuple[RecordField, ...] = (
    _field(
        "identifier",
        r"\b(?:doi|pmid|pubmed(?: id)?|identifier|url|web ?link)\b",
        r"\bis identified by\b",
        ("doi for lee et al's rat study pls", "What's the PubMed ID of the review?"),
        ("Which journal published it?", "Who wrote the review?"),
    ),
    _field(
        "authors",
        r"\bwho (?:else )?(?:wrote|authored)\b|\bwho (?:are|were|is|was) (?:the )?(?:\w+ )?authors?\b|\bwritten by\b|"
        r"\b(?:list|name)s? (?:of )?the (?:co-?)?authors?\b|\bauthors? list\b|"
        r"\b(?:first|last|lead|senior|corresponding) authors?\b|\bco-?authors?\b|\bwrote (?:it|this|that|the)\b",
        r"^The authors of\b",
        ("Who else wrote it besides her?", "Who are the authors of the trial?"),
        ("Which journal published it?", "What next step did the authors of the rodent paper recommend?"),
    ),
    _field(
        "journal",
        r"\bjournal\b|\bwhere (?:was|did|is) (?:it|this|that|the \w+(?: \w+)?) (?:published|appear\w*|come out)\b|"
        r"\bpublished (?:in|where)\b|\bvenue\b|\bwhat year\b|\bwhen was (?:it|this|that|the \w+(?: \w+)?) published\b|"
        r"\btitle\b",
        r"\bwas published\b",
        ("Which journal carried the review?", "where was it published?", "What is the title of the paper?"),
        ("Who wrote it?", "What's the DOI?"),
    ),
    _field(
        "locator",
        r"\bvolume\b|\bpages?\b|\bissue\b",
        r"\bappeared in\b",
        ("What volume and pages?", "Which issue was it in?"),
        ("Who wrote it?", "Which journal?"),
    ),
    _field(
        "study_type",
        r"\b(?:study type|(?:kind|type|sort) of (?:study|publication|paper|piece|evidence)|evidence level|"
        r"level of evidence)\b",
        r"^Study type of\b",
        ("What kind of publication is the Adnan 2021 piece?", "What level of evidence is it?"),
        ("Which journal?", "Who wrote it?"),
    ),
    _field(
        "confidence",
        r"\b(?:confiden\w*|how (?:sure|certain)|certain is it|really (?:is|the)|the right (?:paper|match))\b",
        r"^Confidence that\b",
        ("How certain is it that the abstract really is the third reference?", "How confident is the match?"),
        ("Which journal?", "What did the study find?"),
    ),
)


def asked_fields(question: str) -> list[RecordField]:
    """The record fields a question asks for, in table order."""
    return [f for f in RECORD_FIELD_ROWS if f.asked.search(question)]
