"""The facade every interface uses: `Assistant.from_settings()`, `ask`, `stream`, and read-only views.

It builds the components once (model, store, indexes), ingesting when the index is missing or
stale so `make run` on a fresh clone just works, validates what callers pass in, and hands the
request to the pipeline. The CLI, the chat page, the evaluation runner and the benchmarks use
only the public methods below, never the components behind them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from followup_bot import pipeline
from followup_bot.components import Components, build_components
from followup_bot.errors import ArticleError, InputError
from followup_bot.inputs import normalize_audience, parse_article, parse_history, parse_question
from followup_bot.library import Progress
from followup_bot.models import Answer, Chunk, DocumentRecord, GeneratorInfo, Passage
from followup_bot.retrieval import Query
from followup_bot.settings import Settings, load_settings
from followup_bot.state import Request, State
from followup_bot.verify import SupportJudge


@dataclass(frozen=True)
class ArticleView:
    """What an interface may read about one article: its title, documents and passages."""

    id: str
    title: str
    records: Mapping[str, DocumentRecord]
    chunks: Mapping[str, Chunk]


class Assistant:
    def __init__(self, components: Components) -> None:
        self.components = components
        self.settings = components.settings

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, auto_ingest: bool = True, progress: Progress | None = None
    ) -> Assistant:
        settings = settings or load_settings()
        return cls(build_components(settings, auto_ingest=auto_ingest, progress=progress))

    # -- answering -------------------------------------------------------------------------------
    def _request(self, question: Any, history: Any, audience: Any, article: Any, *, build: bool = True) -> Request:
        """The validated request; any wrong input is one `InputError` (an unknown article included).

        Without `build` the article is only looked up in the library, its index is not built."""
        message = parse_question(question)
        turns = tuple(parse_history(history))
        who = normalize_audience(audience)
        try:
            requested = parse_article(article)
            article_id = self.components.article(requested).id if build else self.components.library.resolve(requested)
        except ArticleError as exc:
            raise InputError(str(exc)) from None
        return Request(message, turns, who, article_id)

    @staticmethod
    def _finish(state: State, t0: float) -> Answer:
        answer = state.answer
        assert answer is not None
        answer.timings_ms["total"] = round((time.perf_counter() - t0) * 1000, 2)
        return answer

    def ask(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        audience: str = "clinician",
        article: str | None = None,
    ) -> Answer:
        """Answer one message strictly from the article's documents (or say they do not answer it)."""
        t0 = time.perf_counter()
        try:
            request = self._request(question, history, audience, article)
        except InputError as exc:
            request = self._danger_despite_bad_input(question, audience, exc)
        return self._finish(pipeline.run(request, self.components), t0)

    def _danger_despite_bad_input(self, question: Any, audience: Any, error: InputError) -> Request:
        """A message in danger gets its safety reply even when the history, audience or article sent with it
        is unusable: the message alone (default article, no history) is triaged, and if it is an emergency or
        a crisis, that is the request answered. Otherwise the input error stands."""
        try:
            who = audience if audience in ("clinician", "patient") else "clinician"
            alone = self._request(question, None, who, None, build=False)
        except InputError:
            alone = None
        if alone is not None and pipeline.triage_only(alone, self.components).terminal in ("emergency", "crisis"):
            return alone
        raise error

    def triage(self, question: Any, history: Any = None, article: str | None = None) -> str | None:
        """What triage decides before any retrieval: "emergency", "crisis", "invalid_input", "greeting"…, or
        None when the question goes on to retrieval. `ask` would answer a non-None verdict without retrieving.

        Triage reads only the message and the conversation; `article` is checked (an unknown one is
        "invalid_input", as `ask` would refuse it) but its index is not built here."""
        try:
            request = self._request(question, history, "clinician", article, build=False)
        except InputError as exc:
            try:
                request = self._danger_despite_bad_input(question, "clinician", exc)
            except InputError:
                return "invalid_input"
        return pipeline.triage_only(request, self.components).terminal

    def stream(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        audience: str = "clinician",
        article: str | None = None,
    ) -> Iterator[str | Answer]:
        """Partial text as it is produced, then the final (verified) Answer."""
        t0 = time.perf_counter()
        try:
            request = self._request(question, history, audience, article)
        except InputError as exc:
            request = self._danger_despite_bad_input(question, audience, exc)
        for event in pipeline.events(request, self.components, stream=True):
            yield self._finish(event, t0) if isinstance(event, State) else event

    def retrieve(self, question: str, k: int | None = None, article: str | None = None) -> list[Passage]:
        """The passages hybrid retrieval finds for a question, best first (no answer is composed)."""
        index = self.components.article(article)
        query = Query(text=question, vector=self.components.embedder.query_vector(question))
        return index.retriever.retrieve(query, k=k or self.settings.retrieval.k)

    # -- read-only views -------------------------------------------------------------------------
    def article(self, article: str | None = None) -> ArticleView:
        index = self.components.article(article)
        return ArticleView(index.id, index.title, index.records, index.chunks)

    def articles(self) -> list[dict[str, Any]]:
        """Every article in the library: id, title and number of documents (no index is built)."""
        library = self.components.library
        out = []
        for article_id in library.ids():
            manifest = library.manifest(article_id)
            article = manifest.article()
            title = manifest.title or (article.title if article else "") or article_id
            out.append({"id": article_id, "title": title, "documents": len(manifest.documents)})
        return out

    @property
    def default_article(self) -> str:
        return self.components.library.default

    @property
    def title(self) -> str:
        return self.components.article().title

    def banner(self, article: str | None = None) -> str:
        return self.components.framing.banner(self.components.article(article).title)

    def disclaimer(self, audience: str = "clinician") -> str:
        try:
            who = normalize_audience(audience)
        except InputError:
            who = "clinician"  # the disclaimer is always shown, whatever the caller passed
        return self.components.framing.disclaimer(who)

    def framing_texts(self) -> list[str]:
        """Texts an answer may carry beside its quotes (the personal-dose preface and the like)."""
        return self.components.framing.texts(self.title)

    @property
    def generator_info(self) -> GeneratorInfo:
        return self.components.generator_info

    def clear_caches(self) -> None:
        """Forget cached query vectors, so benchmarks time every question as new, whatever it repeats."""
        clear = getattr(self.components.embedder, "clear_cache", None)
        if clear is not None:
            clear()

    def judge(self, article: str | None = None) -> SupportJudge:
        """The support judge, as verification uses it for this article (evaluation scores citations with it)."""
        return self.components.judge_for(self.components.article(article))
