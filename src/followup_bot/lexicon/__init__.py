"""English word classes, each in one place: drug-shaped words, question words, bibliographic cues,
negations and populations.

These are rules of English, never of one article. Import the module you need
(`followup_bot.lexicon.drugs`, `.questions`, `.records`, `.negation`, `.populations`); this
package file imports nothing, so the lowest layers (`text.py`) can use the word lists without a cycle.
"""
