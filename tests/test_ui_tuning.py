"""The serving process's tuning: one torch thread, and start-up objects frozen out of the garbage collector."""

from __future__ import annotations

import gc

import pytest

from followup_bot.ui.tuning import GC_THRESHOLDS, limit_model_threads, settle_garbage_collector


def test_serving_gives_torch_the_configured_number_of_threads_and_zero_leaves_it_alone() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        limit_model_threads(1)
        assert torch.get_num_threads() == 1
        limit_model_threads(0)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_after_start_up_the_long_lived_objects_are_frozen_and_collections_are_rarer() -> None:
    before = gc.get_threshold()
    built_at_start_up = [{"n": n} for n in range(1000)]
    try:
        settle_garbage_collector()
        assert gc.get_freeze_count() >= len(built_at_start_up)
        assert gc.get_threshold() == GC_THRESHOLDS and GC_THRESHOLDS[0] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
