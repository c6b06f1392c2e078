"""Process pools for the batch steps that gain from every core (take-in, parsing).

spawn, not fork: the caller may be a threaded Prefect worker or hold DuckDB threads.
A fork server was tried: on this VM forking a process that has imported pandas costs
about as much as spawning a fresh one (0.56-0.68 s vs 0.70-0.74 s per pool), so it
was not worth its extra moving part.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor


def process_pool(workers: int, initializer: Callable | None = None,
                 initargs: tuple = ()) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=initializer, initargs=initargs)
