"""Prompts in, drafts out: what every chat-LLM provider shares.

A provider subclasses `ChatGenerator` and implements one method, `_chat`, that streams text for a
list of chat messages and raises GeneratorError on timeouts and connection errors. Answers,
standalone rewrites and support judgements all go through that one call, so the in-process and
the server providers build the same prompts, read replies the same way and fail the same way.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from followup_bot.generators.answer_prompt import AnswerPrompt, build_answer_prompt
from followup_bot.generators.base import Draft, GenerationRequest
from followup_bot.generators.chat_format import (
    JUDGE_GRAMMAR,
    Message,
    build_judge_messages,
    build_standalone_messages,
    estimate_tokens,
)
from followup_bot.generators.reply_parsing import clean_standalone, parse_answer, parse_judgement

if TYPE_CHECKING:
    from followup_bot.models import Turn
    from followup_bot.prompts import PromptLibrary
    from followup_bot.settings import Settings


class ChatGenerator:
    """generate/stream/standalone_question/judge_support on top of one streaming chat call.

    Subclasses implement `_chat(messages, max_tokens, deadline, grammar)` yielding text deltas and
    raising GeneratorError on timeouts and connection errors; everything else lives here so both
    providers behave the same.
    """

    name = "chat"

    def __init__(
        self, settings: Settings | None = None, prompts: PromptLibrary | None = None, model: str = "", **_: Any
    ) -> None:
        from followup_bot.prompts import PromptLibrary
        from followup_bot.settings import load_settings

        self.settings = settings if settings is not None else load_settings()
        self.gen = self.settings.generator
        self.prompts = (
            prompts if prompts is not None else PromptLibrary(self.settings.resolve(self.settings.prompts.dir))
        )
        self.model = model or self.gen.model

    # -- provider hooks ------------------------------------------------------------------------

    def _chat(
        self, messages: list[Message], max_tokens: int, deadline: float, grammar: str | None = None
    ) -> Iterator[str]:
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    # -- answers --------------------------------------------------------------------------------

    def build_prompt(self, request: GenerationRequest) -> AnswerPrompt:
        return build_answer_prompt(
            request,
            self.prompts,
            n_ctx=self.gen.n_ctx,
            max_tokens=self.gen.max_tokens,
            count=self.count_tokens,
            max_passages=getattr(self.gen, "max_passages", None),
        )

    def stream(self, request: GenerationRequest) -> Iterator[str | Draft]:
        """Text deltas as the model writes them (unverified), then the parsed Draft."""
        prompt = self.build_prompt(request)
        t0 = time.perf_counter()
        deadline = min(time.monotonic() + self.gen.timeout_s, request.deadline or float("inf"))
        first: float | None = None
        parts: list[str] = []
        for delta in self._chat(prompt.messages, self.gen.max_tokens, deadline):
            if not delta:
                continue
            if first is None:
                first = (time.perf_counter() - t0) * 1000
            parts.append(delta)
            yield delta
        raw = "".join(parts)
        sentences, abstained = parse_answer(raw, prompt.labels, prompt.abstention)
        yield Draft(
            sentences=sentences,
            provider=self.name,
            model=self.model,
            abstained=abstained,
            raw_text=raw,
            first_token_ms=first,
            labels=prompt.labels,
        )

    def generate(self, request: GenerationRequest) -> Draft:
        draft: Draft | None = None
        for event in self.stream(request):
            if isinstance(event, Draft):
                draft = event
        assert draft is not None
        return draft

    def complete(
        self, messages: list[Message], max_tokens: int, grammar: str | None = None, timeout_s: float | None = None
    ) -> str:
        deadline = time.monotonic() + (timeout_s or self.gen.timeout_s)
        return "".join(self._chat(messages, max_tokens, deadline, grammar))

    # -- conversation and judging ---------------------------------------------------------------

    def standalone_question(self, message: str, history: list[Turn]) -> str | None:
        """A standalone question for a follow-up, or the message itself when it stands alone.

        `components.build_components` finds this method by its name when `generator.standalone_with_llm` is on.
        """
        if not history or not message.strip():
            return message
        messages = build_standalone_messages(
            message, history, self.prompts, self.settings.conversation.max_history_turns
        )
        return clean_standalone(self.complete(messages, 64), message, history)

    def judge_support(self, claim: str, passage: str) -> bool:
        """True when the model says SUPPORTED; raises GeneratorError when it says something else."""
        return parse_judgement(
            self.complete(build_judge_messages(claim, passage, self.prompts), 6, grammar=JUDGE_GRAMMAR)
        )


__all__ = ["ChatGenerator"]
