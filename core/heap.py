"""The garbage collector's settings for a long-running kopilka process (``serve``, ``worker``).

Two things make CPython's default collector expensive here:

- everything built at start-up (modules, routes, templates, settings) lives as long as the
  process, and every full collection would walk it again: it is frozen out of sight;
- a busy ledger allocates tens of thousands of objects per batch that live for the batch's
  ~200 ms (requests, results, account states). With the default young-generation
  threshold (700 allocations) they are scanned and promoted several times before they die,
  and the promotions trigger full collections about once a second (50-110 ms each, during
  which nothing else runs). A threshold of 50,000 lets most of them die young.

Reference cycles are still collected, just later; the process does not rely on prompt
collection of cycles.
"""

from __future__ import annotations

import gc

#: Young-generation threshold, and how many young (then middle) collections before the next generation's.
THRESHOLDS = (50_000, 20, 100)


def settle_after_startup() -> None:
    """Collect once, freeze what exists, and raise the thresholds (call when start-up is done)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
