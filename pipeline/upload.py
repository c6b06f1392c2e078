"""The web upload: staged on disk, then collected through the very sequence of the inbox
(`pipeline.collect.collect`) from a directory of its own: alone (`upload`), or together
with the uploads that arrived while the previous batch was being collected
(`UploadQueue`, group commit).  The workbook is parsed once, in the isolated worker of
the examination; the page's answer is built from the batch's own outcome.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pipeline.collect import Collected, Taken, acknowledge, collect, examine
from pipeline.review import view_of
from thidua.checks import Examined
from thidua.config import Config
from thidua.examine import keep_workers, take_and_examine
from thidua.intake import scan
from thidua.parse import Limits
from thidua.workers import KeptWorkers
from thidua.workspace import Workspace
from warehouse.db import WAREHOUSE_LOCK, connect, session
from warehouse.queries import submission_problems, submission_version, versions

T = TypeVar("T")


@dataclass
class Uploaded:
    """One upload's answer.  `outcome`: accepted, accepted_with_warnings, rejected,
    unreadable, duplicate, or misdirected (another unit's or cycle's workbook, not
    taken: `refused` says why)."""

    outcome: str
    version: int | None
    submission_id: str
    problems: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    view: dict | None = None  # the unit's page (`unit_view`), read with the outcome
    refused: str | None = None  # why a misdirected workbook was not taken


@dataclass
class _Staged:
    """One upload written to disk, waiting to be collected."""

    unit: str
    cycle: str
    path: Path
    sha256: str
    started: float
    document: tuple[str, Path, str] | None = None  # the plan: suffix, staged path, sha256


def _write(directory: Path, content: bytes) -> tuple[Path, str]:
    """Write `content` atomically (temp file renamed) under a name of ours, never the
    client's; (its path, its sha256).  Not fsynced: the take-in syncs the file system
    before any record names the file."""
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    path = directory / f"{uuid.uuid4().hex}.staged"
    os.replace(tmp, path)
    return path, hashlib.sha256(content).hexdigest()


def _stage(
    ws: Workspace, unit: str, cycle: str, data: bytes, document: tuple[str, bytes] | None = None
) -> _Staged:
    """Write the bytes into `uploads/`; a plan document (`document`: `.docx` or `.pdf`
    and its bytes) is staged beside it.  The batch moves them into its own directory."""
    started = time.perf_counter()
    staged = ws.paths.home / "uploads"
    staged.mkdir(parents=True, exist_ok=True)
    path, sha = _write(staged, data)
    doc = (document[0], *_write(staged, document[1])) if document else None
    return _Staged(unit, cycle, path, sha, started, doc)


def _unstage(staged: _Staged) -> None:
    """Remove what is left of a staged upload (nothing, once a batch moved it)."""
    staged.path.unlink(missing_ok=True)
    if staged.document:
        staged.document[1].unlink(missing_ok=True)


def _into_inbox(ws: Workspace, path: Path, sha: str, target: Path) -> None:
    """Move a staged file into the batch's inbox, hard-linked first as its archive copy
    (`archive/<sha256>`, which the take-in then finds whole and does not write again):
    the upload's bytes are written once.  Where links fail, the take-in copies them."""
    ws.paths.archive.mkdir(parents=True, exist_ok=True)
    # FileExistsError: sent before, archived already; another OSError: no hard links
    # here (another file system), the take-in copies the file
    with suppress(OSError):
        os.link(path, ws.paths.archive / sha)
    os.replace(path, target)


def _collect_staged(
    ws: Workspace, items: list[_Staged], docs: bool, acks: bool, views: bool
) -> list[Uploaded]:
    """Collect staged uploads as ONE batch through the inbox sequence
    (`pipeline.collect.collect` on a fresh directory under `uploads/`, each file claimed
    by its link's unit and cycle), then read each upload's versions (with `views`, for
    the page) in the same session; one Uploaded per item, in order."""
    inbox = ws.paths.home / "uploads" / uuid.uuid4().hex
    inbox.mkdir(parents=True)
    try:
        names = []
        for i, it in enumerate(items):  # our names: cycle, unit, place in the batch
            stem = f"{it.cycle}_{it.unit}_web_{i:03d}"
            names.append(f"{stem}.xlsx")
            _into_inbox(ws, it.path, it.sha256, inbox / names[-1])
            if it.document:  # named as its workbook: the take-in pairs them
                suffix, path, sha = it.document
                _into_inbox(ws, path, sha, inbox / f"{stem}{suffix}")
        claims = {n: (it.unit, it.cycle) for n, it in zip(names, items, strict=True)}
        # one connection for the whole sequence and the reads after it (`session`)
        with session(ws.paths.warehouse):
            done = collect(ws, inbox=inbox, docs=docs, acks=acks, claims=claims)
            return [_answer(ws, done, it, name, views) for it, name in zip(items, names)]
    finally:
        shutil.rmtree(inbox, ignore_errors=True)


def _answer(ws: Workspace, done: Collected, it: _Staged, name: str, views: bool) -> Uploaded:
    """One upload's outcome from its batch: the examination's problems, the version the
    load gave it, and (with `views`) its unit's versions for the page."""
    seconds = time.perf_counter() - it.started
    for inc, why in done.batch.misdirected:
        if inc.origin.name == name:
            return Uploaded("misdirected", None, inc.submission_id, seconds=seconds, refused=why)
    row = next(r for r in done.files() if r["file"] == name)
    sid = row["submission_id"]
    examined = next((ex for ex in done.batch.examined if ex.incoming.submission_id == sid), None)
    with connect(ws.paths.warehouse, read_only=True) as con:
        vs = versions(con, it.unit, it.cycle)
        version = next((v["version"] for v in vs if v["submission_id"] == sid), None)
        if version is None:  # not this unit's (unreadable, say)
            version = submission_version(con, sid)
        if examined:
            problems = page_problems(ws.config, examined)
        else:  # a duplicate: examined by an earlier batch, its problems are stored
            problems = submission_problems(con, it.unit, it.cycle, version) if version else []
    # the page after an upload shows the outcome's problems and the history: the
    # versions are all of the unit's view it needs
    view = view_of(vs, problems, []) if views else None
    return Uploaded(row["outcome"], version, sid, problems, seconds, view)


def page_problems(cfg: Config, ex: Examined) -> list[dict]:
    """The examination's problems as the page lists them (`warehouse.queries.
    submission_problems` reads the same from the warehouse): a problem on a value with
    its indicator; errors first, then by sheet and cell."""
    on_cell = {v.cell: v.code for v in ex.parsed.values} if ex.parsed else {}
    names = {i.code: i.name_vi for i in cfg.indicators}
    rows = []
    for p in ex.problems:
        code = on_cell.get(p.cell) if p.cell else None
        rows.append(
            asdict(p) | {"indicator": code, "indicator_name": names.get(code) if code else None}
        )
    return sorted(
        rows,
        key=lambda r: (
            r["severity"],
            r["sheet"] is not None,
            r["sheet"] or "",
            r["cell"] is None,
            len(r["cell"] or ""),
            r["cell"] or "",
            r["rule_id"],
        ),
    )


def upload(
    ws: Workspace,
    unit: str,
    cycle: str,
    data: bytes,
    docs: bool = False,
    acks: bool = True,
    view: bool = False,
    document: tuple[str, bytes] | None = None,
) -> Uploaded:
    """Collect one uploaded workbook of `unit` for `cycle` through the inbox sequence,
    as a batch of one (one at a time in this process: `WAREHOUSE_LOCK`).  With `view`,
    the unit's page is read in the same session.  A plan document (`document`: `.docx`
    or `.pdf` and its bytes) goes with it, paired by name as in the folder inbox:
    archived under its sha256 and linked to the submission.  The web app collects
    concurrent uploads together instead (`UploadQueue`)."""
    staged = _stage(ws, unit, cycle, data, document)
    try:
        return _collect_staged(ws, [staged], docs, acks, view)[0]
    finally:
        _unstage(staged)


class UploadQueue:
    """Group commit of the web's uploads: a queue with one consumer thread.

    A request stages its bytes (`_stage`, in its own thread) and puts them in the queue;
    the consumer takes the first waiting upload *and every other one waiting by then*
    (up to `max_batch`) and collects them as one batch through the same sequence
    (`_collect_staged`: one take-in, one GX run, one load transaction), while new
    arrivals queue for the next batch; each request then reads its own outcome from its
    future.  The acknowledgments (the sequence's last step) are sent right after the
    answers, before the next batch.  As databases do with their log flushes: under load
    a batch costs about as much as one upload, so waiting requests are answered in about
    two collections.

    One consumer thread for the process's life: it is the only GX run and the only
    writer of the web process, and it owns the kept parsing worker (`KeptWorkers`,
    started by `start`, which also warms GX up): Linux kills a worker when the *thread*
    that spawned it ends (PR_SET_PDEATHSIG), so it must not be a pool thread that exits
    when idle.
    """

    def __init__(
        self, ws: Workspace, max_batch: int = 200, docs: bool = False, acks: bool = True
    ) -> None:
        self.ws, self.max_batch, self.docs, self.acks = ws, max_batch, docs, acks
        self.keep = KeptWorkers()
        self.batches: list[int] = []  # sizes of the batches collected
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._consume, name="thidua-uploads", daemon=True)

    def start(self, warm: bool = True) -> dict[str, float]:
        """Start the consumer; with `warm`, wait until it has warmed up (`warm_up`:
        GX imported, the suite built and run once, the parsing worker started) and
        return how long each part took."""
        self._thread.start()
        return self._call(warm_up, self.ws) if warm else {}

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(60)
        self.keep.close()

    def upload(
        self, unit: str, cycle: str, data: bytes, document: tuple[str, bytes] | None = None
    ) -> Uploaded:
        """Collect this upload with the others waiting; its outcome and its unit's page."""
        staged = _stage(self.ws, unit, cycle, data, document)
        fut: Future = Future()
        try:
            self._queue.put((staged, fut))
            return fut.result()
        finally:
            _unstage(staged)

    def _call(self, fn: Callable[..., T], *args: object) -> T:
        """Run fn(*args) on the consumer thread, between batches."""
        fut: Future = Future()
        self._queue.put(((fn, args), fut))
        return fut.result()

    def _consume(self) -> None:
        keep_workers(self.keep)  # this thread's examine keeps its worker
        while (first := self._queue.get()) is not None:
            if isinstance(first[0], tuple):  # a call, not an upload
                (fn, args), fut = first
                self._settle([fut], lambda f, a: [f(*a)], fn, args)
                continue
            batch = [first, *self._waiting()]
            self.batches.append(len(batch))
            staged = [s for s, _ in batch]
            self._settle(
                [f for _, f in batch],
                partial(_collect_staged, self.ws, staged, self.docs, acks=False, views=True),
            )
            if self.acks:  # the sequence's last step, once the pages are answered
                self._acknowledge()

    def _waiting(self) -> list:
        """The uploads queued by now, up to the batch's size; a call (or the stop)
        stays for after this batch."""
        found: list = []
        while len(found) + 1 < self.max_batch:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None or isinstance(nxt[0], tuple):
                self._queue.put(nxt)
                break
            found.append(nxt)
        return found

    def _acknowledge(self) -> None:
        """`pipeline.collect.acknowledge`: every acknowledgment still owed, the batch's
        included.  After the answers: the unit reads its outcome on the page at once,
        the email follows before the next batch.  A failure here is logged, never
        raised: the acknowledgment stays owed and the next collection sends it."""
        try:
            acknowledge(self.ws)  # no `session`: other processes may read between sends
        except Exception:  # owed: the next collection retries it
            logging.getLogger(__name__).exception("acknowledgments failed; owed")

    @staticmethod
    def _settle(futures: list[Future], work: Callable[..., list], *args: object) -> None:
        try:
            results = work(*args)
        except BaseException as exc:  # noqa: BLE001 - every waiting request hears it
            for f in futures:
                f.set_exception(exc)
        else:
            for f, r in zip(futures, results, strict=True):
                f.set_result(r)


WARMUP_BOOK = "data/warmup.xlsx"  # a filled workbook of the shipped config (package data)


def warm_up(ws: Workspace) -> dict[str, float]:
    """Make this process ready for uploads, so the first one pays no import: GX imported
    and the suite built; then one dry examination of the shipped warm-up workbook (parse
    in the isolated worker — kept when this thread keeps workers — registry checks, one
    GX run over its values) on a temporary directory: nothing is recorded or loaded.
    Seconds of each part."""
    t0 = time.perf_counter()
    # imported here, and timed: this import is most of the warm-up
    import great_expectations  # noqa: F401

    from expectations.submissions import build_expectations

    build_expectations(ws.config)
    t1 = time.perf_counter()
    book = resources.files("pipeline").joinpath(WARMUP_BOOK).read_bytes()
    with tempfile.TemporaryDirectory(prefix="thidua-warm-") as tmp:
        (Path(tmp) / "in").mkdir()
        (Path(tmp) / "archive").mkdir()
        (Path(tmp) / "in" / "warm.xlsx").write_bytes(book)
        limits = Limits.from_checks(ws.config.settings.checks)
        taken = take_and_examine(ws.config, scan(Path(tmp) / "in"), Path(tmp) / "archive", limits)
        with WAREHOUSE_LOCK:  # GX's context is not thread-safe
            examine(ws, Taken(*taken), docs=False)
    return {"imports": t1 - t0, "dry_run": time.perf_counter() - t1}
