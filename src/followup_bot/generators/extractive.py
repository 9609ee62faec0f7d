"""The default generator: an answer made of verbatim sentences from the retrieved passages.

Every sentence is a quote, so it is grounded by construction, and the answer takes well under a
second on a 2-core CPU. The sentences were chosen by the evidence ranker (best first, caveats
after, no near-duplicates); this class only turns them into a draft.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from followup_bot.generators.base import Draft, DraftSentence, GenerationRequest


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, model: str = "", **_: Any) -> None:
        self.model = "verbatim-sentences"

    def generate(self, request: GenerationRequest) -> Draft:
        picked = request.evidence.answer or request.evidence.chosen
        sentences = [
            DraftSentence(text=s.quoted, refs=[(s.chunk_id, s.index)], verbatim=True, spans=[s.clause]) for s in picked
        ]
        return Draft(sentences=sentences, provider=self.name, model=self.model, abstained=not sentences)

    def stream(self, request: GenerationRequest) -> Iterator[str | Draft]:
        draft = self.generate(request)
        for sentence in draft.sentences:
            yield sentence.text + " "
        yield draft
