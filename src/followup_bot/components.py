"""The parts the stages call, built once per process from the settings.

Providers are chosen by name through their registries (generators, judges), so swapping one is
a config change. Building the components loads the embedding model, opens (and if needed fills)
the store, and builds each article's indexes, which is why it happens once, at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from followup_bot.embeddings import Embedder, SentenceTransformerEmbeddings
from followup_bot.evidence import AbstentionModel
from followup_bot.framing import Framing
from followup_bot.generators import Generator, create_generator
from followup_bot.generators.extractive import ExtractiveGenerator
from followup_bot.library import ArticleIndex, Library, Progress
from followup_bot.models import GeneratorInfo, Turn
from followup_bot.prompts import PromptLibrary
from followup_bot.settings import Settings
from followup_bot.triage import SafetyTriage
from followup_bot.triage.classifier import TriageClassifier, TriageModel
from followup_bot.verify import HeuristicJudge, SupportJudge
from followup_bot.verify.judge import VectorCache
from followup_bot.verify.llm_judge import LLMJudge

# An LLM's rewrite of a follow-up into a standalone question (None when it has nothing better).
StandaloneRewriter = Callable[[str, list[Turn]], "str | None"]


@dataclass(frozen=True)
class Components:
    settings: Settings
    embedder: Embedder
    library: Library
    generator: Generator
    fallback: ExtractiveGenerator
    judge: SupportJudge
    triage: SafetyTriage
    framing: Framing
    prompts: PromptLibrary
    rewrite_standalone: StandaloneRewriter | None = None
    _judges: dict[str, SupportJudge] = field(default_factory=dict, repr=False, init=False)

    def article(self, article_id: str | None = None) -> ArticleIndex:
        return self.library.get(article_id)

    def judge_for(self, index: ArticleIndex) -> SupportJudge:
        """The support judge weighing words by this article's idf (one per article, sharing one vector cache)."""
        judge = self._judges.get(index.id)
        if judge is None:
            judge = build_judge(self.settings, self.embedder, self.generator, index.terms.weights.idf, self.vectors)
            self._judges[index.id] = judge
        return judge

    @property
    def vectors(self) -> VectorCache:
        judge = self.judge.fallback if isinstance(self.judge, LLMJudge) else self.judge
        assert isinstance(judge, HeuristicJudge) and judge.vectors is not None
        return judge.vectors

    @property
    def generator_info(self) -> GeneratorInfo:
        return GeneratorInfo(provider=self.generator.name, model=self.generator.model)


def load_abstention_model(settings: Settings) -> AbstentionModel | None:
    """The answer/abstain model named by `evidence.abstention_model` ('builtin', a path, or 'rule' for none)."""
    choice = settings.evidence.abstention_model
    if choice == "rule":
        return None
    path = Path(__file__).with_name("abstention_model.json") if choice == "builtin" else settings.resolve(Path(choice))
    return AbstentionModel.load(path)


def load_triage_classifier(settings: Settings, embedder: Embedder) -> TriageClassifier | None:
    """The learned triage model named by `safety.triage_model` ('builtin', a path, or 'rules' for none).

    It reads the message's query vector, which retrieval computes anyway (cached), so the model
    adds about a millisecond to a question rather than a second embedding.
    """
    choice = settings.safety.triage_model
    if choice == "rules":
        return None
    path = Path(__file__).with_name("triage_model.json") if choice == "builtin" else settings.resolve(Path(choice))
    model = TriageModel.load(path, embedder.dimension)
    if settings.embeddings.query_prefix:  # the model was trained on plain vectors: do not reuse prefixed ones
        return TriageClassifier(model, embedder.encode, settings.retrieval.max_query_words)
    return TriageClassifier(
        model, lambda texts: np.stack([embedder.query_vector(t) for t in texts]), settings.retrieval.max_query_words
    )


def build_judge(
    settings: Settings,
    embedder: Embedder,
    generator: Generator,
    idf: Callable[[str], float] | None = None,
    vectors: VectorCache | None = None,
) -> SupportJudge:
    """The heuristic judge, or the LLM judge behind its strict checks when configured and available."""
    v = settings.verify
    heuristic = HeuristicJudge(
        v.support_threshold,
        embedder.encode,
        idf,
        lexical_weight=v.lexical_weight,
        part_margin=v.part_margin,
        cache_size=v.cache_size,
        vectors=vectors,
    )
    judge_support = getattr(generator, "judge_support", None)
    if v.judge == "llm" and judge_support is not None:
        return LLMJudge(generator, fallback=heuristic)  # type: ignore[arg-type]
    return heuristic


def build_components(settings: Settings, *, auto_ingest: bool = True, progress: Progress | None = None) -> Components:
    embedder = SentenceTransformerEmbeddings(settings.embeddings)
    library = Library(settings, embedder, load_abstention_model(settings), auto_ingest=auto_ingest, progress=progress)
    library.get()  # the default article is ready (ingested if needed) before the first reader arrives
    prompts = PromptLibrary(settings.resolve(settings.prompts.dir))
    generator = create_generator(
        settings.generator.provider, settings=settings, prompts=prompts, model=settings.generator.model
    )
    rewrite = getattr(generator, "standalone_question", None) if settings.generator.standalone_with_llm else None
    components = Components(
        settings=settings,
        embedder=embedder,
        library=library,
        generator=generator,
        fallback=ExtractiveGenerator(),
        judge=build_judge(settings, embedder, generator),
        triage=SafetyTriage(settings.safety, load_triage_classifier(settings, embedder)),
        framing=Framing(prompts, settings.safety),
        prompts=prompts,
        rewrite_standalone=rewrite,
    )
    # Warm the query path once so the first reader does not pay for lazy initialisation.
    embedder.query_vector("warm up")
    return components
