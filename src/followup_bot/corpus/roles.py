"""The rhetorical role of every sentence, decided at ingest: finding, conclusion, method, background,
caveat, record or caption.

An answer should lead with what was found and keep how it was found for when it is asked, so the
composer needs to know which sentence is which. The role comes from three signals, strongest first:
the sentence's own cue phrases ("we found", "in conclusion", "was measured", "aimed to"), the
section it sits in (Methods, Results, Discussion...), and its kind (a bibliographic record, a figure
caption). Both tables below are rows with their own examples, run by tests/test_rule_tables.py; a
new signal is a new row. Words are English, never one article's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Role = Literal["finding", "conclusion", "method", "background", "caveat", "record", "caption"]
ROLES: tuple[Role, ...] = ("finding", "conclusion", "method", "background", "caveat", "record", "caption")


@dataclass(frozen=True)
class RoleRule:
    name: str
    role: Role
    pattern: re.Pattern[str]
    fires_on: tuple[str, ...]
    quiet_on: tuple[str, ...]

    def match(self, text: str) -> bool:
        return self.pattern.search(text) is not None


def _row(name: str, role: Role, pattern: str, fires_on: tuple[str, ...], quiet_on: tuple[str, ...]) -> RoleRule:
    return RoleRule(name, role, re.compile(pattern, re.I), fires_on, quiet_on)


# Cue phrases in the sentence itself, strongest first (the first row that fires decides).
SENTENCE_CUES: tuple[RoleRule, ...] = (
    _row(
        "limitation",
        "caveat",
        r"\b(?:limitations?|limited by|a weakness|weaknesses|caution|cautious(?:ly)?|should be interpreted|"
        r"remains? (?:unknown|unclear|uncertain|to be (?:seen|established|determined))|not (?:yet )?(?:been )?"
        r"established|is (?:still )?unknown|are (?:still )?unknown|(?:further|more|larger) (?:research|studies|"
        r"trials|work|evidence) (?:is|are) (?:needed|required|warranted)|cannot (?:be )?(?:rule|ruled) out|"
        r"may (?:have )?(?:been )?(?:biased|underestimated|overestimated)|lack(?:ed|s|ing)? of (?:power|data|"
        r"evidence|blinding)|small sample|underpowered|not generali[sz]able|confound(?:ed|ing)|(?:did|does) not "
        r"(?:specify|report|include|have data|collect|state)|no (?:established|specific|standard|validated) "
        r"(?:dosing|protocols?|guidelines?|treatment|evidence)|(?:it )?is not clear|remains? (?:extremely |very )?"
        r"limited|weakest|(?:are|is) (?:urgently )?needed|only partially|considerable limitations|we did not have)\b",
        ("The small sample limits what can be concluded.", "Further research is needed to confirm this."),
        ("Patients were followed for 12 months.", "The drug reduced relapse by 30%."),
    ),
    _row(
        "conclusion_phrase",
        "conclusion",
        r"\b(?:in conclusion|to conclude|we conclude|(?:our|these|the) (?:results|findings|data|observations) "
        r"(?:suggest|indicate|support|show that|imply|demonstrate that)|this (?:suggests|indicates|implies)|"
        r"(?:suggest|suggests|indicate|indicates) that|should be considered|(?:may|might|could) be (?:a )?(?:useful|"
        r"beneficial|effective|promising|considered|an option|a (?:useful|promising|reasonable))|we recommend|"
        r"is recommended|implications? for|taken together|overall, (?:the|these|this)|in summary|the bottom line|"
        r"(?:the )?evidence (?:suggests|indicates|supports)|shows? promise|(?:is|are) promising)\b|"
        r"^\s*(?:assess|evaluate|monitor|consider|avoid|use|start|check|screen|discuss|titrate|begin|reduce|stop|"
        r"continue|refer|counsel|document)\b",
        ("These findings suggest that the drug is safe.", "In conclusion, screening should be offered."),
        ("The drug reduced relapse by 30%.", "We measured blood pressure weekly."),
    ),
    _row(
        "aim",
        "background",
        r"\b(?:we aimed|(?:the|our|this) (?:aim|objective|purpose|goal)s? (?:of|was|were|is)|aimed to|sought to|"
        r"in order to (?:assess|evaluate|examine|determine|investigate)|we (?:set out|wished|wanted) to|to our "
        r"knowledge|(?:is|are|was|were) (?:a |an )?(?:major|common|leading|important|serious|global) (?:cause|"
        r"problem|burden|concern|public health)|is defined as|is characteri[sz]ed by|is known to|have been (?:shown|"
        r"reported|suggested) to)\b|\b(?:the |its )?mechanism (?:likely |probably |may )?(?:involves?|is)|"
        r"(?:is|are) (?:broken down|metaboli[sz]ed|cleared|excreted) |proposed rationale|(?:is|are) (?:often|commonly|"
        r"usually|widely) (?:used|given|prescribed)",
        ("We aimed to compare two treatments.", "Malaria is a major cause of death in children."),
        ("Treatment reduced deaths by half.", "Patients were randomised to two arms."),
    ),
    _row(
        "method_phrase",
        "method",
        r"\b(?:were|was) (?:randomi[sz]ed|recruited|enrolled|allocated|assigned|screened|included|excluded|"
        r"measured|assessed|recorded|collected|analy[sz]ed|calculated|estimated|performed|conducted|administered|"
        r"obtained|interviewed|followed up|tested|defined|extracted|searched|approved|stratified|adjusted)\b|"
        r"\bwe (?:searched|used|performed|conducted|recruited|measured|analy[sz]ed|calculated|estimated|"
        r"extracted|included|excluded|defined|compared|fitted|applied|collected|interviewed)\b|\b(?:informed "
        r"consent|ethics committee|inclusion criteria|exclusion criteria|statistical analys[ie]s|sample size "
        r"calculation|double[- ]blind(?:ed)?|placebo[- ]controlled|was approved by|were eligible|sensitivity analys[ie]s|"
        r"(?:were|was) (?:given|contacted|considered|explored|repeated|restricted)|we (?:controlled|restricted|"
        r"obtained|contacted)|(?:the )?researchers (?:used|obtained|searched|collected|analy[sz]ed)|(?:patients|"
        r"participants|subjects) (?:took|received)|a total of \d+ (?:patients|participants|people|studies) "
        r"(?:were|received))\b",
        ("Patients were randomised to two arms.", "We searched MEDLINE and Embase."),
        ("Treatment reduced deaths by half.", "These results suggest a benefit."),
    ),
    _row(
        "result_phrase",
        "finding",
        r"\b(?:we found|we observed|was associated with|were associated with|(?:significantly|markedly) "
        r"(?:higher|lower|more|less|reduced|increased|improved)|(?:no|a) (?:significant|statistically significant) "
        r"(?:difference|effect|association|reduction|increase)|did not (?:differ|change|reduce|increase|improve|"
        r"affect|alter)|odds ratio|hazard ratio|relative risk|risk ratio|95% ci|confidence interval|p ?[<=>] ?0?\.\d|"
        r"(?:reduced|increased|improved|decreased|lowered|raised) [^.]{0,40}\bby \d|showed (?:that|a|no)|resulted in|"
        r"(?:studies|study|trial|trials|review|analysis|analyses|data|researchers|authors|patients)\b[^.]{0,40}\b"
        r"(?:showed|found|reported|indicated|demonstrated|observed|experienced|had)\b|was (?:significantly )?"
        r"associated)\b",
        ("We found no difference between groups.", "Mortality was lower (odds ratio 0.6, 95% CI 0.4-0.9)."),
        ("We aimed to compare mortality.", "Malaria is common in the Sahel."),
    ),
)

# The section a sentence sits in, read from its headings (deepest first); plain English section names.
# A heading names a section when it starts with its name ("2. Methods", "Materials and methods").
_HEAD = r"^\s*(?:[\dIVX]+[.)]?\s+)?(?:(?:materials|patients|subjects|participants|study) and )?"

SECTION_ROLES: tuple[RoleRule, ...] = (
    _row(
        "question_headings",
        "background",
        _HEAD + r"(?:why was (?:this|the) (?:study|research) done|additional information|what is known|further reading|"
        r"links?|resources)\b",
        ("Why Was This Study Done?", "Additional Information"),
        ("What Do These Findings Mean?", "Results"),
    ),
    _row(
        "meaning_headings",
        "conclusion",
        _HEAD
        + r"(?:what do (?:these|the) (?:findings|results) mean|what (?:this|it) means|what should|take[- ]home)\b",
        ("What Do These Findings Mean?", "What this means for patients"),
        ("Why Was This Study Done?", "Methods"),
    ),
    _row(
        "did_and_found_headings",
        "finding",
        r"\bwhat did the (?:researchers|authors|study) (?:do|find)\b",
        ("What Did the Researchers Do and Find?", "What did the study find"),
        ("Why Was This Study Done?", "Conclusions"),
    ),
    _row(
        "limitations_section",
        "caveat",
        _HEAD + r"(?:limitations?|strengths and (?:weaknesses|limitations)|caveats?|cautions?|warnings?|critical "
        r"limitations?|uncertaint(?:y|ies))\b",
        ("Limitations", "Strengths and limitations of this study"),
        ("Methods", "Results"),
    ),
    _row(
        "methods_section",
        "method",
        _HEAD + r"(?:methods?|materials|methodology|study design|design|participants|patients and methods|setting|"
        r"data (?:sources?|collection|extraction|analysis)|statistical analys[ie]s|search strategy|eligibility|"
        r"interventions?|outcomes? measures?|procedures?|ethics|sample size|randomi[sz]ation|laboratory)\b",
        ("Materials and Methods", "Statistical analysis"),
        ("Results", "Discussion"),
    ),
    _row(
        "results_section",
        "finding",
        _HEAD + r"(?:results?|findings|outcomes?|efficacy|safety|adverse events|evidence|clinical evidence|data|"
        r"preclinical|effects?|analysis of)\b",
        ("Results", "Clinical Evidence"),
        ("Introduction", "Methods"),
    ),
    _row(
        "conclusions_section",
        "conclusion",
        _HEAD + r"(?:conclusions?|implications?|recommendations?|summary|bottom line|clinical (?:implications|"
        r"considerations)|when to consider|considerations|perspectives?|key (?:points|messages)|author summary|"
        r"editors' summary|interpretation)\b",
        ("Conclusions", "Clinical Implications"),
        ("Methods", "Introduction"),
    ),
    _row(
        "background_section",
        "background",
        _HEAD + r"(?:introduction|background|overview|rationale|mechanisms?|context|pharmacology|epidemiology|history|"
        r"rationale)\b",
        ("Introduction", "Background"),
        ("Results", "Methods"),
    ),
    _row(
        "discussion_section",
        "conclusion",
        r"\bdiscussion\b",
        ("Discussion", "General discussion"),
        ("Results", "Methods"),
    ),
)
_CAPTION = re.compile(r"^\s*(?:fig(?:ure)?\.?|table|supplementary (?:figure|table)|box)\s*\w*\d", re.I)


def section_role(heading_path: list[str] | tuple[str, ...]) -> Role | None:
    """The role the deepest heading that names a known section gives its sentences."""
    for heading in reversed(heading_path):
        for row in SECTION_ROLES:
            if row.match(heading):
                return row.role
    return None


def sentence_role(text: str, heading_path: list[str] | tuple[str, ...], kind: str = "text") -> Role:
    """The role of one sentence (see the module docstring for the order of the signals)."""
    if kind == "record":
        return "record"
    if heading_path and _CAPTION.match(heading_path[-1]):
        return "caption"
    section = section_role(heading_path)
    for row in SENTENCE_CUES:
        if row.match(text):
            # A results sentence that only restates an analysis step is still a result in Results.
            if row.role == "method" and section == "finding" and re.search(r"\d", text):
                return "finding"
            return row.role
    return section or _by_grammar(text)


_NUMBER = re.compile(r"\d|%|\bper ?cent\b")
_ADVICE = re.compile(r"\b(?:should|must|need(?:s)? to|ought to|have to|it is (?:important|essential|crucial))\b", re.I)
_HEDGE = re.compile(r"\b(?:may|might|could|likely|unlikely|probably|perhaps|suggests?|seems?|appears?)\b", re.I)
_PAST_RESULT = re.compile(r"\b\w+ed\b|\b(?:was|were|had|did|found|showed|took|got|saw|made)\b", re.I)
_PRESENT = re.compile(r"\b(?:is|are|can|has|have|does|do)\b", re.I)


def _by_grammar(text: str) -> Role:
    """No cue and no known section: a number is a result, advice or a hedge is an interpretation, a present-tense
    general statement is background, and anything else a finding."""
    if _NUMBER.search(text):
        return "finding"
    if _ADVICE.search(text) or _HEDGE.search(text):
        return "conclusion"
    if _PRESENT.search(text) and not _PAST_RESULT.search(text):
        return "background"
    return "finding"
