"""Requests for individual medical advice: answered in general terms, the prescriber first."""

from __future__ import annotations

from followup_bot.triage.rule import Rule, rule

PERSONAL_DOSE: tuple[Rule, ...] = (
    rule(
        "how_much_for_me",
        "personal_dose",
        r"\b(?:how much|how many (?:mg|milligrams|tablets|pills)|what dose|which dose|what dosage|what amount)\b[^?]{0,60}"
        r"\b(?:i|me|my|we|he|she|they|him|her|them|should|take|start|give)\b",
        ("how much should i take", "what dose should my son start on"),
        ("what dose was used in the trial?", "how much was given to the rats?"),
    ),
    rule(
        "should_i",
        "personal_dose",
        r"\b(?:should|can|could|may) (?:i|we|he|she|they|my \w+) (?:take|start|increase|double|decrease|stop|up|raise|"
        r"lower|combine|mix|use|try|switch|give|ask|get|go on|be on|put)\b",
        ("should i stop my medication", "can my mother take it with lithium"),
        ("should patients be monitored", "can this drug reduce cravings"),
    ),
    rule(
        "my_dose",
        "personal_dose",
        r"\bmy (?:dose|dosage|prescription|regimen)\b",
        ("is my dose too high", "my prescription says 50 mg"),
        ("the dose in the study", "a typical regimen"),
    ),
    rule(
        "give_me_a_dose",
        "personal_dose",
        r"\b(?:give|prescribe|recommend|suggest|tell) (?:me|him|her|them|us) (?:a |the |my |his |her |their )?"
        r"(?:dose|dosage|amount|regimen|schedule|\d+ ?mg)\b",
        ("give me a dose", "tell me the dosage for him"),
        ("give me a summary", "tell me about the study"),
    ),
    rule(
        "prescribe_me",
        "personal_dose",
        r"\bprescribe (?:me|him|her|them|us)\b|\b(?:dose|dosage|regimen) for my \w+\b",
        ("can you prescribe me something", "what dosage for my daughter"),
        ("doctors prescribe it off-label", "the dose for adults"),
    ),
    rule(
        "i_am_on",
        "personal_dose",
        r"\b(?:i|i'm|im) (?:on|taking)\b[^.?!]{0,30}\b\d+ ?mg\b",
        ("i'm on 100 mg of sertraline", "im taking 25mg daily"),
        ("patients were on 300 mg", "is 100 mg a high dose"),
    ),
    rule(
        "soon_dose",
        "personal_dose",
        r"\b(?:tonight|tomorrow|this week)\b[^.?!]{0,40}\b(?:mg|dose|take|start)\b",
        ("can i start tonight at 100 mg", "tomorrow i will take a double dose"),
        ("what happens tomorrow", "the dose was raised weekly"),
    ),
    rule(
        "dosing_for_me",
        "personal_dose",
        r"\bdos(?:e|ing|age)\b[^.?!]{0,40}\bfor me\b",
        ("what dosing is right for me", "is that dose ok for me"),
        ("dosing for adults", "what dose did they use"),
    ),
    rule(
        "safe_for_me",
        "personal_dose",
        r"\b(?:ok|okay|safe|right|good|fine|appropriate|suitable|dangerous)\b[^.?!]{0,20}\bfor (?:me|my \w+|him|her|them)\b",
        ("is it safe for me", "is this okay for my son"),
        ("is it safe in pregnancy", "is it approved for this use"),
    ),
    rule(
        "can_i",
        "personal_dose",
        r"\b(?:should|can|could|may) i\b",
        ("can i drink alcohol with it", "may i skip a dose"),
        ("can patients drink alcohol", "could it help cravings"),
    ),
    rule(
        "my_doctor",
        "personal_dose",
        r"\bmy (?:doctor|psychiatrist|gp|prescriber|pharmacist)\b",
        ("my doctor wants me to start it", "my gp said no"),
        ("the doctor in the study", "doctors prescribe it off-label"),
    ),
)
