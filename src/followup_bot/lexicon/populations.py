"""Who a claim is about: species and groups that a supporting passage must match."""

from __future__ import annotations

POPULATION = frozenset(
    "rat rats mouse mice animal animals primate primates monkey monkeys human humans patient patients volunteer volunteers "
    "healthy child children infant infants adult adults women men woman man male males female females boys girls "
    "pregnant elderly adolescent adolescents schizophrenia bipolar depression epilepsy".split()
)
# "Patients" is how any clinical claim is phrased; it only matters against a passage about someone else.
GENERIC_POPULATION = frozenset({"patient", "patients"})
