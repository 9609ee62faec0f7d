"""One typed settings tree, loaded in a fixed order.

Order (later wins): built-in defaults < `followup_bot.toml` < `--config FILE` < `--preset NAME`
< environment variables `FOLLOWUP_BOT_<SECTION>__<FIELD>`. Developers swap models, retrieval
settings and prompts here, never in code. Errors name the key and the file it came from,
because a config mistake should cost one glance, not a debugging session.
"""

from followup_bot.errors import ConfigError
from followup_bot.settings.loading import CONFIG_FILENAME, find_root, load_settings, preset_names, read_toml
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
from followup_bot.settings.tree import ENV_PREFIX, Settings

__all__ = [
    "CONFIG_FILENAME",
    "ENV_PREFIX",
    "ChunkingSettings",
    "ConfigError",
    "ConversationSettings",
    "CorpusSettings",
    "EmbeddingSettings",
    "EvalSettings",
    "EvidenceSettings",
    "GeneratorSettings",
    "LibrarySettings",
    "PromptSettings",
    "RetrievalSettings",
    "SafetySettings",
    "Settings",
    "StoreSettings",
    "UISettings",
    "VerifySettings",
    "find_root",
    "load_settings",
    "preset_names",
    "read_toml",
]
