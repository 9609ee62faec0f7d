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
from followup_bot.errors import InputError
from followup_bot.library import Progress
from followup_bot.models import Answer, Audience, Chunk, DocumentRecord, GeneratorInfo, Passage, Turn
from followup_bot.retrieval import Query
from followup_bot.settings import Settings, load_settings
from followup_bot.state import Request, State
from followup_bot.verify import SupportJudge


def normalize_audience(audience: Any) -> Audience:
    """'patient' (also caregivers and family) or 'clinician', the default."""
    value = (audience if isinstance(audience, str) else "clinician").strip().lower() or "clinician"
    return "patient" if value.startswith(("patient", "caregiver", "carer", "family")) else "clinician"


def parse_history(history: Any) -> list[Turn]:
    """The conversation so far as turns; a wrong shape is an `InputError` naming the bad item."""
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
    def _request(self, question: Any, history: Any, audience: Any, article: str | None) -> Request:
        index = self.components.article(article)
        message = question if isinstance(question, str) else ""
        return Request(message, tuple(parse_history(history)), normalize_audience(audience), index.id)

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
        return self._finish(pipeline.run(self._request(question, history, audience, article), self.components), t0)

    def stream(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        audience: str = "clinician",
        article: str | None = None,
    ) -> Iterator[str | Answer]:
        """Partial text as it is produced, then the final (verified) Answer."""
        t0 = time.perf_counter()
        request = self._request(question, history, audience, article)
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

    @property
    def title(self) -> str:
        return self.components.article().title

    def banner(self, article: str | None = None) -> str:
        return self.components.framing.banner(self.components.article(article).title)

    def disclaimer(self, audience: str = "clinician") -> str:
        return self.components.framing.disclaimer(normalize_audience(audience))

    def framing_texts(self) -> list[str]:
        """Texts an answer may carry beside its quotes (the personal-dose preface and the like)."""
        return self.components.framing.texts(self.title)

    @property
    def generator_info(self) -> GeneratorInfo:
        return self.components.generator_info

    def judge(self, article: str | None = None) -> SupportJudge:
        """The support judge, as verification uses it for this article (evaluation scores citations with it)."""
        return self.components.judge_for(self.components.article(article))
