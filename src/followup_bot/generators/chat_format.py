"""How a chat is laid out before a provider sends it, and what it costs in tokens.

A chat is a list of role/content messages; each provider turns it into tokens with the model's
own template (ChatML for SmolLM2 and Qwen, the server's for OpenAI-compatible ones), so nothing
here knows about special tokens. The answer chat is built in `answer_prompt`; the two short
chats, rewriting a follow-up as a standalone question and judging one claim against one passage,
are laid out here. `estimate_tokens` is the budget's fallback when a provider cannot count with
the model's own tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from followup_bot.models import Turn
    from followup_bot.prompts import PromptLibrary

Message = dict[str, str]
TokenCounter = Callable[[str], int]

# llama.cpp holds the judge to these two words; other servers ignore it and parse_judgement reads the reply.
JUDGE_GRAMMAR = 'root ::= "SUPPORTED" | "NOT_SUPPORTED"'


def estimate_tokens(text: str) -> int:
    """Rough count (English prose is ~4 characters a token; 3.5 keeps the budget on the safe side)."""
    return int(len(text) / 3.5) + 1


def build_standalone_messages(
    message: str, history: list[Turn], prompts: PromptLibrary, max_turns: int = 6
) -> list[Message]:
    """The rewrite chat: the last turns as `User:` / `Assistant:` lines, then the new message."""
    turns = history[-2 * max_turns :]
    lines = []
    for t in turns:
        speaker = "User" if t.role == "user" else "Assistant"
        lines.append(f"{speaker}: {' '.join(t.content.split())[:600]}")
    text = prompts.render("llm/standalone.md", history="\n".join(lines) or "(none)", message=message.strip())
    return [{"role": "user", "content": text}]


def build_judge_messages(claim: str, passage: str, prompts: PromptLibrary) -> list[Message]:
    """The judge chat: one claim and one passage, answered with SUPPORTED or NOT_SUPPORTED."""
    return [{"role": "user", "content": prompts.render("llm/judge.md", claim=claim.strip(), passage=passage.strip())}]


__all__ = [
    "JUDGE_GRAMMAR",
    "Message",
    "TokenCounter",
    "build_judge_messages",
    "build_standalone_messages",
    "estimate_tokens",
]
