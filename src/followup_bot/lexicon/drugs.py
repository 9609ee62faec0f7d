"""Drug-shaped words: the one place that says whether a word looks like the name of a drug.

Drug names follow the international non-proprietary name stems (-azepam, -oxetine, -statin,
-mab, ...), so a word a corpus has never seen can still be recognised as "another drug" without
a drug list, which would only ever know the drugs someone thought of. English has many ordinary
words with the same endings ("baseline", "hormone", "saline", "routine"); the commonest are
excluded by their frequency in English, the rest by name below. Both the abstention rule
("a drug the documents never discuss") and the support judge ("a claim naming a drug its
passage does not") ask this module, so they can never disagree.
"""

from __future__ import annotations

from functools import lru_cache

from followup_bot.text import english_frequency, words

# INN stems and common pharmaceutical endings, longest first so the regex reads the stem whole.
INN_STEMS = tuple(
    sorted(
        """ine one pam lam olam zole pril sartan olol mab tide vir azine idone apine oxetine aline amine pramine trexone
        xone barbital cillin mycin statin profen dronate caine pentin formin gliptin flozin pion amate oxacin cycline
        dipine tadine setron triptan afil lukast parin semide thiazide tanyl adol orphine codone morphone idol done ium
        pine""".split(),
        key=len,
        reverse=True,
    )
)
_ASCII = frozenset("abcdefghijklmnopqrstuvwxyz")
# No drug name is longer; a longer "word" is junk and is not looked at.
LONGEST_NAME = 60


def _drug_shaped(w: str) -> bool:
    """An INN stem at the end with at least two letters before it (a suffix test, linear in the word)."""
    return any(
        w.endswith(stem) and len(w) >= len(stem) + 2 and set(w[-len(stem) - 2 : -len(stem)]) <= _ASCII
        for stem in INN_STEMS
    )


# Words this common in English are ordinary words whatever their ending ("someone", "engine").
COMMON_ZIPF = 4.0

# Ordinary words, body parts, chemistry, biology and given names with drug-like endings that are
# rarer than COMMON_ZIPF. Singular forms; plurals are singularised before the lookup. Substances a
# clinical question may be about ("urine", "caffeine", "nicotine") are deliberately not listed: a
# question about one that the documents never mention is about something they do not cover.
NOT_DRUGS = frozenset(
    """
    medicine routine determine examine line baseline guideline decline define combine fine nine online offline outline
    discipline machine engine genuine imagine undermine doctrine spine intestine feminine masculine marine canine
    feline bovine porcine murine equine uterine endocrine exocrine saline alkaline crystalline quarantine magazine cuisine
    wine vine shine mine pine entine pristine sanguine medium premium podium stadium symposium millennium millenium
    equilibrium delirium consortium compendium gymnasium auditorium aquarium criterium cranium atrium tedium moratorium
    sanatorium sanitarium crematorium planetarium herbarium emporium colloquium pandemonium imperium epithelium bacterium
    mycobacterium clostridium plasmodium mycelium done undone condone redone outdone overdone foregone bygone begone
    deadline headline airline pipeline timeline borderline incline sideline hotline helpline lifeline underline refine
    confine recline predetermine supine alpine famine medline storyline skyline coastline shoreline waterline hairline
    neckline jawline waistline punchline tagline byline dateline frontline hardline mainline landline bloodline midline
    inline streamline trampoline limousine guillotine mezzanine latrine ravine brine twine whine swine thine spline
    cosine affine asinine labyrinthine clandestine byzantine serpentine peregrine libertine concubine philistine
    aborigine florentine benedictine palatine tangerine clementine aubergine margarine vaseline tambourine turpentine
    aquamarine tourmaline olivine estuarine submarine hormone testosterone progesterone pheromone histone ketone
    acetone ozone clone drone cyclone throne stone limestone sandstone milestone cornerstone keystone backbone
    gemstone brimstone touchstone capstone cobblestone headstone tombstone gravestone rhinestone gallstone millstone
    moonstone brownstone bone jawbone cheekbone collarbone wishbone phone telephone iphone smartphone cellphone
    microphone headphone earphone megaphone saxophone gramophone ringtone baritone monotone undertone overtone
    trombone standalone someone everyone anyone noone alone zone warzone timezone endzone eurozone friendzone prone
    crone scone cone tone atone postpone chaperone anemone abalone francophone anglophone anyones everyones someones
    peptide polypeptide nucleotide tide riptide amine cytokine creatinine idol
    sodium calcium potassium magnesium uranium aluminium titanium helium plutonium palladium chromium
    ammonium selenium radium thorium iridium barium cadmium beryllium gallium strontium rhodium vanadium zirconium
    polonium cesium indium germanium deuterium tritium geranium trillium pentium elysium byzantium omnium freemium
    presidium chine migraine ukraine maine palestine philippine argentine
    catherine katherine katharine catharine caroline christine jacqueline josephine geraldine madeleine madeline
    pauline simone elaine lorraine nadine maxine justine celine francine janine evangeline adeline jasmine yasmine
    valentine augustine constantine antoine tyrone malone jones stallone capone boone sabine delphine claudine
    charmaine germaine jermaine tremaine corrine kristine martine romaine fontaine racine irvine erskine kline cline
    levine devine lavine heine paine kaine caine haines gaines baines hines raines staines leone simeone barone
    """.split()
)


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 4 else word


@lru_cache(maxsize=16384)
def looks_like_drug(word: str) -> bool:
    """Whether a single word has the shape of a drug name ("carbamazepine" yes, "baseline" no)."""
    w = _singular(word.lower().strip(".,;:'\"()"))
    if not 5 <= len(w) <= LONGEST_NAME or not w.isalpha() or w in NOT_DRUGS or not _drug_shaped(w):
        return False
    return english_frequency(w) < COMMON_ZIPF


# Classes a claim may name instead of a drug ("an antipsychotic"); they count as drug names in
# the support judge, never as unknown drugs in the abstention rule.
DRUG_CLASSES = frozenset(
    "antipsychotic opioid maoi ssri snri stimulant psychostimulant stabilizer stabiliser anticonvulsant "
    "antiepileptic benzodiazepine antidepressant".split()
)


def drug_names(text: str) -> set[str]:
    """Drug names and classes in a text, singular and lower-case ("Benzodiazepines" -> "benzodiazepine")."""
    found = set()
    for token in words(text):
        for part in token.split("-"):
            w = _singular(part.removesuffix("'s").strip("'"))
            if w in DRUG_CLASSES or looks_like_drug(w):
                found.add(w)
    return found
