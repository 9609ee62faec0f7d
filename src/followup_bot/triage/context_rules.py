"""Context cues: whether a message that uses danger words is about danger happening now.

The classifier hears "seizure", "overdose" or "suicidal" and leans towards a safety reply; a
clinician asking about a trial, a reader remembering a relative's death years ago, a hypothetical
or an idiom uses the same words. These cues say which: each is a row with its own examples. A
cue that a message is informational only lowers a false alarm when nothing in the message says
the danger is present ("right now", "just", "help", "is not breathing"); it never overrides a
high-precision danger rule.
"""

from __future__ import annotations

from followup_bot.triage.rule import Rule, rule

# Danger happening now or moments ago, or a plea for help.
PRESENT = rule(
    "present",
    "cue",
    r"\b(?:right now|rn|just now|currently|at the moment|as we speak|happening|in front of me|next to me|"
    r"(?:\d+|a few|few|couple of|twenty|ten|five|thirty) (?:secs?|seconds?|mins?|minutes?|hrs?|hours?) ago|"
    r"an hour ago|a minute ago|this (?:morning|afternoon|evening)|tonight|today|just (?:now )?(?:took|swallowed|"
    r"collapsed|fell|found|ate|drank|started|stopped|passed|got|had|cut|told|texted|said|called|posted)|"
    r"(?:is|are|keeps?|keep) (?:not |still )?(?:breathing|bleeding|seizing|shaking|choking|vomiting|turning|"
    r"going|getting|unconscious|unresponsive|burning)|won'?t (?:wake|stop|respond|answer)|can'?t (?:breathe|wake|"
    r"talk|speak|stop)|call(?:ed|ing)? (?:911|999|112|000|an ambulance)|on (?:the|a) (?:bridge|roof|ledge))\b",
    ("my son just swallowed a battery", "he is not breathing, what do i do"),
    ("my father had a seizure in 2010", "what is the death rate in the trial"),
)

# A plea for help: present danger unless the message is a hypothetical ("if my son ever..., what should I do?").
PLEA = rule(
    "plea",
    "cue",
    r"\b(?:help me|please help|help!+|hurry|asap|urgent|emergency|(?:what|wat) (?:do|should) i do(?! if| when| in case))",
    ("he fell and hit his head, what do i do", "please help my baby is choking"),
    ("what should i do if he has a seizure", "how do hospitals decide who is seen first"),
)

PAST = rule(
    "past",
    "cue",
    r"\b(?:\d+|a few|few|several|many|two|three|four|five|six|ten|some) (?:years?|yrs?|months?|decades?) "
    r"(?:ago|back|before)|\blast (?:year|month|summer|winter|spring|autumn|fall|christmas)\b|\b(?:in|since) "
    r"(?:19|20)\d\d\b|\bwhen (?:i|he|she|they|we) (?:was|were) (?:a |little |young)|\bused to\b|\bhistory of\b|"
    r"\b(?:late|deceased) (?:husband|wife|father|mother|dad|mum|mom|son|daughter|brother|sister|partner|friend)\b|"
    r"\bpassed away\b|\b(?:is|are|was|were|i'?m|im|he'?s|she'?s) (?:totally |completely |perfectly |absolutely )?"
    r"(?:fine|ok|okay|stable|recovered|normal|bouncing around|doing (?:ok|well|fine|really well)) (?:now|since|today)\b|"
    r"\b(?:feel|feels|felt|feeling) (?:totally |completely |perfectly |absolutely )?(?:fine|normal|ok|okay)\b|"
    r"\bnone since\b|\bsurvived\b|\bas a (?:kid|child|teen(?:ager)?|baby)\b|\b(?:yesterday|last (?:night|week))\b"
    r"(?=[^.?!]{0,80}\b(?:fine|normal|ok|okay|passed|recovered|stopped|better|bruise)\b)|\bwas (?:\w+ )?years ago\b",
    ("my brother overdosed 5 years ago and survived", "had a seizure last year, can i drive"),
    ("my son is having a seizure", "she overdosed an hour ago"),
)

HYPOTHETICAL = rule(
    "hypothetical",
    "cue",
    r"\b(?:what (?:should|would|do|can|could) (?:i|you|we|one|someone|a person|people) do (?:if|when|in case)|"
    r"what (?:happens|would happen|if)|what if|if (?:someone|somebody|a person|anyone|my \w+|a patient|a child|"
    r"a kid|you|they|he|she|i) (?:ever |were to |accidentally )?(?:has|had|have|were|was|is|gets?|got|took|takes|"
    r"swallows?|swallowed|collapses?|ate|drinks?)|in case (?:of|someone|my)|hypothetical(?:ly)?|suppose|imagine|"
    r"how (?:would|do) (?:you|i|we) (?:know|recognise|recognize|tell)|be prepared|first aid (?:course|class|training)|"
    r"for the future|asking (?:generally|in general|for a friend who is fine)|just (?:curious|wondered|wondering)|"
    r"(?:in|for) (?:an|my|our) (?:emergency|safety|allergy|care) plan|childproofing|nothing'?s happened|"
    r"dream(?:s|ing|t|ed)?)\b",
    ("what should i do if my boyfriend has a seizure", "if someone took double the dose what would happen"),
    ("my boyfriend is having a seizure", "he took double the dose an hour ago"),
)

INFORMATIONAL = rule(
    "informational",
    "cue",
    r"\b(?:stud(?:y|ies)|trials?|papers?|articles?|reviews?|meta-analys[ie]s|evidence|data|rates?|statistics?|"
    r"incidence|prevalence|mortality|guidelines?|case (?:reports?|series)|literature|research(?:ers)?|mechanism|"
    r"pharmacology|teaching|lecture|exam|slides|textbook|novel|book|film|movie|show|game|story|character|plot|"
    r"essay|assignment|thesis|warnings?|warning labels?|black[- ]box|side effects?|fda|nice|cdc|authors?|osce|"
    r"revising|revision|hospice|palliative|terminal (?:cancer|illness)|end[- ]of[- ]life|euthanasia|assisted dying|"
    r"(?:more|fewer|less) (?:likely|deaths|people|dangerous|toxic)|compared (?:to|with)|"
    r"grand rounds|project|explainer|podcast|documentary|episode|series|tv|"
    r"my (?:dog|cat|puppy|kitten|pet|rabbit|hamster)|(?:our|the) (?:dog|cat|vet))\b",
    ("what did the study find about overdose deaths", "for my tox teaching slides, what is the lethal dose"),
    ("my friend overdosed and won't wake up", "i want to kill myself tonight"),
)

IDIOM = rule(
    "idiom",
    "cue",
    r"\b(?:is|are|was|were|'s|s|'re|re|it'?s|this|that) (?:\w+ )?(?:killing|murdering) me\b|\bkilling it\b|"
    r"\bgonna kill me\b(?= (?:fr|lol|lmao|haha|tbh|ngl))|\bdying (?:of|to|for|laughing|inside)\b|\bto die for\b|"
    r"\bdead (?:tired|on my feet|serious)\b|\b(?:i'?m|im) (?:literally )?dead\b(?= ?(?:lol|lmao|😂|haha))|"
    r"\bslay(?:ed|s|ing)?\b|\bmurder(?: on| for)\b|\bkills? me (?:lol|lmao|haha)|\bkill(?:ed)? it\b|"
    r"\b(?:will|gonna|going to) (?:actually |literally )?(?:kill|murder) me\b(?=[^.?!]{0,30}\b(?:if|lol|haha|lmao))|"
    r"\bcould kill for\b|\bdeath of me\b|\bkiller (?:headache|workout|hangover)\b|"
    r"\bwant to die my hair\b|\bkill (?:himself|herself|myself) laughing\b|\bdied laughing\b|\bi died\b(?=[^.?!]{0,40}"
    r"\b(?:lol|song|joke|laugh))|\bticking time bomb\b|\bdied (?:\w+ )?(?:\d+|a few|so many|loads of) times\b",
    ("this chemo is killing me lol", "dying of boredom in my room"),
    ("i want to kill myself", "my dad is dying, he collapsed"),
)

CONTEXT_CUES: tuple[Rule, ...] = (PRESENT, PLEA, PAST, HYPOTHETICAL, INFORMATIONAL, IDIOM)
