"""Answer generators behind one interface; `registry` maps provider names to classes.

`extractive` quotes the ranked evidence and needs no model. The chat-LLM providers (`llamacpp`,
`openai`) share `chat.ChatGenerator`, which lays out the chats (`chat_format`, `answer_prompt`)
and reads the replies back (`reply_parsing`), so they differ only in how text is streamed;
`gguf` finds and checks the model files llama.cpp loads.
"""

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
