"""In-process GGUF models through llama-cpp-python.

The model is loaded lazily, once, on the first call (loading Qwen 1.5B takes seconds and ~2 GB,
and a chat page that only serves extractive fallbacks should not pay for it). Chat formatting
uses the template stored in the GGUF file (ChatML for SmolLM2 and Qwen). One `Llama` context is
not thread-safe, so calls are serialised with a lock.

Timeouts: the chat page must never hang on a slow CPU, so each call has a deadline. It is
checked between streamed tokens, and also inside llama.cpp through its abort callback, which
stops a long prompt evaluation mid-way (first tokens of Qwen 1.5B can take 10+ s). The callback
is a Python function that ggml calls at every graph node (~600 times per token, each taking the
GIL), so it is installed only for the prompt evaluation and removed once the first token is out.
Either way the caller gets a GeneratorError and the chain serves the extractive answer instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

# The runtime is optional (`make install-llm`); without it this import fails and the registry
# turns the ImportError into a clear "needs a runtime that is not installed" message.
import llama_cpp
from llama_cpp import Llama, LlamaGrammar

from followup_bot.errors import GeneratorError
from followup_bot.generators import gguf
from followup_bot.generators.chat import ChatGenerator
from followup_bot.generators.chat_format import Message

if TYPE_CHECKING:
    from llama_cpp.llama_types import ChatCompletionRequestMessage, CreateChatCompletionStreamResponse


class LlamaCppGenerator(ChatGenerator):
    name = "llamacpp"

    def __init__(self, settings: Any = None, prompts: Any = None, model: str = "", **kwargs: Any) -> None:
        super().__init__(settings=settings, prompts=prompts, model=model, **kwargs)
        if not self.model:
            raise GeneratorError(
                "generator.model is empty: give a .gguf path or a packaged model name (smollm2, qwen2.5-coder-1.5b)"
            )
        self.model = Path(self.model).name if self.model.endswith(".gguf") else self.model
        self._model_setting = model or self.gen.model
        self._llm: Llama | None = None
        self._path: Path | None = None
        self._lock = threading.Lock()  # one generation at a time on the one context
        self._load_lock = threading.Lock()  # count_tokens may load the model outside `_lock`
        self._deadline = float("inf")
        # Kept on the instance: ctypes must not garbage-collect a callback llama.cpp still holds.
        self._abort_cb = llama_cpp.ggml_abort_callback(self._should_abort)
        self._no_abort_cb = llama_cpp.ggml_abort_callback(0)
        self._grammars: dict[str, LlamaGrammar] = {}
        self._abort_on = False

    # -- loading --------------------------------------------------------------------------------

    @property
    def model_path(self) -> Path:
        if self._path is None:
            self._path = gguf.ensure_model(self._model_setting, self.settings)
        return self._path

    def _load(self) -> Llama:
        if self._llm is not None:
            return self._llm
        with self._load_lock:
            if self._llm is not None:
                return self._llm
            path = self.model_path
            try:
                llm = Llama(
                    model_path=str(path),
                    n_ctx=self.gen.n_ctx,
                    n_threads=self.gen.n_threads,
                    n_threads_batch=self.gen.n_threads,
                    n_gpu_layers=0,
                    seed=0,
                    verbose=False,
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise GeneratorError(f"llama.cpp could not load {path}: {exc}") from None
            self._llm = llm
            return llm

    def warm_up(self) -> None:
        """Load the model now (e.g. at server start) instead of on the first question."""
        with self._lock:
            self._load()

    def _should_abort(self, _data: Any) -> bool:
        return time.monotonic() > self._deadline

    def count_tokens(self, text: str) -> int:
        try:
            llm = self._load()
            return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        except GeneratorError:
            raise
        except Exception:  # noqa: BLE001 - counting is for the budget only; estimate instead
            return super().count_tokens(text)

    def _grammar(self, text: str) -> LlamaGrammar:
        if text not in self._grammars:
            self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]

    # -- the one call ---------------------------------------------------------------------------

    def _chat(
        self, messages: list[Message], max_tokens: int, deadline: float, grammar: str | None = None
    ) -> Iterator[str]:
        timeout = self.gen.timeout_s
        if not self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise GeneratorError(f"llamacpp was busy for the whole {timeout:g} s timeout")
        try:
            llm = self._load()  # loading is not counted against the answer's deadline
            self._deadline = deadline
            self._set_abort(True)  # guards the prompt evaluation, the long part before the first token
            response = llm.create_chat_completion(
                # Our {"role", "content"} dicts are the system/user/assistant members of llama.cpp's message union.
                messages=cast("list[ChatCompletionRequestMessage]", messages),
                stream=True,
                max_tokens=max_tokens,
                temperature=self.gen.temperature,
                grammar=self._grammar(grammar) if grammar else None,
            )
            # stream=True always returns the chunk iterator; the declared union also covers stream=False.
            stream = cast("Iterator[CreateChatCompletionStreamResponse]", response)
            try:
                for chunk in stream:
                    self._set_abort(False)  # from here the deadline is checked between tokens
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if isinstance(delta, str) and delta:  # a role-only or empty delta carries no text
                        yield delta
                    if time.monotonic() > deadline:
                        raise GeneratorError(f"llamacpp timed out after {timeout:g} s (generator.timeout_s)")
            finally:
                if isinstance(stream, Generator):  # closing it stops llama.cpp's token loop when we leave early
                    stream.close()
        except GeneratorError:
            self._reset()
            raise
        except RuntimeError as exc:
            self._reset()
            if time.monotonic() > deadline:
                raise GeneratorError(f"llamacpp timed out after {timeout:g} s (generator.timeout_s)") from None
            raise GeneratorError(f"llamacpp failed: {exc}") from None
        except ValueError as exc:  # e.g. the prompt does not fit n_ctx
            self._reset()
            raise GeneratorError(f"llamacpp rejected the request: {exc}") from None
        finally:
            self._set_abort(False)
            self._deadline = float("inf")
            self._lock.release()

    def _set_abort(self, on: bool) -> None:
        if self._llm is not None and self._abort_on != on:
            llama_cpp.llama_set_abort_callback(self._llm._ctx.ctx, self._abort_cb if on else self._no_abort_cb, None)
            self._abort_on = on

    def _reset(self) -> None:
        """After an abort the KV cache may hold a half-evaluated prompt; start clean next time."""
        if self._llm is not None:
            try:
                self._llm.reset()
            except Exception:  # noqa: BLE001 - best effort; the next call re-evaluates anyway
                pass
