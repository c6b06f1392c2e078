"""Take in, parse and registry-check a batch of inbox files in worker processes: a
process pool when the batch is large, one worker otherwise, so no file can take the run
down.

A file costs about 0.7 ms of CPU (calamine, then Python), so a national cycle gains from
every core.  Workers send back compact tuples rather than the dataclasses: unpickling
a `Parsed` costs the parent ~0.2 ms, as much as a third of the work it saves.  The
values of a chunk of files travel as one list per field (`ValueColumns`), which pickles
in a fraction of the time of a tuple per value.  Unit and cycle travel as their codes
and are bound again to the parent's config objects.  Workers run under a memory and
a time limit (`workers.map_isolated`); the file a worker died on is unreadable alone.
"""

from __future__ import annotations

import gc
import sys
import threading
from contextlib import closing
from dataclasses import fields
from operator import attrgetter
from pathlib import Path

from thidua.checks import Examined, check_registry, examine_unreadable
from thidua.config import Config
from thidua.intake import Arrival, Incoming, arrival_of, finish, prepare, take, take_entry
from thidua.parse import VALUE_FIELDS, Limits, Parsed, Unreadable, ValueColumns, parse_file
from thidua.rules import Problem, problem
from thidua.workers import Isolation, KeptWorkers, gc_paused, map_isolated, pool_size

WORKER_DIED = "tệp quá lớn hoặc hỏng, không đọc được trong thời gian cho phép"
_problem_fields = attrgetter(*(f.name for f in fields(Problem)))


def examine_one(cfg: Config, inc: Incoming, limits: Limits, data: bytes | None = None) -> Examined:
    """Parse and registry-check one submission (its bytes `data`, read from the archive
    if not given); what cannot be read, or was refused at take-in, is an unreadable
    outcome with its reason."""
    if inc.refused:
        return examine_unreadable(inc, inc.refused)
    notes = [problem(rule, value=value) for rule, value in inc.notes]  # beside a workbook
    try:
        data = inc.archived_path.read_bytes() if data is None else data
        parsed = parse_file(inc.name, data, limits)
    except Unreadable as exc:
        return examine_unreadable(inc, str(exc))
    ex = Examined(inc, parsed, problems=list(parsed.problems))
    check_registry(cfg, ex)
    ex.problems += notes
    return ex


def take_and_examine(
    cfg: Config,
    paths: list[Path],
    archive_dir: Path,
    limits: Limits,
    authserv_id: str | None = None,
    max_bytes: int | None = None,
    workers: int | None = None,
) -> tuple[list[Arrival], list[Examined]]:
    """Take in (`intake.take_entry`: archive the raw bytes) then `examine_one` each inbox
    file, in one pass of isolated worker processes (`map_isolated`): on `workers`
    processes (default: one per core) when the batch is large enough
    (`workers.pool_size`), else on one.  One pass, not two: the files are read once and
    one set of workers is started (a national cycle: 97 s instead of 120, bench/README.md).

    Returns the arrivals (paths order, paired documents attached, the archive synced) and
    the examination of each of their submissions, in the same order.  A file whose
    worker dies (memory limit, a crash in the parser), runs out of time or raises is run
    again alone; failing alone, it is taken in here, in this process, and each of its
    submissions is unreadable: its raw bytes are archived all the same, and a take-in
    that fails here too (a full disk) fails the collection, recording nothing."""
    paths, companions = prepare(paths, archive_dir)
    if not paths:
        return finish([], companions, archive_dir, max_bytes), []
    isolation = Isolation(
        limits.worker_memory_bytes, limits.worker_seconds, limits.worker_seconds_per_file
    )
    where = (archive_dir, authserv_id, max_bytes)  # pickled once per chunk
    arrivals: list[Arrival] = []
    examined: list[Examined] = []
    pooled = pool_size(len(paths), workers)
    results = map_isolated(
        _take_examine_chunk,
        [(p, where) for p in paths],
        pooled or 1,
        _init,
        (cfg, limits),
        isolation,
        getattr(_kept, "workers", None),
    )
    with gc_paused(), closing(results):  # unpacked while the workers go on
        for chunk, result in results:
            if result is None:
                [(path, _)] = chunk
                arrival = take(path, archive_dir, authserv_id, max_bytes)
                arrivals.append(arrival)
                examined += [examine_unreadable(s, WORKER_DIED) for s in arrival.submissions]
                continue
            taken, heads, cols = result
            start = 0
            for (path, _), t, file_heads in zip(chunk, taken, heads, strict=True):
                arrival = arrival_of(path, archive_dir, t)
                arrivals.append(arrival)
                for inc, head in zip(arrival.submissions, file_heads, strict=True):
                    ex, start = _unpack(cfg, inc, head, cols, start)
                    examined.append(ex)
        if pooled:  # a large batch's objects, kept till the load, make no cycles: frozen
            gc.freeze()  # out of the collector's passes (0.9 s at 40,000 files); refcounts free them
    return finish(arrivals, companions, archive_dir, max_bytes), examined


def misdirected(ex: Examined, unit: str, cycle: str) -> str | None:
    """Why the workbook an upload link of `unit` for `cycle` sent is not that unit's
    report for that cycle (its ThongTin names another), else None.  Read from the
    examination (the isolated worker parsed it); an unreadable file goes on, recorded as
    such."""
    if ex.parsed is None:
        return None
    code = (ex.parsed.info.get("ma_don_vi", (None, None))[0] or "").strip()
    cyc = (ex.parsed.info.get("ky_bao_cao", (None, None))[0] or "").strip()
    if code and code.upper() != unit:
        return (
            f"Tệp này là biểu mẫu của đơn vị {code}, không phải của đơn vị {unit}. "
            "Hãy tải biểu mẫu của đơn vị mình trên trang này."
        )
    if cyc and cyc.lower() != cycle:
        return f"Tệp này là báo cáo kỳ {cyc}, không phải kỳ {cycle}."
    return None


def set_apart(
    examined: list[Examined], claims: dict[str, tuple[str, str]]
) -> tuple[list[Examined], list[tuple[Incoming, str]]]:
    """(the examined to load, the misdirected with why): a file sent by a link
    (`claims`: its inbox file name → the link's unit and cycle) whose workbook is
    another unit's or cycle's is never loaded, so it stays free for its own unit."""
    keep, apart = [], []
    for ex in examined:
        claim = claims.get(ex.incoming.origin.name)
        why = misdirected(ex, *claim) if claim else None
        if why:
            apart.append((ex.incoming, why))
        else:
            keep.append(ex)
    return keep, apart


_worker: dict = {}
_kept = threading.local()


def keep_workers(keep: KeptWorkers | None) -> None:
    """`take_and_examine` called from this thread keeps its idle workers in `keep` between
    calls (the web app's upload thread), instead of spawning and stopping them each
    time; None stops that.  Per thread: a worker dies with the thread that spawned it."""
    _kept.workers = keep


def _init(cfg: Config, limits: Limits) -> None:
    _worker.update(cfg=cfg, limits=limits)


def _take_examine_chunk(
    chunk: list[tuple[Path, tuple[Path, str | None, int | None]]],
) -> tuple[list, list[list[tuple]], tuple[list, ...]]:
    """(what `take_entry` returned for each file, one head tuple per submission of each
    file, the values of all the chunk's submissions as columns)."""
    cfg, limits = _worker["cfg"], _worker["limits"]
    cols: tuple[list, ...] = tuple([] for _ in VALUE_FIELDS)
    taken, heads = [], []
    for path, (archive_dir, authserv_id, max_bytes) in chunk:
        t, data = take_entry(path, archive_dir, authserv_id, max_bytes)
        taken.append(t)
        heads.append(
            [
                _pack(examine_one(cfg, inc, limits, data), cols)
                for inc in arrival_of(path, archive_dir, t).submissions
            ]
        )
    return taken, heads, cols


def _pack(ex: Examined, cols: tuple[list, ...]) -> tuple:
    problems = [_problem_fields(q) for q in ex.problems]
    head = (ex.unit.code if ex.unit else None, ex.cycle.id if ex.cycle else None, ex.late, problems)
    p = ex.parsed
    if p is None:
        return (*head, None)
    codes, measures, values, raws, notes, cells = cols
    intern = sys.intern  # repeated in every file: pickled once per chunk
    for v in p.values:
        codes.append(intern(v.code))
        measures.append(intern(v.measure))
        values.append(v.value)
        raws.append(v.raw)
        notes.append(v.note)
        cells.append(intern(v.cell))
    return (
        *head,
        (
            p.file_format,
            p.info,
            p.info_sheet,
            p.measures,
            len(p.values),
            p.initiatives,
            p.proposals,
            len(p.problems),
        ),
    )


def _unpack(
    cfg: Config, inc: Incoming, t: tuple, cols: tuple[list, ...], start: int
) -> tuple[Examined, int]:
    """The Examined of one head tuple, its values rows `start:` of `cols`; and where
    the next file's values start."""
    unit, cycle, late, problems, p = t
    problems = [Problem(*q) for q in problems]
    parsed = None
    if p is not None:
        fmt, info, info_sheet, measures, n_values, initiatives, proposals, n_parse = p
        # parse problems come first in an Examined's list (see examine_one)
        values = ValueColumns(cols, start, start + n_values)
        start += n_values
        parsed = Parsed(
            fmt, info, info_sheet, measures, [], initiatives, proposals, problems[:n_parse]
        )
        parsed.values = values  # type: ignore[assignment]  # a list, as ValueColumns reads
    return Examined(
        inc,
        parsed,
        cfg.units_by_code[unit] if unit else None,
        cfg.cycles_by_id[cycle] if cycle else None,
        late,
        problems,
    ), start
