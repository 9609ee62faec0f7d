"""Crisis: suicidal or self-harm intent or plan, for oneself or someone else."""

from __future__ import annotations

import re

from followup_bot.lexicon.drugs import looks_like_drug
from followup_bot.triage.rule import Rule, rule

_PERSON = re.compile(r"\b(?:i|me|my|you|someone|somebody|a person)\b")


def _a_person_is_named(m: re.Match[str]) -> bool:
    """The message names a person somewhere: checked once per match, not as a look-ahead tried at every
    position (which made the rule quadratic in the message's length)."""
    return _PERSON.search(m.string) is not None


CRISIS: tuple[Rule, ...] = (
    rule(
        "intent_other_languages",
        "crisis",
        r"\b(?:no quiero vivir|quiero morir(?:me)?|me quiero (?:matar|morir)|matarme|suicidarme|je veux mourir|"
        r"me tuer|me suicider|en finir|quero morrer|me matar|n[ãa]o quero (?:mais )?viver|ich will (?:nicht mehr leben|"
        r"sterben)|mich umbringen|voglio morire|uccidermi|farla finita)\b",
        ("ya no quiero vivir, tengo las pastillas aqui", "je veux mourir ce soir"),
        ("no quiero ir al médico", "je veux savoir la dose"),
    ),
    rule(
        "harm_myself",
        "crisis",
        r"\b(?:kill|hurt|harm|cut|hang|shoot|poison|drown|starve|burn)(?:ing)? (?:myself|me)\b",
        ("i want to kill myself", "i keep thinking about hurting myself"),
        ("will this drug hurt my liver", "can this medicine harm the baby"),
    ),
    rule(
        "harm_themselves",
        "crisis",
        r"\b(?:kill|hurt|harm)(?:ing)? (?:himself|herself|themselves|themself)\b",
        ("my son says he will kill himself", "she is talking about harming herself"),
        ("he hurt his back", "they harmed nobody"),
    ),
    rule(
        "slang_intent",
        "crisis",
        r"\b(?:kms|unalive|unaliving|end it all|off myself)\b",
        ("i just wanna kms", "thinking about unaliving"),
        ("what are km per hour", "the study ended in 2019"),
    ),
    rule(
        "suicide_then_person",
        "crisis",
        r"\bsuicid\w*\b[^.?!]{0,40}\b(?:i|i'm|im|me|my|feel|feeling|thinking|plan|want|been|friend|he|she|son|"
        r"daughter)\b",
        ("suicidal thoughts keep coming to me", "suicide is all my friend talks about"),
        ("suicide rates in the trial", "which drugs carry a warning about suicidal thoughts"),
    ),
    rule(
        "person_then_suicide",
        "crisis",
        r"\b(?:i|i'm|im|i've|ive|feel|feeling|thinking|thoughts|plan|want|been)\b[^.?!]{0,40}\bsuicid\w*",
        ("i'm feeling suicidal", "i've been having suicidal urges"),
        ("does the drug carry a suicide warning", "suicide prevention programmes"),
    ),
    rule(
        "end_my_life",
        "crisis",
        r"\bend(?:ing)? (?:my|his|her|their) (?:own )?li(?:fe|ves)\b|\btake (?:my|his|her) (?:own )?life\b",
        ("i want to end my life", "he talks about ending his own life"),
        ("end of life care", "my life changed after treatment"),
    ),
    rule(
        "end_it",
        "crisis",
        r"\bend(?:ing)? (?:it|it all|everything|things)\b(?:[^.?!]{0,20}\b(?:tonight|today|now|soon|for good))?(?=[^a-z]|$)",
        ("i am ending it tonight", "i want to end everything"),
        ("the trial ended early", "how does the article end"),
    ),
    rule(
        "want_to_die",
        "crisis",
        r"\b(?:want|wanna|going|plan|planning|ready|wish|hope) (?:to )?die\b|\bwish (?:i|i'd|i had) (?:was|were|never)\b",
        ("i just want to die", "i wish i was never born"),
        ("patients did not die", "i wish it worked faster"),
    ),
    rule(
        "not_want_to_live",
        "crisis",
        r"\b(?:don'?t|do not|no longer) want to (?:live|be alive|be here|wake up|exist|go on)\b",
        ("i don't want to live anymore", "i no longer want to be here"),
        ("i don't want to take it", "i want to live healthier"),
    ),
    rule(
        "burden",
        "crisis",
        r"\bbetter off (?:dead|without me)\b|\b(?:no one|nobody) would (?:miss|care)\b|\bi'?m (?:just )?a burden\b",
        ("everyone would be better off without me", "i'm just a burden"),
        ("is it better off taken with food", "nobody would take it twice"),
    ),
    rule(
        "no_reason_to_live",
        "crisis",
        r"\b(?:no|nothing) (?:reason|point|left) (?:to|in|for) (?:live|living|going on|me)\b|\bnothing to live for\b",
        ("there is no reason to live", "i have nothing to live for"),
        ("no reason to stop treatment", "nothing left in the bottle"),
    ),
    rule(
        "life_not_worth",
        "crisis",
        r"\b(?:life|living) (?:is(?:n'?t| not)|isnt) worth\b|\bwhat'?s the point (?:of|in) (?:living|life|anything|going on)\b",
        ("life isn't worth it anymore", "what's the point of living"),
        ("is the drug worth it", "what's the point of the placebo arm"),
    ),
    rule(
        "self_harm",
        "crisis",
        r"\bself[- ]?harm(?:ing)?\b|\bcutting myself\b",
        ("i have been self harming again", "i started cutting myself"),
        ("self-care tips", "cutting the tablet in half"),
    ),
    rule(
        "take_all_my_pills",
        "crisis",
        r"\btake (?:all|every one) (?:of )?(?:my|the|these|those) (?:pills|tablets|meds|medications?|medicines?|drugs)\b",
        ("i want to take all my pills", "gonna take every one of these tablets"),
        ("take the tablets with food", "do i take my pills at night"),
    ),
    rule(
        "take_all_named_drug",
        "crisis",
        r"\btake (?:all|every one) (?:of )?(?:my|the|these|those) (\w+)\b",
        ("i will take all my sertraline", "going to take all of my quetiapine"),
        ("take all the time you need", "take all my questions to the doctor"),
        guard=lambda m: looks_like_drug(m.group(1)),
    ),
    rule(
        "take_whole_supply",
        "crisis",
        r"\b(?:want|wanna|going|gonna|plan(?:ning)?|about|ready) to (?:take|swallow|down) "
        r"(?:all|every one|the (?:whole|entire) (?:bottle|pack|box))\b",
        ("i'm going to swallow the whole bottle", "i'm about to take all of them"),
        ("i'm going to take it with food", "ready to take the next dose"),
    ),
    rule(
        "take_all_at_once",
        "crisis",
        r"\btake (?:all|every one) (?:of )?(?:my|the|these|those) \w+ (?:at once|together|in one go|tonight)\b",
        ("i'll take all my meds at once", "take all these pills tonight"),
        ("take all my meds with breakfast", "take the pills at once a day"),
    ),
    rule(
        "goodbye_note",
        "crisis",
        r"\b(?:goodbye|suicide) (?:note|letter|message)\b|\bsaying goodbye (?:to everyone|for good)\b",
        ("i wrote a goodbye letter", "i'm saying goodbye to everyone"),
        ("goodbye and thanks", "a note on dosing"),
    ),
    rule(
        "overdose_on_purpose",
        "crisis",
        r"\b(?:overdos\w*|od|od'?ing)\b[^.?!]{0,30}\bon purpose\b|\bon purpose\b[^.?!]{0,30}\boverdos\w*",
        ("i want to overdose on purpose", "i did it on purpose, i overdosed"),
        ("an accidental overdose", "was the dose chosen on purpose"),
    ),
    rule(
        "thinking_of_dying",
        "crisis",
        r"\b(?:thinking|thought|thoughts) (?:about|of) (?:overdosing|killing|ending|dying|not waking|death|hurting)\b",
        ("i keep thinking about dying", "thoughts of not waking up"),
        ("thinking about stopping the drug", "thoughts about the study"),
    ),
    rule(
        "lethal_amount",
        "crisis",
        r"\b(?:lethal|fatal|deadly) (?:dose|amount|overdose)\b|\bhow (?:much|many)\b[^.?!]{0,60}\b(?:to|would|will|could) "
        r"(?:kill|die)\b",
        ("what is a lethal dose", "how many would it take to die"),
        ("what is a normal dose", "how many patients died"),
    ),
    rule(
        "how_much_to_not_wake",
        "crisis",
        r"\bhow (?:much|many)\b[^.?!]{0,80}\b(?:to|so (?:that )?"
        r"(?:i|you|one|someone)|and) (?:not|never|don'?t|dont|won'?t|wont) (?:wake up|wake|be alive|survive)\b",
        ("how many of my pills to not wake up", "how many pills would i need to not wake up"),
        ("how many patients did not wake up in the study", "how much sleep do i need to wake up fresh"),
        guard=_a_person_is_named,
    ),
    rule(
        "so_i_dont_wake",
        "crisis",
        r"\b(?:i|me|my)\b[^.?!]{0,60}\b(?:to|so (?:that )?i|and) (?:not|never) (?:wake up|be alive|be here anymore)\b",
        ("i want to sleep and never wake up", "i'd take them so that i never wake up"),
        ("i want to wake up earlier", "my alarm did not wake me"),
    ),
    rule(
        "how_much_is_lethal",
        "crisis",
        r"\bhow (?:much|many)\b[^.?!]{0,60}\b(?:is|are|would be|would it take to be) (?:lethal|fatal|deadly)\b",
        ("how many pills is lethal", "how much would be fatal"),
        ("how many adverse events were fatal in the trial of 2019", "how much is a standard dose"),
    ),
    rule(
        "enough_to_die",
        "crisis",
        r"\benough (?:pills|tablets|of (?:it|them|my \w+|the \w+)) to (?:die|kill|not wake|end)\b",
        ("do i have enough pills to die", "enough of my tablets to not wake"),
        ("enough pills to last a month", "is there enough evidence to decide"),
    ),
    rule(
        "cant_go_on",
        "crisis",
        r"\bi'?m done with (?:life|everything|living|it all)\b|\bcan'?t (?:go on|do this anymore|take (?:it|this) anymore|"
        r"keep going)\b",
        ("i can't go on like this", "i'm done with life"),
        ("i'm done with the trial", "can't take it with food"),
    ),
    rule(
        "jump_from_height",
        "crisis",
        r"\b(?:jump|jumping) (?:off|from) (?:a|the) (?:bridge|roof|building)\b",
        ("i'm going to jump off the bridge", "thinking of jumping from a roof"),
        ("a jump in blood pressure", "the bridge study"),
    ),
    rule(
        "never_wake_up",
        "crisis",
        r"\b(?:i|me)\b[^.?!]{0,30}\b(?:don'?t|dont|never|won'?t|wont) wake up\b|\bnever wake up\b",
        ("i hope i don't wake up", "i want to never wake up"),
        ("does it make you drowsy", "i wake up tired"),
    ),
    rule(
        "gone_forever",
        "crisis",
        r"\bif i (?:was|were) gone\b|\bdisappear forever\b",
        ("would anyone care if i was gone", "i want to disappear forever"),
        ("if the rash was gone", "did the symptoms disappear"),
    ),
)
