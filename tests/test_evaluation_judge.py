"""The heuristic support judge: each strict check on its own, and accuracy on pairs it was not tuned on.

The calibration file was used to design the judge's rules and pick its threshold, so its score
there is in-sample. The HELDOUT pairs below were written afterwards, from other sentences of the
corpus, and scored once; they estimate how the rules transfer to text the judge has not seen.
"""

from __future__ import annotations

import pytest

from followup_bot.evaluation import CalibrationPair, evaluate_judge
from followup_bot.lexicon.drugs import drug_names
from followup_bot.verify import HeuristicJudge, negated, source_references

REF1_METHODS = (
    "Male Sprague-Dawley rats learned to press a lever for intravenous ketamine (0.5 mg/kg per infusion) "
    "or, in a comparison group, for food pellets."
)
REF1_FOOD = (
    "Lamotrigine did not change the breakpoint for food, did not change cue-triggered reinstatement of food "
    "seeking, and did not change spontaneous locomotor activity, so the effect was specific to ketamine rather than a "
    "general loss of motivation or movement."
)
REF1_REINSTATE = (
    "Lamotrigine prevented reinstatement of ketamine seeking triggered by cues and by a ketamine priming injection."
)
RISPERIDONE = (
    "Risperidone: four papers, three of them neuroimaging studies showing that risperidone dampened "
    "ketamine-induced changes in brain blood flow."
)
OLANZAPINE = "Olanzapine: one paper found no effect on ketamine's acute psychotomimetic effects."
HALOPERIDOL = "Haloperidol: one paper found an interaction with ketamine and two did not."
VERAART_AIM = (
    "Ketamine for depression is often given on top of other psychiatric drugs, but good information on "
    "drug-drug interactions has been lacking. This systematic review searched MEDLINE and Web of Science for "
    "pharmacodynamic interactions between ketamine and mood stabilizers, benzodiazepines, monoamine oxidase inhibitors "
    "(MAOIs), antipsychotics and psychostimulants. Twenty-four studies were included."
)
PRISMA = (
    "PubMed and Web of Science were searched following the PRISMA 2020 method, and seventeen studies were included."
)
MATHEW = (
    "Mathew et al. 2010: a randomized, double-blind, placebo-controlled trial in 26 medication-free patients with "
    "treatment-resistant major depression. Patients took lamotrigine 300 mg or placebo by mouth 2 hours before a "
    "single intravenous ketamine infusion (0.5 mg/kg over 40 minutes). Lamotrigine did not reduce ketamine's side "
    "effects and did not enhance its antidepressant effect."
)
ABDALLAH = (
    "Abdallah et al. 2017: a randomized, double-blind, placebo-controlled crossover study in 22 patients with "
    "treatment-resistant depression and 29 healthy controls. Lamotrigine 300 mg or placebo was given about 2 hours "
    "before a ketamine infusion."
)
VOLUNTEERS = (
    "In a randomized study of 16 healthy volunteers, lamotrigine significantly reduced ketamine-induced "
    "perceptual abnormalities, positive and negative psychotic-like symptoms, and impairment of learning and memory."
)
HELDOUT = [
    (
        "Lamotrigine is an anticonvulsant used for epilepsy and bipolar disorder.",
        "Lamotrigine is an anticonvulsant that is used for epilepsy and for bipolar disorder.",
        True,
    ),
    (
        "Motivation was measured as the breakpoint on a progressive-ratio schedule.",
        "Motivation was measured as the breakpoint on a progressive-ratio schedule, in which each reward costs more "
        "responses than the last.",
        True,
    ),
    ("Lamotrigine stopped cue- and ketamine-primed reinstatement of ketamine seeking.", REF1_REINSTATE, True),
    (
        "Risperidone dampened ketamine-induced changes in brain blood flow in three neuroimaging studies.",
        RISPERIDONE,
        True,
    ),
    ("One paper found that olanzapine had no effect on ketamine's acute psychotomimetic effects.", OLANZAPINE, True),
    ("Good information on drug-drug interactions with ketamine has been lacking.", VERAART_AIM, True),
    ("The review searched PubMed and Web of Science.", PRISMA, True),
    (
        "Craving intensity and how often ketamine is used should be assessed regularly.",
        "Assess ketamine craving intensity and frequency of use at regular intervals",
        True,
    ),
    (
        "Benzodiazepines, and probably lamotrigine, reduce the treatment outcome of ketamine.",
        "Benzodiazepines, and probably lamotrigine, reduce the treatment outcome of ketamine, which should be "
        "considered when planning ketamine treatment.",
        True,
    ),
    (
        "The clinical evidence is very limited, resting mainly on a single case report and theoretical reasoning.",
        "The clinical evidence base remains extremely limited, consisting primarily of this single case report and theoretical rationale",
        True,
    ),
    (
        "When ketamine was given with tranylcypromine, case reports found no relevant changes in vital signs.",
        "MAOI tranylcypromine: case reports found no relevant changes in vital signs when S-ketamine was given at the same time.",
        True,
    ),
    (
        "In another study, all the psychiatric rating-scale increases caused by ketamine were lower after lamotrigine pretreatment.",
        "In another study, all of the psychiatric rating-scale increases caused by ketamine were lower after lamotrigine pretreatment.",
        True,
    ),
    (
        "Lamotrigine appears to reduce ketamine's effects by interfering with glutamatergic neurotransmission.",
        "Lamotrigine seems to interfere with glutamatergic neurotransmission and so to reduce ketamine's effects.",
        True,
    ),
    ("The Wilkowska review included seventeen studies.", PRISMA, True),
    (
        "The depression study that found no added benefit gave only one ketamine infusion.",
        "In patients with depression, ketamine plus lamotrigine did not have a stronger antidepressant effect than "
        "ketamine alone; that study gave only a single ketamine infusion.",
        True,
    ),
    ("Risperidone was examined in five papers.", RISPERIDONE, False),
    ("The Mathew trial enrolled 36 patients with treatment-resistant major depression.", MATHEW, False),
    ("Lamotrigine changed the breakpoint for food.", REF1_FOOD, False),
    ("Olanzapine markedly changed ketamine's acute psychotomimetic effects.", OLANZAPINE, False),
    ("Good information on drug-drug interactions with ketamine is plentiful.", VERAART_AIM, False),
    ("Olanzapine dampened ketamine-induced changes in brain blood flow.", RISPERIDONE, False),
    ("Clozapine: one paper found an interaction with ketamine and two did not.", HALOPERIDOL, False),
    ("Male Sprague-Dawley mice learned to press a lever for intravenous ketamine.", REF1_METHODS, False),
    (
        "In a randomized study of 16 patients with schizophrenia, lamotrigine reduced ketamine-induced perceptual abnormalities.",
        VOLUNTEERS,
        False,
    ),
    (
        "Lamotrigine is an anticonvulsant used for epilepsy and bipolar disorder.",
        "Consider lamotrigine for treatment-seeking patients with ketamine use disorder who have failed behavioral interventions alone",
        False,
    ),
    ("Seventeen studies were included.", VERAART_AIM, False),
    (
        "Lamotrigine can cause weight gain.",
        "Monitor for lamotrigine-associated adverse effects, particularly rash (which can be serious)",
        False,
    ),
    (
        "Lamotrigine prevented reinstatement triggered by cues, and it also reduced ketamine withdrawal symptoms.",
        REF1_REINSTATE,
        False,
    ),
    (
        "Lamotrigine will prevent relapse in every patient with ketamine use disorder.",
        "Lamotrigine prevents both cue-induced and ketamine priming-induced reinstatement of drug-seeking behavior in "
        "animal models, suggesting potential efficacy in preventing relapse",
        False,
    ),
    (
        "Combining ketamine with lamotrigine is proven to be safe in bipolar depression.",
        "A case series described antidepressant and anti-suicidal effects of the combination in two patients with bipolar disorder.",
        False,
    ),
    (
        "Ketamine is broken down mainly by CYP3A4 and CYP2B6, and lamotrigine strongly inhibits both enzymes.",
        "Ketamine is broken down mainly by the liver enzymes CYP3A4 and CYP2B6.",
        False,
    ),
    ("Lamotrigine 300 mg was given about 4 hours before the ketamine infusion in the Abdallah study.", ABDALLAH, False),
    (
        "Benzodiazepines lengthen how long ketamine's antidepressant effect lasts.",
        "Benzodiazepines: several studies showed that they shorten how long ketamine's antidepressant effect lasts.",
        False,
    ),
]


def lexical() -> HeuristicJudge:
    return HeuristicJudge()


def test_a_sentence_copied_from_the_passage_is_supported_outright() -> None:
    verdict = lexical().judge(
        "Lamotrigine prevented reinstatement of ketamine seeking triggered by cues and by a ketamine priming injection [1].",
        REF1_REINSTATE,
    )
    assert verdict.supported and verdict.score == 1.0


def test_a_changed_number_is_vetoed_even_when_everything_else_matches() -> None:
    verdict = lexical().judge(
        "In a randomized study of 18 healthy volunteers, lamotrigine reduced perceptual abnormalities.", VOLUNTEERS
    )
    assert not verdict.supported and "numbers not in passage" in str(verdict.reasons[0])


def test_numbers_swapped_between_two_groups_are_caught_by_what_they_count() -> None:
    verdict = lexical().judge(
        "Abdallah et al. studied 29 patients with treatment-resistant depression and 22 healthy controls.", ABDALLAH
    )
    assert not verdict.supported and "attached to" in str(verdict.reasons[0])
    assert (
        lexical()
        .judge("The study included 22 patients with treatment-resistant depression and 29 healthy controls.", ABDALLAH)
        .supported
    )


def test_a_dropped_negation_is_vetoed_and_the_contrasting_half_of_a_sentence_is_judged_separately() -> None:
    passage = (
        "Lamotrigine did not significantly change the ketamine-induced rise in dissociation, "
        "but it did reduce the ketamine-induced surge in prefrontal brain connectivity."
    )
    assert (
        not lexical()
        .judge("Lamotrigine significantly changed the ketamine-induced rise in dissociation.", passage)
        .supported
    )
    assert (
        lexical()
        .judge("Lamotrigine reduced the ketamine-induced surge in prefrontal brain connectivity.", passage)
        .supported
    )
    assert not lexical().judge("In the Mathew trial, lamotrigine reduced ketamine's side effects.", MATHEW).supported


def test_negation_inside_parentheses_and_negative_words_are_read_correctly() -> None:
    assert not negated("If ketamine is used for depression (not as a drug of abuse), lamotrigine may attenuate it")
    assert negated("The long-term outcomes remain unknown") and negated("Locomotion was unchanged")
    assert lexical().judge("The effect was specific: general movement was unchanged.", REF1_FOOD).supported


def test_another_drug_is_vetoed_but_an_unnamed_subject_is_not() -> None:
    assert drug_names("Benzodiazepines and lithium, not haloperidol; the medicine line") == {
        "benzodiazepine",
        "lithium",
        "haloperidol",
    }
    assert (
        not lexical()
        .judge("Clozapine: one paper found an interaction with ketamine and two did not.", HALOPERIDOL)
        .supported
    )
    implicit = "No established dosing protocols exist specifically for ketamine use disorder"
    assert (
        lexical()
        .judge("No established dosing protocols exist for lamotrigine in ketamine use disorder.", implicit)
        .supported
    )


def test_a_population_the_passage_does_not_study_is_vetoed() -> None:
    assert (
        not lexical()
        .judge("Female Sprague-Dawley rats learned to press a lever for intravenous ketamine.", REF1_METHODS)
        .supported
    )
    clozapine = (
        "Clozapine: it clearly blunted ketamine-induced positive symptoms in patients with schizophrenia, but "
        "not in healthy people."
    )
    assert (
        not lexical()
        .judge("Clozapine clearly blunted ketamine-induced positive symptoms in healthy people.", clozapine)
        .supported
    )
    assert (
        lexical()
        .judge(
            "Clozapine clearly blunted ketamine-induced positive symptoms in patients with schizophrenia.", clozapine
        )
        .supported
    )
    implicit = "Particularly appropriate for those experiencing persistent cravings or repeated relapse episodes"
    assert (
        lexical()
        .judge("Lamotrigine is particularly appropriate for patients with persistent cravings.", implicit)
        .supported
    )
    assert (
        not lexical()
        .judge(
            "In patients, lamotrigine significantly lowered the breakpoint for ketamine.",
            "Lamotrigine significantly lowered the breakpoint for ketamine, meaning the rats worked less hard to obtain it.",
        )
        .supported
    )


def test_an_invented_second_clause_and_an_absolute_claim_are_vetoed() -> None:
    reasons = (
        lexical()
        .judge(
            "Lamotrigine prevented reinstatement of ketamine seeking triggered by cues, and it also eased withdrawal "
            "symptoms.",
            REF1_REINSTATE,
        )
        .reasons
    )
    assert reasons and str(reasons[0]).startswith("part not supported")
    hedged = (
        "The mechanism likely involves lamotrigine's inhibition of glutamate release, which may counteract "
        "ketamine-induced neuroadaptation"
    )
    assert (
        "stronger than the passage"
        in lexical()
        .judge("Lamotrigine inhibits glutamate release, so it will cure ketamine addiction.", hedged)
        .reasons[0]
        .detail
    )


def test_acronyms_and_publication_names_are_matched_the_way_readers_use_them() -> None:
    assert (
        lexical()
        .judge(
            "No RCTs have been published examining lamotrigine for ketamine use disorder.",
            "No randomized controlled trials have been published examining lamotrigine for ketamine use disorder",
        )
        .supported
    )
    assert source_references("In the Abdallah study and Mathew et al. 2010, as the Huang case report says") == {
        "abdallah",
        "mathew",
        "huang",
    }
    assert source_references("The study and This trial") == set()
    assert (
        not lexical()
        .judge("The Mathew trial included 22 patients with treatment-resistant depression.", ABDALLAH)
        .supported
    )


@pytest.mark.integration
def test_the_judge_with_embeddings_transfers_to_pairs_it_was_not_tuned_on(assistant) -> None:
    c = assistant.components
    judge = HeuristicJudge(embed=c.embedder.encode, idf=c.article().terms.weights.idf)
    pairs = [CalibrationPair(str(i), s, p, gold) for i, (s, p, gold) in enumerate(HELDOUT)]
    result = evaluate_judge(judge, pairs)
    assert result["accuracy"] >= 0.85, result["mistakes"]
    assert result["precision"] >= 0.85, result["mistakes"]


def test_the_lexical_judge_transfers_to_pairs_it_was_not_tuned_on() -> None:
    pairs = [CalibrationPair(str(i), s, p, gold) for i, (s, p, gold) in enumerate(HELDOUT)]
    assert evaluate_judge(lexical(), pairs)["accuracy"] >= 0.85
