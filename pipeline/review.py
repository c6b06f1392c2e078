"""The units' upload links, the web upload and the officer's review: one module behind
`thidua link`, `thidua review …` and the web app (`apps/web`), plain functions.

An upload goes through the very sequence of the inbox (`pipeline.collect.collect`), from
a directory of its own: alone (`upload`), or in the web app together with the uploads
that arrived while the previous batch was being collected (`UploadQueue`, group
commit); the officer's decisions are rows of the append-only `review_log`
(`thidua.review` says which are allowed).
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from thidua import links
from thidua.errors import ThiduaError
from thidua.parse import Limits, Unreadable, parse_file
from thidua.review import VERB, ReviewRefused, check_decision
from thidua.workspace import Workspace
from warehouse.db import connect, session

# Collections run one at a time in a process.  `collect` holds the run lock
# `ws.run_lock("collect")`, a flock that keeps *processes* apart (a scheduled collect,
# `thidua collect`) but is re-entrant inside one process: two threads of the web server
# would both hold it.  GX's context and datasource are not thread-safe, and DuckDB
# refuses a read-only and a read-write connection to one file in one process, so the
# web app serialises every warehouse access of its threads on this lock as well; its
# uploads are collected in batches by one thread (`UploadQueue`).
WAREHOUSE_LOCK = threading.RLock()


class LinkError(ThiduaError):
    status = 403


class Tampered(LinkError):
    "The link's signature does not verify"

    status = 403


class Expired(LinkError):
    "The link has expired"

    status = 410


class Revoked(LinkError):
    "The link was revoked by the officer"

    status = 410


class WrongFile(ThiduaError):
    "The workbook is another unit's or another cycle's"


# -- links ------------------------------------------------------------------------------


def make_link(ws: Workspace, unit: str, cycle: str) -> str:
    """The unit's upload address for the cycle: its live link, or a new one."""
    ws.config.unit(unit)
    ws.config.cycle(cycle)
    links.secret(ws.config.settings.web)  # WebNotConfigured before anything is written
    return unit_links(ws, [(unit, cycle)])[(unit, cycle)]


def unit_links(ws: Workspace, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The upload address of each (unit, cycle): its live link, or a new one, in one
    write transaction per call.  Empty when the web is not set up (no secret key), so
    reminders then go out without a link."""
    from warehouse.queries import live_links
    from warehouse.writer import add_upload_links

    web = ws.config.settings.web
    if not web.links_enabled or not pairs:
        return {}
    pairs = list(dict.fromkeys(pairs))
    with WAREHOUSE_LOCK, connect(ws.paths.warehouse) as con:
        ids = live_links(con, pairs)
        now, tz = datetime.now(UTC), ws.config.settings.calendar.tz
        new = [
            (links.new_link_id(), u, c, links.expires_at(web, ws.config.cycle(c), now, tz))
            for u, c in pairs
            if (u, c) not in ids
        ]
        if new:
            add_upload_links(con, new)
            ids |= {(u, c): i for i, u, c, _ in new}
    return {
        (u, c): links.url(web, links.sign(web, links.LinkClaim(u, c, ids[(u, c)])))
        for u, c in pairs
    }


def revoke_links(ws: Workspace, unit: str, cycle: str) -> int:
    from warehouse.writer import revoke_upload_links

    ws.config.unit(unit)
    ws.config.cycle(cycle)
    with WAREHOUSE_LOCK, connect(ws.paths.warehouse) as con:
        return revoke_upload_links(con, unit, cycle)


def open_link(ws: Workspace, token: str) -> links.LinkClaim:
    """The (unit, cycle, link id) of a live token; Tampered, Revoked or Expired."""
    from warehouse.queries import upload_link

    try:
        claim = links.verify(ws.config.settings.web, token)
    except links.BadToken:
        raise Tampered("invalid link") from None
    with WAREHOUSE_LOCK, connect(ws.paths.warehouse, read_only=True) as con:
        row = upload_link(con, claim.link_id)
    if row is None or (row["unit_code"], row["cycle_id"]) != (claim.unit, claim.cycle):
        raise Tampered("unknown link")
    if row["revoked_at"] is not None:
        raise Revoked("link revoked")
    if row["expires_at"] <= datetime.now(UTC):
        raise Expired("link expired")
    return claim


# -- upload ---------------------------------------------------------------------------


@dataclass
class Uploaded:
    outcome: str  # accepted | accepted_with_warnings | rejected | unreadable
    version: int | None  #   | duplicate
    submission_id: str
    problems: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    view: dict | None = None  # the unit's page (`unit_view`), read with the outcome


def check_owner(ws: Workspace, unit: str, cycle: str, data: bytes) -> None:
    """WrongFile when a readable workbook names another unit or cycle in ThongTin (an
    unreadable one goes on, and the collection records it as such)."""
    try:
        parsed = parse_file("upload.xlsx", data, Limits.from_checks(ws.config.settings.checks))
    except Unreadable:
        return
    code = (parsed.info.get("ma_don_vi", (None, None))[0] or "").strip()
    cyc = (parsed.info.get("ky_bao_cao", (None, None))[0] or "").strip()
    if code and code != unit:
        raise WrongFile(
            f"Tệp này là biểu mẫu của đơn vị {code}, không phải của đơn vị "
            f"{unit}. Hãy tải biểu mẫu của đơn vị mình trên trang này."
        )
    if cyc and cyc != cycle:
        raise WrongFile(f"Tệp này là báo cáo kỳ {cyc}, không phải kỳ {cycle}.")


@dataclass
class _Staged:
    """One upload written to disk, waiting to be collected."""

    unit: str
    cycle: str
    path: Path
    started: float
    document: tuple[str, Path] | None = None  # the plan: its suffix and staged path


def _stage(
    ws: Workspace, unit: str, cycle: str, data: bytes, document: tuple[str, bytes] | None = None
) -> _Staged:
    """Write the bytes atomically (temp file, fsync, rename) into `uploads/`, under a
    name of ours, never the client's; the batch moves them into its own directory.  A
    plan document (`document`: `.docx` or `.pdf` and its bytes) is staged beside it."""
    started = time.perf_counter()
    staged = ws.paths.home / "uploads"
    staged.mkdir(parents=True, exist_ok=True)
    paths = []
    for content in [data] + ([document[1]] if document else []):
        fd, tmp = tempfile.mkstemp(dir=staged, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        paths.append(staged / f"{uuid.uuid4().hex}.staged")
        os.replace(tmp, paths[-1])
    return _Staged(unit, cycle, paths[0], started, (document[0], paths[1]) if document else None)


def _unstage(staged: _Staged) -> None:
    """Remove what is left of a staged upload (nothing, once a batch moved it)."""
    staged.path.unlink(missing_ok=True)
    if staged.document:
        staged.document[1].unlink(missing_ok=True)


def _collect_staged(
    ws: Workspace, items: list[_Staged], docs: bool, acks: bool, views: bool
) -> list[Uploaded]:
    """Collect staged uploads as ONE batch through the inbox sequence
    (`pipeline.collect.collect` on a fresh directory under `uploads/`: take-in under
    sha256, parse, checks, one GX run, one load transaction, acknowledgments), then read
    each upload's version and problems (and, with `views`, its unit's versions for the
    page) in one read-only session; one Uploaded per item, in order."""
    from pipeline.collect import collect
    from warehouse.queries import submission_problems, versions

    inbox = ws.paths.home / "uploads" / uuid.uuid4().hex
    inbox.mkdir(parents=True)
    try:
        names = []
        for i, it in enumerate(items):  # our names: cycle, unit, place in the batch
            stem = f"{it.cycle}_{it.unit}_web_{i:03d}"
            names.append(f"{stem}.xlsx")
            os.replace(it.path, inbox / names[-1])
            if it.document:  # named as its workbook: the take-in pairs them
                suffix, path = it.document
                os.replace(path, inbox / f"{stem}{suffix}")
        out = []
        # one connection for the whole sequence and the reads after it (`session`)
        with WAREHOUSE_LOCK, session(ws.paths.warehouse):
            done = collect(ws, inbox=inbox, docs=docs, acks=acks)
            rows = {r["file"]: r for r in done.files()}
            examined = {ex.incoming.name: ex for ex in done.batch.examined}
            with connect(ws.paths.warehouse, read_only=True) as con:
                for it, name in zip(items, names, strict=True):
                    row, sid = rows[name], rows[name]["submission_id"]
                    vs = versions(con, it.unit, it.cycle)
                    version = next((v["version"] for v in vs if v["submission_id"] == sid), None)
                    if version is None:  # not this unit's (unreadable, say)
                        found = con.execute(
                            "SELECT version FROM submissions WHERE submission_id = ?", [sid]
                        ).fetchone()
                        version = found[0] if found else None
                    problems = (
                        submission_problems(con, it.unit, it.cycle, version)
                        if version is not None
                        else []
                    )
                    if not problems and row["outcome"] == "unreadable":
                        problems = [
                            {
                                "severity": p.severity,
                                "sheet": p.sheet,
                                "cell": p.cell,
                                "value": p.value,
                                "message_vi": p.message_vi,
                                "fix_vi": p.fix_vi,
                                "rule_id": p.rule_id,
                            }
                            for p in examined[name].problems
                        ]
                    # the page after an upload shows the outcome's problems and the
                    # history: the versions are all of the unit's view it needs
                    view = _view(vs, problems, []) if views else None
                    out.append(
                        Uploaded(
                            row["outcome"],
                            version,
                            sid,
                            problems,
                            time.perf_counter() - it.started,
                            view,
                        )
                    )
        return out
    finally:
        shutil.rmtree(inbox, ignore_errors=True)


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
    the unit's page is read under the same hold of the lock.  A plan document
    (`document`: `.docx` or `.pdf` and its bytes) goes with it, paired by name as in the
    folder inbox: archived under its sha256 and linked to the submission.  The web app
    collects concurrent uploads together instead (`UploadQueue`)."""
    check_owner(ws, unit, cycle, data)
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
    answers, before the next batch.  As databases do with their log flushes: under load a
    batch costs about as much as one upload, so waiting requests are answered in about two collections.

    One consumer thread for the process's life: it is the only GX run and the only
    writer of the web process, and it owns the kept parsing worker (`KeptWorkers`,
    started by `start`, which also warms GX up): Linux kills a worker when the *thread*
    that spawned it ends (PR_SET_PDEATHSIG), so it must not be a pool thread that exits
    when idle.
    """

    def __init__(
        self, ws: Workspace, max_batch: int = 200, docs: bool = False, acks: bool = True
    ) -> None:
        from thidua.workers import KeptWorkers

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
        check_owner(self.ws, unit, cycle, data)
        staged = _stage(self.ws, unit, cycle, data, document)
        fut: Future = Future()
        try:
            self._queue.put((staged, fut))
            return fut.result()
        finally:
            _unstage(staged)

    def _call(self, fn, *args):
        """Run fn(*args) on the consumer thread, between batches."""
        fut: Future = Future()
        self._queue.put(((fn, args), fut))
        return fut.result()

    def _consume(self) -> None:
        from thidua.examine import keep_workers

        keep_workers(self.keep)  # this thread's examine keeps its worker
        while (first := self._queue.get()) is not None:
            if isinstance(first[0], tuple):  # a call, not an upload
                (fn, args), fut = first
                self._settle([fut], lambda f=fn, a=args: [f(*a)])
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None or isinstance(nxt[0], tuple):
                    self._queue.put(nxt)  # after this batch
                    break
                batch.append(nxt)
            self.batches.append(len(batch))
            self._settle(
                [f for _, f in batch],
                lambda b=batch: _collect_staged(
                    self.ws, [s for s, _ in b], self.docs, acks=False, views=True
                ),
            )
            if self.acks:  # the sequence's last step, once the pages are answered
                self._acknowledge()

    def _acknowledge(self) -> None:
        """`pipeline.collect.acknowledge`: every acknowledgment still owed, the batch's
        included.  After the answers: the unit reads its outcome on the page at once,
        the email follows before the next batch.  A failure here is logged, never
        raised: the acknowledgment stays owed and the next collection sends it."""
        from pipeline.collect import acknowledge

        try:
            with WAREHOUSE_LOCK:  # no `session`: other processes may read between sends
                acknowledge(self.ws)
        except Exception:  # owed: the next collection retries it
            logging.getLogger(__name__).exception("acknowledgments failed; owed")

    @staticmethod
    def _settle(futures: list[Future], work) -> None:
        try:
            results = work()
        except BaseException as exc:  # noqa: BLE001 - every waiting request hears it
            for f in futures:
                f.set_exception(exc)
        else:
            for f, r in zip(futures, results, strict=True):
                f.set_result(r)


def warm_up(ws: Workspace) -> dict[str, float]:
    """Make this process ready for uploads, so the first one pays no import: GX imported
    and the suite built; then one dry examination of the unit's blank template (parse in the
    isolated worker — kept when this thread keeps workers — registry checks, one GX run
    over its values) on a temporary directory: nothing is recorded or loaded.  Seconds
    of each part."""
    from pipeline.collect import examine
    from thidua.intake import scan, take_all
    from thidua.template import build_workbook

    t0 = time.perf_counter()
    import great_expectations  # noqa: F401

    from expectations.submissions import build_expectations

    cfg = ws.config
    build_expectations(cfg)
    t1 = time.perf_counter()
    cycle = next((c for c in cfg.cycles if c.kind == "nam"), cfg.cycles[0])
    unit = cfg.expected_units(cycle)[0]
    with tempfile.TemporaryDirectory(prefix="thidua-warm-") as tmp:
        (Path(tmp) / "in").mkdir()
        (Path(tmp) / "archive").mkdir()
        (Path(tmp) / "in" / "warm.xlsx").write_bytes(build_workbook(cfg, unit, cycle))
        arrivals = take_all(scan(Path(tmp) / "in"), Path(tmp) / "archive")
        with WAREHOUSE_LOCK:
            examine(ws, arrivals, docs=False)
    return {"imports": t1 - t0, "dry_run": time.perf_counter() - t1}


# -- review -----------------------------------------------------------------------------


def unit_view(ws: Workspace, unit: str, cycle: str) -> dict:
    """What the unit's page and the officer's unit page show: versions (newest first,
    with review states), the latest version's problems, the review log, and the latest
    document (the plan) received with any version."""
    from warehouse.queries import review_history, submission_problems, versions

    with WAREHOUSE_LOCK, connect(ws.paths.warehouse, read_only=True) as con:
        vs = versions(con, unit, cycle)
        problems = submission_problems(con, unit, cycle) if vs else []
        return _view(vs, problems, review_history(con, unit, cycle))


def _view(vs: list[dict], problems: list[dict], log: list[dict]) -> dict:
    """A unit's page from its versions (newest first), the problems to show and its
    review log; the plan document is the latest received with any version."""
    document = next(
        ({"name": v["documents"][-1], "version": v["version"]} for v in vs if v["documents"]), None
    )
    return {
        "versions": vs,
        "problems": problems,
        "log": log,
        "review": vs[0]["review"] if vs else None,
        "document": document,
    }


def matrix(ws: Workspace, cycle: str) -> list[dict]:
    """Every expected unit of the cycle with its latest version, outcome and review."""
    from warehouse.queries import unit_status

    ws.config.cycle(cycle)
    with WAREHOUSE_LOCK, connect(ws.paths.warehouse, read_only=True) as con:
        return unit_status(con, cycle)


def decide(
    ws: Workspace, unit: str, cycle: str, verb: str, actor: str, comment: str | None = None
) -> dict:
    """approve | return | reject the latest version of a unit for a cycle.

    A returned version's unit is emailed the comment and its upload link (when the web
    is set up) through the mailer; returns the decision and, for `return`, the mail's
    status.
    """
    from warehouse.queries import versions
    from warehouse.writer import record_review

    if verb not in VERB:
        raise ReviewRefused(f"unknown action {verb!r}: approve, return or reject")
    to_state = VERB[verb]
    cfg = ws.config
    u, c = cfg.unit(unit), cfg.cycle(cycle)
    with WAREHOUSE_LOCK:
        with connect(ws.paths.warehouse, read_only=True) as con:
            vs = versions(con, unit, cycle)
        if not vs:
            raise ReviewRefused(f"{unit} has sent nothing for {cycle}")
        latest = vs[0]
        comment = check_decision(
            latest["review"], to_state, latest["outcome"], comment, latest=True
        )
        with connect(ws.paths.warehouse) as con:
            record_review(con, latest["submission_id"], latest["review"], to_state, actor, comment)
    out = {
        "unit": unit,
        "cycle": cycle,
        "version": latest["version"],
        "from_state": latest["review"],
        "to_state": to_state,
        "comment": comment,
        "email": None,
    }
    if to_state == "returned":
        out["email"] = _mail_returned(ws, u, c, latest["version"], comment)
    return out


def _mail_returned(ws: Workspace, unit, cycle, version: int, comment: str) -> str:
    from thidua.mailer import open_mailer
    from thidua.review_mail import returned_email

    link = unit_links(ws, [(unit.code, cycle.id)]).get((unit.code, cycle.id))
    email = returned_email(ws.config, unit, cycle, version, comment, link)
    with open_mailer(ws.config.settings, ws.paths.outbox) as mailer:
        result = mailer.send(email)
    return "sent" if result.ok else f"failed: {result.error or result.refused}"
