"""The facade every interface uses: `Assistant.from_settings()`, `ask`, `stream`.

It builds the components once (model, store, indexes), ingests when the index is missing or
stale (so `make run` on a fresh clone just works), and turns a chain `State` into an `Answer`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from followup_bot.chain import State, answer_text, build_chain, key_terms_known
from followup_bot.citations import MarkerBook
from followup_bot.conversation import Standalone, resolve
from followup_bot.corpus import Manifest, load_manifest
from followup_bot.embeddings import SentenceTransformerEmbeddings
from followup_bot.evidence import AbstentionModel, SentenceRanker, TermWeights, WordVectors
from followup_bot.generators import Generator, create_generator
from followup_bot.generators.extractive import ExtractiveGenerator
from followup_bot.models import Answer, Chunk, DocumentRecord, GeneratorInfo, Passage, Turn, Verification
from followup_bot.prompts import PromptLibrary
from followup_bot.retrieval import HybridRetriever
from followup_bot.safety import Framing, SafetyTriage
from followup_bot.settings import Settings, load_settings
from followup_bot.store import ChunkStore, embedding_text
from followup_bot.text import SpellingCorrector, words
from followup_bot.verify import HeuristicJudge, SupportJudge


class InputError(ValueError):
    """Bad input from a caller (history, audience); interfaces show the message as is."""


def normalize_audience(audience: str | None) -> str:
    value = (audience or "clinician").strip().lower()
    return "patient" if value.startswith(("patient", "caregiver", "carer", "family")) else "clinician"


def parse_history(history: Any) -> list[Turn]:
    if history is None:
        return []
    if not isinstance(history, list):
        raise InputError("history must be a list of {role, content} messages")
    turns = []
    for i, item in enumerate(history):
        if (
            not isinstance(item, dict)
            or item.get("role") not in ("user", "assistant")
            or not isinstance(item.get("content"), str)
        ):
            raise InputError(f"history item {i} must be an object with role 'user' or 'assistant' and text content")
        turns.append(Turn(role=item["role"], content=item["content"][:8000]))
    return turns


@dataclass
class Components:
    settings: Settings
    manifest: Manifest
    records: dict[str, DocumentRecord]
    chunks: dict[str, Chunk]
    embedder: SentenceTransformerEmbeddings
    retriever: HybridRetriever
    ranker: SentenceRanker
    weights: TermWeights
    generator: Generator
    fallback: ExtractiveGenerator
    judge: SupportJudge
    triage: SafetyTriage
    framing: Framing
    prompts: PromptLibrary
    condenser: Any = None
    speller: SpellingCorrector | None = None

    def new_marker_book(self) -> MarkerBook:
        return MarkerBook(self.chunks, self.records)

    def condense(self, message: str, history: list[Turn]) -> Standalone:
        if self.speller is not None:
            message = self.speller.correct(message)
        heuristic = resolve(message, history, self.settings.conversation)
        if self.condenser is not None and heuristic.is_followup:
            try:
                rewritten = self.condenser(message, history)
            except Exception:  # noqa: BLE001 - condensation is an optional improvement; never fatal
                rewritten = None
            if rewritten:
                heuristic.question = rewritten
        return heuristic

    def frame(self, state: State) -> Answer:
        """Framing never depends on the generator: the disclaimer is always attached here."""
        disclaimer = self.framing.disclaimer(state.audience)
        triage = state.triage
        base: dict[str, Any] = {"disclaimer": disclaimer, "audience": state.audience, "timings_ms": state.timings}
        base["generator"] = GeneratorInfo(provider=self.generator.name, model=self.generator.model)
        if state.terminal is not None and triage is not None:
            kind = state.terminal
            if kind == "emergency":
                return Answer(
                    answer=self.framing.text("safety/emergency.md"),
                    refused=True,
                    refusal_reason="emergency",
                    standalone_question=triage.message,
                    triage="emergency",
                    **base,
                )
            if kind == "crisis":
                return Answer(
                    answer=self.framing.text("safety/crisis.md"),
                    refused=True,
                    refusal_reason="crisis",
                    standalone_question=triage.message,
                    triage="crisis",
                    **base,
                )
            if kind == "invalid_input":
                if triage.reason == "too_long":
                    text = self.framing.text(
                        "safety/too_long.md", length=triage.flags[0], limit=self.settings.safety.max_message_chars
                    )
                else:
                    text = self.framing.text("safety/invalid_input.md")
                return Answer(answer=text, refused=True, refusal_reason="invalid_input", triage="invalid_input", **base)
            if kind == "injection_only":
                return Answer(
                    answer=self.framing.text("safety/out_of_scope.md"),
                    refused=True,
                    refusal_reason="out_of_scope",
                    notice=self.framing.text("safety/injection.md"),
                    triage="injection",
                    **base,
                )
            name = "safety/greeting.md" if kind == "greeting" else "safety/thanks.md"
            return Answer(
                answer=self.framing.text(name), refused=False, standalone_question=triage.message, triage=kind, **base
            )

        assert triage is not None and state.standalone is not None
        base["standalone_question"] = state.standalone.question
        base["passages"] = state.passages
        notice = self.framing.text("safety/injection.md") if triage.injection else None
        evidence = state.evidence
        verified = state.verified
        if (evidence is not None and evidence.abstain) or verified is None or not verified.sentences:
            known = key_terms_known(evidence, self.weights.known)
            reason = "not_in_sources" if known else "out_of_scope"
            text = self.framing.text("safety/abstain.md" if known else "safety/out_of_scope.md")
            if triage.personal_dose:
                text = self.framing.text("safety/personal_abstain.md") + " " + text
            verification = verified.record if verified else Verification()
            return Answer(
                answer=text,
                refused=True,
                refusal_reason=reason,
                related=state.passages[:3],
                notice=notice,
                verification=verification,
                triage="personal_dose" if triage.personal_dose else None,
                **base,
            )
        draft = state.draft
        assert draft is not None
        text = answer_text([(s.text, s.citations) for s in verified.sentences])
        if triage.personal_dose:
            text = self.framing.text("safety/personal_dose.md") + " " + text
        book = state.extra["book"]
        used = {c.marker for s in verified.sentences for c in s.citations}
        citations = [c for c in book.citations if c.marker in used]
        base["generator"] = GeneratorInfo(
            provider=draft.provider, model=draft.model, fallback=draft.fallback, note=draft.note
        )
        if draft.first_token_ms is not None:
            state.timings["first_token"] = round(draft.first_token_ms, 2)
        return Answer(
            answer=text,
            citations=citations,
            refused=False,
            verification=verified.record,
            notice=notice,
            triage="personal_dose" if triage.personal_dose else None,
            **base,
        )


class Assistant:
    def __init__(self, components: Components) -> None:
        self.components = components
        self.settings = components.settings
        self.chain = build_chain(components)

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, auto_ingest: bool = True, progress: Any = None
    ) -> Assistant:
        settings = settings or load_settings()
        manifest = load_manifest(settings.resolve(settings.corpus.dir), settings.corpus.manifest)
        embedder = SentenceTransformerEmbeddings(settings.embeddings)
        store = ChunkStore(settings, embedder)
        scanned = store.scan(manifest)
        live = store.live_hashes()
        if {d: h for d, (_, _, h) in scanned.items()} != live:
            if not auto_ingest:
                from followup_bot.store import StoreError

                raise StoreError("the index is missing or out of date; run `followup-bot ingest`")
            store.ingest(manifest, progress=progress)
        store.check_model(embedder)
        records = {doc_id: rec for doc_id, (rec, _, _) in scanned.items()}
        chunk_list = store.live_chunks()
        chunks = {c.chunk_id: c for c in chunk_list}
        contexts = [embedding_text(c, records.get(c.source_id)) for c in chunk_list]
        weights = TermWeights(chunk_list, records)
        chunk_vectors = store.chunk_vectors()
        retriever = HybridRetriever(
            chunk_list,
            contexts,
            chunk_vectors,
            store.vectorstore(embedder),
            sorted(set(store.live_hashes().values())),
            records,
            settings.retrieval,
        )
        vocabulary = {
            w
            for c in chunk_list
            for w in words(c.text + " " + " ".join(c.heading_path))
            if len(w) > 2 and not w.isdigit()
        }
        word_vectors = WordVectors(embedder.encode, vocabulary)
        ranker = SentenceRanker(
            chunks,
            store.sentence_vectors(),
            records,
            weights,
            settings.generator,
            word_vectors,
            chunk_vectors,
            load_abstention_model(settings),
        )
        prompts = PromptLibrary(settings.resolve(settings.prompts.dir))
        generator = create_generator(
            settings.generator.provider, settings=settings, prompts=prompts, model=settings.generator.model
        )
        judge = build_judge(settings, embedder, weights, generator)
        title = manifest.title or (manifest.article().title if manifest.article() else "the article")
        components = Components(
            settings=settings,
            manifest=manifest,
            records=records,
            chunks=chunks,
            embedder=embedder,
            retriever=retriever,
            ranker=ranker,
            weights=weights,
            generator=generator,
            fallback=ExtractiveGenerator(),
            judge=judge,
            triage=SafetyTriage(settings.safety),
            framing=Framing(prompts, settings.safety, title),
            prompts=prompts,
            condenser=getattr(generator, "condense", None) if settings.generator.condense_with_llm else None,
            speller=SpellingCorrector(vocabulary),
        )
        # Warm the query path once so the first reader does not pay for lazy initialisation.
        embedder.query_vector("warm up")
        return cls(components)

    @property
    def title(self) -> str:
        return self.components.framing.title

    def banner(self) -> str:
        return self.components.framing.banner()

    def disclaimer(self, audience: str = "clinician") -> str:
        return self.components.framing.disclaimer(normalize_audience(audience))

    def _state(self, question: Any, history: Any, audience: str | None) -> State:
        return State(
            message=question if isinstance(question, str) else "",
            history=parse_history(history),
            audience=normalize_audience(audience),
        )

    def ask(self, question: str, history: list[dict[str, str]] | None = None, audience: str = "clinician") -> Answer:
        t0 = time.perf_counter()
        state = self._state(question, history, audience)
        if not isinstance(question, str):
            state.message = ""
        result: State = self.chain.invoke(state)
        answer: Answer = result.extra["answer"]
        answer.timings_ms["total"] = round((time.perf_counter() - t0) * 1000, 2)
        return answer

    def stream(
        self, question: str, history: list[dict[str, str]] | None = None, audience: str = "clinician"
    ) -> Iterator[str | Answer]:
        """Partial text as it is produced, then the final (verified) Answer."""
        tokens: queue.Queue = queue.Queue()
        state = self._state(question, history, audience)
        state.on_token = tokens.put
        box: dict[str, Any] = {}
        t0 = time.perf_counter()

        def run() -> None:
            try:
                box["state"] = self.chain.invoke(state)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                box["error"] = exc
            finally:
                tokens.put(None)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        while True:
            item = tokens.get()
            if item is None:
                break
            yield item
        worker.join()
        if "error" in box:
            raise box["error"]
        answer: Answer = box["state"].extra["answer"]
        answer.timings_ms["total"] = round((time.perf_counter() - t0) * 1000, 2)
        yield answer

    def related_only(self, passages: list[Passage]) -> list[Passage]:
        return passages


def load_abstention_model(settings: Settings) -> AbstentionModel | None:
    choice = settings.generator.abstention_model
    if choice == "rule":
        return None
    path = Path(__file__).with_name("abstention_model.json") if choice == "builtin" else settings.resolve(Path(choice))
    try:
        return AbstentionModel.load(path)
    except (OSError, ValueError, KeyError) as exc:
        from followup_bot.settings import ConfigError

        raise ConfigError(f"generator.abstention_model = {choice!r}: cannot load {path} ({exc})") from None


def build_judge(
    settings: Settings, embedder: SentenceTransformerEmbeddings, weights: TermWeights, generator: Generator
) -> SupportJudge:
    if settings.verify.judge == "llm" and hasattr(generator, "judge_support"):
        from followup_bot.generators.llm_judge import LLMJudge

        return LLMJudge(
            generator, fallback=HeuristicJudge(settings.verify.support_threshold, embedder.encode, weights.idf)
        )
    return HeuristicJudge(settings.verify.support_threshold, embedder.encode, weights.idf)
