"""Provider name → generator class. Swapping providers is a config change, not an if-chain."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from followup_bot.errors import GeneratorError
from followup_bot.generators.base import Generator

# Lazy entries: a provider's heavy runtime (llama-cpp, openai) is imported only when chosen.
_PROVIDERS: dict[str, str | Callable[..., Generator]] = {
    "extractive": "followup_bot.generators.extractive:ExtractiveGenerator",
    "llamacpp": "followup_bot.generators.llamacpp:LlamaCppGenerator",
    "openai": "followup_bot.generators.openai:OpenAIGenerator",
}


def register(name: str, factory: str | Callable[..., Generator]) -> None:
    """Add a provider: a class or factory, or a lazy 'module:Class' path."""
    _PROVIDERS[name] = factory


def available_providers() -> list[str]:
    return sorted(_PROVIDERS)


def resolve(name: str) -> Callable[..., Generator]:
    entry = _PROVIDERS.get(name)
    if entry is None:
        raise GeneratorError(f"generator.provider = {name!r} is unknown; available: {', '.join(available_providers())}")
    if isinstance(entry, str):
        module_name, _, attr = entry.partition(":")
        try:
            entry = getattr(import_module(module_name), attr)
        except ImportError as exc:
            raise GeneratorError(
                f"generator.provider = {name!r} needs a runtime that is not installed ({exc.name}); see `make install-llm`"
            ) from None
    return entry


def create_generator(name: str, **kwargs: Any) -> Generator:
    return resolve(name)(**kwargs)
