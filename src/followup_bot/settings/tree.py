"""The whole settings tree, with its environment overrides and the keys kept working after a move."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from followup_bot.settings.sections import (
    ChunkingSettings,
    ConversationSettings,
    CorpusSettings,
    EmbeddingSettings,
    EvalSettings,
    EvidenceSettings,
    GeneratorSettings,
    LibrarySettings,
    PromptSettings,
    RetrievalSettings,
    SafetySettings,
    StoreSettings,
    VerifySettings,
)
from followup_bot.settings.serving import UISettings

ENV_PREFIX = "FOLLOWUP_BOT_"

# Keys that moved from [generator] to [evidence], and one that never did anything.
MOVED_TO_EVIDENCE = frozenset(
    "sentence_floor coverage_gain score_window abstention_model relevance_floor coverage_floor synonym_floor "
    "rare_word_zipf redundancy_threshold".split()
)
RETIRED = frozenset({"min_sentences"})
RENAMED = {"condense_with_llm": "standalone_with_llm"}


class Settings(BaseSettings):
    """The whole configuration; every field has a description and a safe default."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")

    root: Path = Field(Path("."), description="Project root; relative paths resolve against it. Set by the loader.")
    corpus: CorpusSettings = Field(default_factory=CorpusSettings, description="Where the documents are.")
    library: LibrarySettings = Field(default_factory=LibrarySettings, description="Imported articles.")
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings, description="How documents become passages.")
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings, description="The embedding model.")
    store: StoreSettings = Field(default_factory=StoreSettings, description="The Chroma vector store.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Hybrid retrieval and fusion.")
    conversation: ConversationSettings = Field(
        default_factory=ConversationSettings, description="Follow-up resolution."
    )
    generator: GeneratorSettings = Field(default_factory=GeneratorSettings, description="The answer generator.")
    evidence: EvidenceSettings = Field(
        default_factory=EvidenceSettings, description="Sentence ranking and the answer/abstain decision."
    )
    verify: VerifySettings = Field(default_factory=VerifySettings, description="The support judge.")
    prompts: PromptSettings = Field(default_factory=PromptSettings, description="Prompt files.")
    safety: SafetySettings = Field(default_factory=SafetySettings, description="Input limits and safety texts.")
    ui: UISettings = Field(default_factory=UISettings, description="The chat page.")
    eval: EvalSettings = Field(default_factory=EvalSettings, description="The grounding evaluation.")

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        """Evidence thresholds used to live under [generator]; old config files keep working."""
        if isinstance(data, dict) and isinstance(data.get("generator"), dict):
            generator = dict(data["generator"])
            evidence = dict(data.get("evidence") or {})
            for key in MOVED_TO_EVIDENCE & generator.keys():
                evidence.setdefault(key, generator.pop(key))
            for key in RETIRED & generator.keys():
                generator.pop(key)
            for old, new in RENAMED.items():
                if old in generator:
                    generator.setdefault(new, generator.pop(old))
            data = {**data, "generator": generator, **({"evidence": evidence} if evidence else {})}
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats files: operators override a deployed config without editing it.
        return (env_settings, init_settings)

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.root / path)

    def fingerprint(self) -> str:
        """Short hash of the effective config, recorded with feedback and eval runs."""
        data = self.model_dump(mode="json", exclude={"root"})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
