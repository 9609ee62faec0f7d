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
# passage about "people" or "volunteers"). Only true synonyms share a row: "patients", "subjects", "men" and
# "women" name narrower or different groups, and rats are not mice. A broad word ("animals", "rodents")
# sits in the rows of the species it covers, so a question about animals is answered by a rat study, but
# a question about rats is not answered by a mouse study.
POPULATION_GROUPS: tuple[frozenset[str], ...] = (
    frozenset("adult adults people person persons human humans participant participants volunteer volunteers".split()),
    frozenset("child children kid kids pediatric paediatric".split()),
    frozenset("adolescent adolescents teen teens teenager teenagers".split()),
    frozenset("infant infants baby babies newborn newborns neonate neonates neonatal".split()),
    frozenset("elderly geriatric seniors".split()),
    frozenset("pregnant pregnancy expectant".split()),
    frozenset("rat rats animal animals rodent rodents".split()),
    frozenset("mouse mice murine animal animals rodent rodents".split()),
    frozenset("monkey monkeys primate primates macaque macaques animal animals".split()),
)
# The examples the rows are tested on: pairs that name the same population, and pairs that do not.
SAME_POPULATION_EXAMPLES = (("adults", "people"), ("Adults", "volunteers"), ("children", "kids"), ("animals", "rats"))
OTHER_POPULATION_EXAMPLES = (("rats", "mice"), ("women", "men"), ("humans", "subjects"), ("adults", "patients"),
                             ("older", "aged"), ("rats", "adults"))  # fmt: skip


def same_population(word: str) -> frozenset[str]:
    """The words naming the same population as `word` (empty when it names none)."""
    w = word.lower()
    return frozenset().union(*(group for group in POPULATION_GROUPS if w in group))


# Question words that ask who was studied ("which species did they use?", "what population?"): a sentence
# naming a species or a population answers them, though the passage never says "species".
ASKS_WHO_WAS_STUDIED = frozenset("species strain strains population populations cohort organism organisms".split())
# Nouns that name who was studied (not adjectives such as "older" or "minor", not diseases).
WHO_NOUNS = frozenset().union(*POPULATION_GROUPS) | frozenset(
    "patient patients men women man woman male males female females boys girls subjects".split()
)
_WORD = re.compile(r"[a-z]+")


def names_a_population(text: str) -> bool:
    """Whether a sentence names who was studied ("Male Sprague-Dawley rats…"), so it answers "which species?"."""
    return any(w in WHO_NOUNS for w in _WORD.findall(text.lower()))
