"""Emergencies: someone in physical danger now, and the context cues that decide whether it is now.

An emergency row needs a person in the message (the `someone` cue) unless it is also
`emergency_plain` ("not breathing"), and it is set aside when the message is about a document
and nobody present is involved. The cues are rows too, with their own examples.
"""

from __future__ import annotations

from followup_bot.triage.rule import Rule, rule

_PEOPLE = (
    r"i|i'm|im|me|my|myself|we|he|she|they|he's|she's|they're|someone|somebody|friend|son|daughter|kid|child|baby|"
    r"toddler|partner|husband|wife|boyfriend|girlfriend|mom|mum|dad|mother|father|brother|sister|roommate|patient"
)

CUES: tuple[Rule, ...] = (
    rule(
        "someone",
        "cue",
        r"\b(?:" + _PEOPLE + r"|right now|just|help|urgent|can't wake)\b",
        ("my friend took something", "is this urgent"),
        ("what did the study show", "was the drug well tolerated"),
    ),
    rule(
        "about_documents",
        "cue",
        r"\b(?:case report|case series|(?:the|a|this|that) (?:case|study|studies|report|paper|article|review|trial)|"
        r"authors?|published|described|in the (?:case|study|paper|review)|there was a case|"
        r"(?:a|the|one|that) patient who had|patients who had|what happened (?:to|when|in))\b",
        ("in the case report the man overdosed", "what happened to the patients who had seizures"),
        ("my brother overdosed", "he is having a seizure"),
    ),
    rule(
        "asker",
        "cue",
        r"\b(?:i|i'm|im|me|my|we|our|he|she|they|him|her|his|their|he's|she's|they're|help|right now|urgent|hurry)\b",
        ("my son collapsed", "please hurry"),
        ("in the case report the patient collapsed", "the study described seizures"),
    ),
    rule(
        "danger_now",
        "cue",
        r"\b(?:is|are|isn'?t|is not|now|still|currently)\b[^.?!]{0,25}\b(?:unconscious|unresponsive|breathing|blue|seizing|"
        r"having a seizure|collapsed|dying|not waking|won'?t wake)\b|\b(?:not breathing|stopped breathing|unresponsive|"
        r"unconscious)\b",
        ("the patient in the study is still unresponsive", "the man is now seizing"),
        ("the patient in the study had a seizure", "the trial reported breathing problems"),
    ),
)

EMERGENCY: tuple[Rule, ...] = (
    rule(
        "danger_other_languages",
        "emergency",
        r"\b(?:no respira|no despierta|se est[áa] ahogando|ne respire (?:plus|pas)|ne se r[ée]veille pas|"
        r"n[ãa]o (?:est[áa] )?respira(?:ndo)?|n[ãa]o acorda|atmet nicht|wacht nicht auf|non respira|non si sveglia)\b",
        ("mi hijo no respira", "il ne respire plus, aidez-moi"),
        ("respira mejor hoy", "il respire bien"),
    ),
    rule(
        "overdose",
        "emergency",
        r"\bover ?dos(?:e|ed|ing)\b",
        ("my friend overdosed on her pills", "i think he is overdosing"),
        ("the dosage was lowered", "over the dose range studied"),
    ),
    rule(
        "took_too_many",
        "emergency",
        r"\b(?:took|taken|swallowed|ate|had|drank)\b[^.?!]{0,40}\b(?:too many|too much|whole (?:bottle|pack|box)|"
        r"all (?:of )?(?:my|his|her|their|the) (?:pills|tablets|meds|medication))",
        ("she took a whole bottle of her sleeping pills", "my son ate all of the tablets"),
        ("she took her pills as prescribed", "how many tablets come in a pack"),
    ),
    rule(
        "swallowed_pills",
        "emergency",
        r"\bswallowed\b[^.?!]{0,30}\b(?:pills?|tablets?|meds|medications?|medicines?|drugs?|bottle|pack|box|handful)",
        ("my toddler swallowed some of my pills", "he swallowed a handful"),
        ("the tablets should be swallowed whole", "she swallowed water"),
    ),
    rule(
        "not_breathing_well",
        "emergency",
        r"\b(?:can'?t|cannot|can not|couldn'?t|not|isn'?t|stopped|struggling to|trouble|difficulty|hard to|barely|"
        r"hardly)\s+breath(?:e|ing)?\b",
        ("i can't breathe", "he is struggling to breathe"),
        ("breathing exercises help anxiety", "take a deep breath"),
    ),
    rule(
        "took_way_too_much",
        "emergency",
        r"\b(?:did|took|had|taken|done|used|snorted|drank)\s+(?:way\s+|far\s+)?too\s+(?:much|many)\b",
        ("i took way too much", "he snorted too much"),
        ("is too much paracetamol harmful", "too much caffeine is bad"),
    ),
    rule(
        "numbness",
        "emergency",
        r"\bcan'?t feel (?:my|his|her|their)\b",
        ("i can't feel my legs", "she can't feel her face"),
        ("can i feel the effect quickly", "i can feel it working"),
    ),
    rule(
        "chest_pain",
        "emergency",
        r"\bchest (?:pain|pressure|tightness)\b",
        ("my dad has chest pain", "i have crushing chest pressure"),
        ("my chest feels fine", "a chest x-ray was normal"),
    ),
    rule(
        "unresponsive",
        "emergency",
        r"\b(?:unresponsive|unconscious|won'?t wake|can'?t wake|not waking|passed out|collapsed|blacked out|"
        r"not responding)\b",
        ("my friend passed out and won't wake", "she collapsed in the kitchen"),
        ("he is awake and talking", "the patient responded to treatment"),
    ),
    rule(
        "seizure",
        "emergency",
        r"\b(?:seizure|seizing|convuls\w+|fitting)\b",
        ("my son is having a seizure", "she is convulsing on the floor"),
        ("the dose was raised gradually", "is it suitable for epilepsy"),
    ),
    rule(
        "blue_lips",
        "emergency",
        r"\b(?:blue|purple) lips\b|\blips (?:are |is )?(?:turning |going )?(?:blue|purple)\b|\bturning blue\b",
        ("his lips are turning blue", "the baby has blue lips"),
        ("she has red lips", "the blue pill is the placebo"),
    ),
    rule(
        "airway_swelling",
        "emergency",
        r"\b(?:throat|tongue|face) (?:is )?(?:swelling|swollen|closing)\b",
        ("my throat is closing", "her tongue is swollen"),
        ("i have a sore throat", "my face is red from the sun"),
    ),
    rule(
        "anaphylaxis",
        "emergency",
        r"\banaphyla\w*\b",
        ("i think he is having anaphylaxis", "she's going into anaphylactic shock"),
        ("an allergic rash", "what is an allergy test"),
    ),
    rule(
        "skin_reaction",
        "emergency",
        r"\b(?:blister\w*|peeling|sores? in (?:my|the|his|her) mouth)\b[^.?!]{0,60}\b(?:fever|rash|skin)\b|"
        r"\b(?:rash|fever)\b[^.?!]{0,60}\b(?:blister\w*|peeling)\b",
        ("i have a rash with blisters", "my skin is peeling and i have a fever"),
        ("a mild rash went away", "i have a fever"),
    ),
    rule(
        "call_ambulance",
        "emergency",
        r"\bcall(?:ed)? (?:911|an ambulance|999|112)\b",
        ("should i call 911", "we called an ambulance"),
        ("what is the number for poison control", "is 911 free"),
    ),
    rule(
        "dying",
        "emergency",
        r"\b(?:dying|going to die)\b",
        ("i think i'm dying", "he is going to die"),
        ("what is the death rate", "people died in the trial"),
    ),
    rule(
        "call_ambulance_plain",
        "emergency_plain",
        r"\bcall (?:911|an ambulance)\b",
        ("call an ambulance", "do i call 911"),
        ("calling a doctor", "what does an ambulance cost"),
    ),
    rule(
        "not_breathing",
        "emergency_plain",
        r"\bnot breathing\b",
        ("he is not breathing", "not breathing after the injection"),
        ("breathing is normal", "breathing problems are rare"),
    ),
    rule(
        "stopped_breathing",
        "emergency_plain",
        r"\bstopped breathing\b",
        ("she stopped breathing", "the man stopped breathing"),
        ("she started breathing easier", "breathing stopped being a problem once treated"),
    ),
    rule(
        "unresponsive_plain",
        "emergency_plain",
        r"\bunresponsive\b",
        ("unresponsive after taking pills", "the patient is unresponsive"),
        ("responsive to treatment", "responded well"),
    ),
)
