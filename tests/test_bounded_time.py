"""No message takes long because of its content: adversarial messages at the length limit, real model.

The benchmark (benchmarks/bench_adversarial.py) holds the 1 s target on a quiet machine; these
tests guard against a return of the super-linear steps (one took 140 s) with a margin for CI noise.
"""

from __future__ import annotations

import random
import string
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_adversarial import messages

pytestmark = pytest.mark.integration
# Far above the ~0.2 s these take on an idle 2-core machine, far below the minutes they once took.
CEILING_S = 5.0


@pytest.fixture(scope="module")
def cases(assistant) -> dict[str, tuple[str, list[dict[str, str]]]]:
    index = assistant.article()
    vocabulary = sorted({w.lower() for c in index.chunks.values() for w in c.text.split() if w.isalpha()})
    return messages(assistant.settings.safety.max_message_chars, vocabulary)


@pytest.mark.parametrize(
    "kind",
    ["random_letters", "article_typos", "repeat_ok_so", "one_long_word", "long_words", "mixed_scripts",
     "drug_like", "numbers_doses", "markdown_urls", "long_history"],
)  # fmt: skip
def test_an_adversarial_message_at_the_length_limit_is_answered_in_bounded_time(assistant, cases, kind) -> None:
    message, history = cases[kind]
    assistant.clear_caches()
    start = time.perf_counter()
    answer = assistant.ask(message, history=history)
    elapsed = time.perf_counter() - start
    assert elapsed < CEILING_S, f"{kind} took {elapsed:.2f} s"
    assert answer.disclaimer


def test_an_emergency_buried_in_a_long_message_still_gets_the_emergency_reply(assistant, cases) -> None:
    message, _ = cases["buried_emergency"]
    answer = assistant.ask(message)
    assert answer.refused and answer.refusal_reason == "emergency"


def test_gibberish_at_the_length_limit_raises_no_alarm(assistant) -> None:
    rng = random.Random(5)
    junk = " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 12))) for _ in range(450))
    answer = assistant.ask(junk[:3990])
    assert answer.refusal_reason not in ("emergency", "crisis")
