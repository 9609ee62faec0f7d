"""Bibliographic cues: a question about a publication's record (journal, authors, year) rather than its findings."""

from __future__ import annotations

import re

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
    r"who (?:are|were|is|was) the (?:\w+ )?authors?|authors? (?:of|list|names?)|(?:first|last|lead|senior|"
    r"corresponding) authors?|which authors?|(?:name|list) the authors?|authorship|"
    r"wrote|written|writer|year|when was|doi|pmid|pubmed id|cite|citation|"
    r"reference|title|identif\w*|study type|kind of study|type of study|evidence level|level of evidence|confiden\w*|"
    r"who (?:did|ran|conducted|led)|where (?:was|did) it (?:appear|come out)|venue|volume|pages|url|link|"
    r"which (?:paper|publication|source|reference|article|study)s? (?:reported|found|said|says?|showed|described|was|"
    r"is|did|do they cite|did they cite|cites?|supports?)|where (?:does|did) (?:that|this) come from|source for (?:that|"
    r"this))\b",
    re.I,
)
# "reference 12", "ref. 12", "citation #3", "[12]": a cited work named by its number in the article.
# The words address a publication; they are not a subject the evidence must contain.
BY_NUMBER = re.compile(
    r"\b(?:references?|refs?\.?|citations?|cited (?:work|paper|study)|sources?)\s*(?:no\.?|number|#)?\s*(\d{1,3})\b|"
    r"\[(\d{1,3})\]",
    re.I,
)
