"""Answer generators behind one interface; `registry` maps provider names to classes."""

from followup_bot.errors import GeneratorError
from followup_bot.generators.base import Draft, DraftSentence, GenerationRequest, Generator
from followup_bot.generators.registry import available_providers, create_generator, register

__all__ = [
    "Draft",
    "DraftSentence",
    "GenerationRequest",
    "Generator",
    "GeneratorError",
    "available_providers",
    "create_generator",
    "register",
]
