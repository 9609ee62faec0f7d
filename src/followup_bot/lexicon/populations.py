"""Who a claim is about: species and groups that a supporting passage must match."""

from __future__ import annotations

import re

POPULATION = frozenset(
    "rat rats mouse mice animal animals primate primates monkey monkeys human humans patient patients volunteer volunteers "
    "healthy child children infant infants adult adults women men woman man male males female females boys girls "
    "pregnant elderly adolescent adolescents schizophrenia bipolar depression epilepsy".split()
)
# "Patients" is how any clinical claim is phrased; it only matters against a passage about someone else.
GENERIC_POPULATION = frozenset({"patient", "patients"})

# Words that name the same population in a question and in a passage ("and in adults?" is answered by a
# passage about "people", "patients" or "volunteers"). Each row is one population; a word may sit in one row.
POPULATION_GROUPS: tuple[frozenset[str], ...] = (
    frozenset(
        "adult adults people person persons human humans patient patients participant participants volunteer "
        "volunteers subject subjects individual individuals men women man woman".split()
    ),
    frozenset(
        "child children kid kids pediatric paediatric infant infants toddler toddlers adolescent adolescents "
        "teen teens teenager teenagers youth youths minor minors boy boys girl girls".split()
    ),
    frozenset("elderly older aged geriatric seniors senior".split()),
    frozenset("pregnant pregnancy expectant".split()),
    frozenset("animal animals rodent rodents rat rats mouse mice murine preclinical".split()),
)


def same_population(word: str) -> frozenset[str]:
    """The words naming the same population as `word` (empty when it names none)."""
    w = word.lower()
    return next((group for group in POPULATION_GROUPS if w in group), frozenset())


# Question words that ask who was studied ("which species did they use?", "what population?"): any word
# that names a population answers them, though the passage never says "species".
ASKS_WHO_WAS_STUDIED = frozenset(
    "species strain strains population populations sample cohort organism organisms".split()
)
ALL_POPULATION_WORDS = (POPULATION | frozenset().union(*POPULATION_GROUPS)) - GENERIC_POPULATION
_WORD = re.compile(r"[a-z]+")


def names_a_population(text: str) -> bool:
    """Whether a sentence names who was studied ("Male Sprague-Dawley rats…"), so it answers "which species?"."""
    return any(w in ALL_POPULATION_WORDS for w in _WORD.findall(text.lower()))
