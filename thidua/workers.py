"""Process pools for the batch steps that gain from every core (take-in, parsing).

spawn, not fork: the caller may be a threaded Prefect worker or hold DuckDB threads.
A fork server was tried: on this VM forking a process that has imported pandas costs
about as much as spawning a fresh one (0.56-0.68 s vs 0.70-0.74 s per pool), so it
was not worth its extra moving part.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import pickle
import resource
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

POOL_MIN_FILES = 500  # below this a pool's start-up (~0.7 s) is not repaid
CHUNK = 256  # files per task: few round trips, even load on the workers
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def pool_size(n_files: int, workers: int | None = None) -> int:
    """Processes worth starting for `n_files` (default: one per core); 0 means stay in
    this process (one core, or a batch too small to repay a pool)."""
    workers = workers or os.cpu_count() or 1
    return workers if workers >= 2 and n_files > POOL_MIN_FILES else 0


def _chunks(items: Sequence) -> list[list]:
    """`items` cut into lists of `CHUNK` (the last shorter), in order."""
    return [list(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK)]


def map_chunks(
    fn: Callable[[list], Any],
    items: Sequence,
    workers: int,
    initializer: Callable | None = None,
    initargs: tuple = (),
) -> list[tuple[list, Any]]:
    """(chunk, fn(chunk)) for `items` cut into chunks of `CHUNK`, in order, over a spawn
    pool of `workers` processes; `fn` must be a module-level function (or a partial)."""
    chunks = _chunks(items)
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start,
        initargs=(os.getpid(), initializer, initargs),
    ) as pool:
        return list(zip(chunks, pool.map(fn, chunks), strict=True))


def die_with_parent(parent_pid: int) -> None:
    """Make this worker die with the process that started it: on Linux the kernel
    sends SIGKILL when the parent exits (prctl PR_SET_PDEATHSIG); checked once after,
    in case the parent was already gone.  A killed collection leaves no worker behind."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


def _start(parent_pid: int, initializer: Callable | None, initargs: tuple) -> None:
    """Pool worker initializer: `die_with_parent`, then the caller's initializer; what
    they made (the config) is frozen out of the garbage collector's passes, which
    would otherwise walk it again and again while the files are parsed."""
    die_with_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)
    gc.freeze()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection inside: for the loops that build a few objects per file of
    a batch, where the collector's passes over the heap they grow cost more than the
    objects (13-40x at 20,000 files, bench/README.md).  They make no cycles to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class Isolation:
    """Limits of one isolated worker: its address space, and the wall time a task may
    take (`seconds` plus `seconds_per_item` for each item of its chunk)."""

    memory_bytes: int
    seconds: float
    seconds_per_item: float


class KeptWorkers:
    """Idle isolated workers kept between calls of `map_isolated` by a long-lived
    process (the web app), so that a batch of a few files does not pay a spawn, most of
    a small collection (see bench/README.md).

    Workers are kept per (fn, initializer, isolation, initargs): a kept worker holds the
    initargs it was started with (the config).  Initargs are compared by value when they
    hash, else by identity (a reference is held so their ids cannot be reused).  A worker that died or ran out of time is not
    kept; one is retired after `max_tasks` chunks.  Thread-safe; `close` stops them all.
    """

    def __init__(self, max_tasks: int = 500) -> None:
        self.max_tasks = max_tasks
        self._idle: dict[tuple, list[_Worker]] = {}
        self._held: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(
        fn: Callable, initializer: Callable | None, initargs: tuple, isolation: Isolation
    ) -> tuple:
        return (fn, initializer, isolation, tuple(_ident(a) for a in initargs))

    def take(self, key: tuple) -> _Worker | None:
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def give_back(self, key: tuple, initargs: tuple, w: _Worker) -> None:
        if not (w.alive and w.task is None and w.proc.is_alive()) or w.tasks >= self.max_tasks:
            w.stop()
            return
        with self._lock:
            self._held[key] = initargs
            self._idle.setdefault(key, []).append(w)

    def prestart(
        self,
        fn: Callable[[list], Any],
        initializer: Callable | None,
        initargs: tuple,
        isolation: Isolation,
        timeout: float = 300,
    ) -> None:
        """Start one worker and wait until it has run an empty chunk (its imports done),
        then keep it idle."""
        w = _Worker(
            multiprocessing.get_context("spawn"), _setup(fn, initializer, initargs), isolation
        )
        w.assign(((), []))
        wait([w.conn], timeout)
        key, _, ok, _ = w.collect()
        if key is None or not ok:
            w.stop()
            raise RuntimeError("the isolated worker did not start")
        self.give_back(self.key(fn, initializer, initargs, isolation), initargs, w)

    def close(self) -> None:
        with self._lock:
            idle = [w for ws in self._idle.values() for w in ws]
            self._idle.clear()
            self._held.clear()
        for w in idle:
            w.stop()


def _ident(a: Any) -> Any:
    try:
        hash(a)
    except TypeError:
        return ("id", id(a))
    return ("value", a)


def map_isolated(
    fn: Callable[[list], Any],
    items: Sequence,
    workers: int,
    initializer: Callable | None,
    initargs: tuple,
    isolation: Isolation,
    keep: KeptWorkers | None = None,
) -> Generator[tuple[list, Any], None, None]:
    """(chunk, fn(chunk)) for `items` in chunks of `CHUNK`, in order, each run in a
    worker process of its own limits (`Isolation`); a chunk whose worker dies, runs
    out of time or raises is run again one item at a time, and an item that fails
    alone comes back as ([item], None).  A fresh worker replaces a dead one.  With
    `keep`, idle workers are taken from it first and live ones are given back to it
    after, instead of being stopped.

    Yields each result as soon as those before it are in, the idle workers given their
    next chunk first: the caller's work on one overlaps the workers' on the next.
    Own workers on pipes rather than a ProcessPoolExecutor: when one of its workers
    dies, the executor fails every pending task and cannot tell which one killed it."""
    chunks = _chunks(items)
    queue = deque(((i,), chunk) for i, chunk in enumerate(chunks))
    done: dict[tuple, tuple[list, Any]] = {}
    ctx = multiprocessing.get_context("spawn")
    key = KeptWorkers.key(fn, initializer, initargs, isolation) if keep else ()
    setup = _setup(fn, initializer, initargs)
    pool = [
        (keep and keep.take(key)) or _Worker(ctx, setup, isolation)
        for _ in range(min(workers, len(queue)))
    ]
    split: set[int] = set()  # the chunks run again one item at a time
    ready = 0  # the next chunk to yield
    try:
        while ready < len(chunks):
            for i, w in enumerate(pool):
                if w.task is None and queue:
                    if not w.alive:  # died on its last task
                        w = pool[i] = _Worker(ctx, setup, isolation)
                    w.assign(queue.popleft())
            while ready < len(chunks) and (parts := _parts(ready, chunks, split, done)):
                yield from (done.pop(k) for k in parts)
                ready += 1
            if busy := [w for w in pool if w.task]:
                wait(
                    [w.conn for w in busy],
                    max(0.0, min(w.deadline for w in busy) - time.monotonic()),
                )
                _collect(pool, queue, done, split)
    finally:
        for w in pool:
            if keep is not None:
                keep.give_back(key, initargs, w)
            else:
                w.stop()


def _collect(pool: list[_Worker], queue: deque, done: dict, split: set[int]) -> None:
    """Each finished task's result into `done`; a failed chunk of several items back
    into `queue` one item at a time (`split`), a failed single item done as None."""
    for w in pool:
        task, chunk, ok, result = w.collect()
        if task is None:
            continue
        if ok:
            done[task] = (chunk, result)
        elif len(chunk) > 1:
            split.add(task[0])
            queue.extend((task + (j,), [item]) for j, item in enumerate(chunk))
        else:
            done[task] = (chunk, None)


def _parts(i: int, chunks: list[list], split: set[int], done: dict) -> list[tuple]:
    """The keys of chunk `i`'s results in `done` once all are in, else []: the chunk's,
    or one per item when it was run again one item at a time."""
    keys = [(i, j) for j in range(len(chunks[i]))] if i in split else [(i,)]
    return keys if all(k in done for k in keys) else []


def _setup(fn: Callable, initializer: Callable | None, initargs: tuple) -> bytes:
    """What a worker is started with, pickled once for all of them (the config of a
    national cycle's 133,000 units is megabytes)."""
    return pickle.dumps((fn, initializer, initargs), pickle.HIGHEST_PROTOCOL)


class _Worker:
    """One spawned worker process, fed one chunk at a time over a pipe.

    Its set-up (`_setup`) goes over the pipe with its first chunk, not in the Process's
    arguments: `start()` writes those to the child and, when they outgrow the pipe's
    buffer, waits until the child has imported its way to reading them, so the workers
    of a pool started one after the other (5-6 s each at load 10)."""

    def __init__(self, ctx: Any, setup: bytes, isolation: Isolation) -> None:
        self.conn, child = ctx.Pipe()
        self.isolation = isolation
        self.proc = ctx.Process(
            target=_serve, daemon=True, args=(child, os.getpid(), isolation.memory_bytes)
        )
        self.proc.start()
        child.close()
        self.setup: bytes | None = setup  # sent with the first chunk
        self.task: tuple[tuple, list] | None = None
        self.deadline = 0.0
        self.alive = True
        self.tasks = 0

    def assign(self, task: tuple[tuple, list]) -> None:
        # Sent before the clock starts: a set-up larger than the pipe's buffer returns
        # once the child, started, has read it (as `start()` did with it before)
        if self.setup is not None:
            self.conn.send_bytes(self.setup)
            self.setup = None
        self.task = task
        self.tasks += 1
        self.deadline = (
            time.monotonic()
            + self.isolation.seconds
            + self.isolation.seconds_per_item * len(task[1])
        )
        self.conn.send(task[1])

    def collect(self) -> tuple[tuple | None, list, bool, Any]:
        """(key, chunk, succeeded, result) of the task once it is over (answered,
        died, out of time); (None, ...) while it runs or when idle."""
        if self.task is None:
            return None, [], False, None
        key, chunk = self.task
        try:
            if self.conn.poll():
                ok, result = self.conn.recv()
                self.task = None
                return key, chunk, ok, result
        except (EOFError, OSError):  # died: killed by the kernel, or aborted
            pass
        else:
            if time.monotonic() < self.deadline and self.proc.is_alive():
                return None, [], False, None
        self.stop()  # killed at once: its task is not over
        self.task = None
        return key, chunk, False, None

    def stop(self) -> None:
        """End the process (asked first if idle, killed otherwise)."""
        if self.alive and self.task is None and self.proc.is_alive():
            with suppress(OSError):
                self.conn.send(None)
            self.proc.join(1)
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()
        self.alive = False


def _serve(conn: Any, parent_pid: int, memory_bytes: int) -> None:
    """The worker's loop: its set-up received, limits set, then (succeeded, fn(chunk))
    for each chunk received until None.  An exception is a failed chunk, not a dead
    worker."""
    with gc_paused():  # the config: many objects, no garbage
        fn, initializer, initargs = pickle.loads(conn.recv_bytes())
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    _start(parent_pid, initializer, initargs)
    while (chunk := conn.recv()) is not None:
        try:
            with gc_paused():  # passes over a growing chunk's results: ~2% of a worker (perf)
                reply = (True, fn(chunk))
        except Exception:  # noqa: BLE001 - any failure of one chunk is retried per item
            reply = (False, None)
        conn.send(reply)
    os._exit(0)  # every reply is sent: no interpreter teardown to wait for (bench/README.md)
