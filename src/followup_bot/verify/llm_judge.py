"""A support judge that asks the configured LLM, behind the heuristic's strict vetoes.

A small model reads paraphrase better than word overlap does, but it is also the thing we are
guarding against: it can call an invented dose "SUPPORTED". So the heuristic judge always runs
first, and its strict checks (a number, a negation, a drug name or a population that the passage
does not have) veto the claim whatever the LLM says. By default ("confirm") the LLM only re-checks
what the heuristic accepts, so it can remove an invention that looks similar to its passage but
never add one, and the calls (1–4 s each on a CPU) stay few. Verbatim sentences are not asked
about. Any LLM failure falls back to the heuristic verdict for that pair. Vetoes are the
heuristic's reasons marked `strict`, never a match on their wording; the number and dose-role
checks run here too, so a judge configured without them still keeps them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Protocol

from followup_bot.verify.checks import Reason, dose_role_mismatch, numbers_check
from followup_bot.verify.judge import Judgement, SupportJudge


class SupportsJudging(Protocol):
    def judge_support(self, claim: str, passage: str) -> bool: ...


class LLMJudge:
    name = "llm"

    def __init__(
        self,
        generator: SupportsJudging,
        fallback: SupportJudge,
        *,
        mode: str = "confirm",
        min_score: float = 0.2,
        cache_size: int = 2048,
    ) -> None:
        """`mode="confirm"`: the LLM re-checks what the heuristic accepts, and can only remove.
        `mode="decide"`: the LLM also decides pairs the heuristic found too dissimilar (it can
        accept paraphrases), at many more calls: the verifier judges every sentence of a cited
        passage, so on a CPU "confirm" is the default.
        """
        if mode not in ("confirm", "decide"):
            raise ValueError(f"LLMJudge mode must be 'confirm' or 'decide', not {mode!r}")
        self.generator = generator
        self.fallback = fallback
        self.mode = mode
        self.min_score = min_score
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._lock = threading.Lock()
        self.calls = 0
        self.errors = 0

    @staticmethod
    def strict_veto(claim: str, passage: str, heuristic: Judgement) -> list[Reason]:
        """The hard mismatches: the heuristic's strict reasons, plus the number and dose-role checks."""
        reasons = heuristic.strict if not heuristic.supported else []
        reasons = [*reasons, *numbers_check(claim, passage)[:1], *dose_role_mismatch(claim, passage)]
        return list(dict.fromkeys(reasons))  # the same check may also be among the heuristic's reasons

    def _ask(self, claim: str, passage: str) -> bool:
        key = (claim, passage)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            self.calls += 1
        verdict = bool(self.generator.judge_support(claim, passage))
        with self._lock:
            self._cache[key] = verdict
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return verdict

    def judge(self, claim: str, passage: str) -> Judgement:
        heuristic = self.fallback.judge(claim, passage)
        if heuristic.supported and heuristic.score >= 1.0:
            return heuristic  # a verbatim sentence of the passage: nothing for the LLM to add
        veto = self.strict_veto(claim, passage, heuristic)
        if veto:
            return Judgement(False, heuristic.score, veto)
        if not heuristic.supported and (self.mode == "confirm" or heuristic.score < self.min_score):
            return heuristic
        try:
            supported = self._ask(claim, passage)
        except Exception as exc:  # noqa: BLE001 - a judge failure must not fail the answer; the heuristic decides
            self.errors += 1
            return Judgement(
                heuristic.supported,
                heuristic.score,
                [
                    *heuristic.reasons,
                    Reason("llm_unavailable", f"LLM judge unavailable ({exc}); heuristic verdict", strict=False),
                ],
            )
        if supported:
            return Judgement(True, round(0.5 + heuristic.score / 2, 4), [])  # keeps the heuristic order among supported
        return Judgement(False, heuristic.score, [Reason("llm", "the LLM judge said NOT_SUPPORTED")])

    def stats(self) -> dict[str, Any]:
        return {"calls": self.calls, "errors": self.errors, "cached": len(self._cache)}
