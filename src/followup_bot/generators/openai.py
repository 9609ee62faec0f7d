"""Any OpenAI-compatible server (llama.cpp server, vLLM, Ollama's /v1, OpenAI) via langchain-openai.

Base URL, model and the *name* of the API-key variable come from config, never the key itself.
Local servers need no key, so a missing variable means "not-needed". Retries are off: a reader
waiting on a chat page is better served by the extractive fallback at once than by a second
wait for a server that is down. Every failure becomes a GeneratorError whose message says what
happened (cannot connect, timed out, HTTP status), and the chain labels the fallback with it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator
from typing import Any
from urllib.parse import urlparse

import openai as openai_sdk
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from followup_bot.errors import GeneratorError
from followup_bot.generators.chat import ChatGenerator
from followup_bot.generators.chat_format import Message

NO_KEY = "not-needed"
_ROLES = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}


def _is_openai_cloud(base_url: str) -> bool:
    return (urlparse(base_url).hostname or "").endswith("openai.com")


class OpenAIGenerator(ChatGenerator):
    name = "openai"

    def __init__(self, settings: Any = None, prompts: Any = None, model: str = "", **kwargs: Any) -> None:
        super().__init__(settings=settings, prompts=prompts, model=model, **kwargs)
        if not self.gen.base_url:
            raise GeneratorError(
                "generator.base_url is empty; set it (or FOLLOWUP_BOT_GENERATOR__BASE_URL) to the server's /v1 URL"
            )
        self.model = self.model or "default"
        self.base_url = self.gen.base_url.rstrip("/")
        self._clients: dict[tuple[int, str | None], ChatOpenAI] = {}

    def _client(self, max_tokens: int, grammar: str | None = None) -> ChatOpenAI:
        """One client per (max_tokens, grammar): answers, standalone rewrites and judging differ only there."""
        key = (max_tokens, grammar)
        if key not in self._clients:
            extra: dict[str, Any] = {}
            if not _is_openai_cloud(self.base_url):
                # langchain-openai sends `max_completion_tokens`, which llama.cpp's server and
                # older vLLM/Ollama ignore; without `max_tokens` they would write to the context end.
                extra["max_tokens"] = max_tokens
                if grammar:
                    # llama.cpp's server constrains the reply with it; other servers ignore the
                    # field, and the reply is parsed either way (see parse_judgement).
                    extra["grammar"] = grammar
            # Keywords spelled as ChatOpenAI declares them (aliases, a SecretStr key), so the call type-checks with
            # and without the pydantic mypy plugin; `max_completion_tokens` is the alias of its `max_tokens` field.
            self._clients[key] = ChatOpenAI(
                model=self.model,
                base_url=self.base_url,
                api_key=SecretStr(os.environ.get(self.gen.api_key_env) or NO_KEY),
                timeout=self.gen.timeout_s,
                max_retries=0,
                temperature=self.gen.temperature,
                max_completion_tokens=max_tokens,
                extra_body=extra or None,
            )
        return self._clients[key]

    def _error(self, exc: BaseException, timeout_s: float) -> GeneratorError:
        if isinstance(exc, openai_sdk.APITimeoutError):
            return GeneratorError(f"{self.base_url} did not answer within {timeout_s:g} s (generator.timeout_s)")
        if isinstance(exc, openai_sdk.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            why = f": {cause}" if cause else ""
            return GeneratorError(f"cannot connect to {self.base_url}{why}")
        if isinstance(exc, openai_sdk.APIStatusError):
            detail = " ".join(str(exc.message).split())[:200]
            return GeneratorError(f"{self.base_url} answered HTTP {exc.status_code}: {detail}")
        return GeneratorError(f"the openai provider failed: {type(exc).__name__}: {exc}")

    def _chat(
        self, messages: list[Message], max_tokens: int, deadline: float, grammar: str | None = None
    ) -> Iterator[str]:
        chat: list[BaseMessage] = [_ROLES[m["role"]](content=m["content"]) for m in messages]
        stream = None
        try:
            stream = self._client(max_tokens, grammar).stream(chat)
            for chunk in stream:
                text = (
                    chunk.content
                    if isinstance(chunk.content, str)
                    else "".join(
                        part.get("text", "") if isinstance(part, dict) else str(part) for part in chunk.content
                    )
                )
                if text:
                    yield text
                if time.monotonic() > deadline:
                    raise GeneratorError(
                        f"{self.base_url} was still writing after {self.gen.timeout_s:g} s (generator.timeout_s)"
                    )
        except GeneratorError:
            raise
        except Exception as exc:  # noqa: BLE001 - any SDK/transport failure must become a fallback, not a crash
            raise self._error(exc, self.gen.timeout_s) from None
        finally:
            # BaseChatModel.stream is a generator (typed as an Iterator); closing it ends the HTTP stream early.
            if isinstance(stream, Generator):
                stream.close()
