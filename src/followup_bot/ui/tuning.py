"""Process settings for serving on a small machine (2 cores): model threads and the garbage collector.

Measured with benchmarks/load_test.py and a probe of the event loop (numbers in benchmarks/README.md):
- torch with 2 threads per encode is slower than with 1 as soon as the other core is busy (a
  query encode took 59–107 ms instead of 17–24 ms here), and two workers already keep both cores
  busy; so the server gives torch 1 thread (`ui.torch_threads`).
- Python's full (generation 2) collections scanned the ~630,000 objects built at start-up
  (models, indexes, the page) and stopped every thread, the event loop included, for 100–600 ms
  every few seconds under load: the tail of the safety replies' latency. `gc.freeze()` after
  start-up takes those objects out of the collector's sight, and a larger first threshold
  makes collections rarer; under 50 users the steady-state safety p95 fell to ~70 ms.
"""

from __future__ import annotations

import gc
import os

GC_THRESHOLDS = (20_000, 10, 10)  # Python's default is (700, 10, 10)


def limit_model_threads(threads: int) -> None:
    """Give torch (the embedding model) `threads` threads; 0 leaves torch's default (one per core)."""
    if threads <= 0:
        return
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only allowed before torch's first parallel work; then it stays as it is
        pass


def settle_garbage_collector() -> None:
    """Once everything long-lived is built: collect, freeze what is left, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
