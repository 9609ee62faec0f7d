"""Reads the prompt and framing files in `prompts/`.

Texts are data, editable without code. The mandatory framing texts have built-in fallbacks:
deleting or emptying a file must never remove the disclaimer or the emergency message.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from followup_bot.errors import PromptError

# Safety floor only: used when the file is missing or empty. The files are the real texts.
_FALLBACKS = {
    "framing/banner.md": "Educational information for healthcare professionals, not medical advice. Verify against the "
    "primary literature. In an emergency, call your local emergency number.",
    "framing/clinician.md": "Educational information from the cited documents only; not a substitute for clinical judgment.",
    "framing/patient.md": "General information, not medical advice. Talk with your doctor before changing any "
    "medicine. In an emergency, call your local emergency number.",
    "safety/emergency.md": "This sounds like a medical emergency. Call {emergency_number} now.",
    "safety/crisis.md": "You deserve support right now. {crisis_line}. If you are in danger, call "
    "{emergency_number}. Elsewhere: https://findahelpline.com",
    "safety/crisis_third_party.md": "If they are in immediate danger, call {emergency_number} now. Stay with them if "
    "you can do so safely. {crisis_line}. Elsewhere: https://findahelpline.com",
    "safety/emergency_poisoning.md": "This sounds like a medical emergency. Call {emergency_number} now, or "
    "{poison_control} if they are awake and breathing normally.",
    "safety/crisis_line.md": "When you are safe, support is there for how you are feeling: {crisis_line}.",
    "safety/personal_dose.md": "I can't give an individual dose: that is a decision for the prescriber. In general, the documents say:",
}


class PromptLibrary:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @lru_cache(maxsize=64)  # noqa: B019 - one library per assistant; files are small and read once
    def raw(self, name: str) -> str:
        path = self.folder / name
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            text = ""
        if not text:
            if name in _FALLBACKS:
                return _FALLBACKS[name]
            raise PromptError(f"prompt file missing or empty: {path} (prompts.dir = {self.folder})")
        return text

    def render(self, name: str, **values: object) -> str:
        text = self.raw(name)
        for key, value in values.items():
            text = text.replace("{" + key + "}", str(value))
        return text
