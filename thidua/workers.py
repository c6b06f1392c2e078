"""Process pools for the batch steps that gain from every core (take-in, parsing).

spawn, not fork: the caller may be a threaded Prefect worker or hold DuckDB threads.
A fork server was tried: on this VM forking a process that has imported pandas costs
about as much as spawning a fresh one (0.56-0.68 s vs 0.70-0.74 s per pool), so it
was not worth its extra moving part.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

POOL_MIN_FILES = 500        # below this a pool's start-up (~0.7 s) is not repaid
CHUNK = 256                 # files per task: few round trips, even load on the workers


def pool_size(n_files: int, workers: int | None = None) -> int:
    """Processes worth starting for `n_files` (default: one per core); 0 means stay in
    this process (one core, or a batch too small to repay a pool)."""
    workers = workers or os.cpu_count() or 1
    return workers if workers >= 2 and n_files > POOL_MIN_FILES else 0


def map_chunks(fn: Callable[[list], Any], items: Sequence, workers: int,
               initializer: Callable | None = None, initargs: tuple = ()
               ) -> list[tuple[list, Any]]:
    """(chunk, fn(chunk)) for `items` cut into chunks of `CHUNK`, in order, over a spawn
    pool of `workers` processes; `fn` must be a module-level function (or a partial)."""
    chunks = [list(items[i:i + CHUNK]) for i in range(0, len(items), CHUNK)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=initializer, initargs=initargs) as pool:
        return list(zip(chunks, pool.map(fn, chunks), strict=True))
