"""Benchmark of collection: N synthetic submissions through the real pipeline.

Prints files/s parsed (python-calamine), the time of each step of `pipeline.collect`
(take in: archive, parse and check in one pass; examine: GX; load), and ratios of
validate+load against
  (a) a naive pipeline timed on a sample and extrapolated to N: openpyxl, one GX
      validation per file (context and suite reused), row-by-row INSERTs;
  (b) a raw DuckDB bulk insert of the same values (the floor for loading);
and end to end against the floor: the files parsed (calamine) on a pool of one process
per core, plus (b); then against the floor plus what keeping each file's raw bytes costs
at least (a copy of every file written on the same pool), and each step's CPU time with
its kernel share.
N synthetic units (S000001…) of the four kinds each send one workbook for nam-2025,
generated with the template module (not timed; cached in --corpus between runs).

Run: .venv/bin/python bench/collect.py [--n 5000] [--n 133000] [--sample 40]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
import tempfile
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

import pandas as pd

from apps import synthetic
from pipeline.collect import examine, load, take_in
from pipeline.init import init_workspace
from thidua.config import UNIT_KINDS, Unit, load_config
from thidua.parse import Limits, parse_file
from thidua.paths import Paths
from thidua.settings import REPO_CONFIG
from thidua.workers import map_chunks
from thidua.workspace import Workspace
from warehouse.db import connect, migrate, session

RECEIVED = datetime(2025, 12, 18, 10, tzinfo=timezone(timedelta(hours=7))).timestamp()
BLOCKS = {
    "co_quan": "chinh_quyen",
    "mat_tran_doan_the": "mat_tran_doan_the",
    "doanh_nghiep": "doanh_nghiep",
    "thon_xom": "thon_xom",
}


def bench_config(n: int):
    """The sample config with N synthetic units instead of the 39 of Phong Doanh."""
    cfg = load_config(REPO_CONFIG)
    units = tuple(
        Unit(
            f"S{i:06d}",
            f"Đơn vị {i}",
            kind,
            BLOCKS[kind],
            f"u{i}@x.example",
            "Trưởng đơn vị",
            f"h{i}@x.example",
        )
        for i in range(1, n + 1)
        for kind in [UNIT_KINDS[i % 4]]
    )
    return dataclasses.replace(cfg, units=units)


_GEN: dict = {}


def _generate(codes: list[str]) -> None:
    cfg, cycle, corpus = _GEN["cfg"], _GEN["cycle"], _GEN["corpus"]
    for code in codes:
        path = corpus / f"{code}.xlsx"
        if not path.exists():
            path.write_bytes(synthetic.workbook(cfg, cfg.unit(code), cycle))


def make_corpus(cfg, n: int, corpus: Path) -> list[Path]:
    """One workbook per synthetic unit, written by a process per core (fork)."""
    import multiprocessing

    corpus.mkdir(parents=True, exist_ok=True)
    _GEN.update(cfg=cfg, cycle=cfg.cycle("nam-2025"), corpus=corpus)
    codes = [u.code for u in cfg.units[:n]]
    chunks = [codes[i : i + 500] for i in range(0, len(codes), 500)]
    with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
        pool.map(_generate, chunks)
    return [corpus / f"{c}.xlsx" for c in codes]


CPU: dict[str, float] = {}  # CPU seconds of each step, its worker processes included
KERNEL: dict[str, float] = {}  # of which in the kernel (system time)


def cpu_seconds() -> float:
    """CPU time of this process and of its ended children (the pools' workers): unlike
    the wall time, it hardly moves with the machine's load."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def kernel_seconds() -> float:
    t = os.times()
    return t.system + t.children_system


def timed(fn, step: str):
    cpu, kernel, start = cpu_seconds(), kernel_seconds(), time.perf_counter()
    out = fn()
    CPU[step] = cpu_seconds() - cpu
    KERNEL[step] = kernel_seconds() - kernel
    return out, time.perf_counter() - start


# -- (a) naive: openpyxl, one GX run per file, row-by-row INSERTs ----------------------


def naive_per_file(cfg, files: list[Path], db: Path) -> float:
    """Seconds per file of the naive pipeline, over `files`."""
    import great_expectations as gx
    import openpyxl
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from expectations.submissions import build_expectations, long_frame

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_def = (
        ctx.data_sources.add_pandas("naive")
        .add_dataframe_asset("one")
        .add_batch_definition_whole_dataframe("file")
    )
    suite = ctx.suites.add(gx.ExpectationSuite(name="naive", expectations=build_expectations(cfg)))
    rf = {"result_format": "COMPLETE", "unexpected_index_column_names": ["row_id"]}
    with connect(db) as con:
        migrate(con)
        start = time.perf_counter()
        for path in files:
            book = openpyxl.load_workbook(path, data_only=True)
            sid = path.stem
            rows = [
                (
                    sid,
                    "nam-2025",
                    "nam",
                    r[0].value,
                    "value",
                    float(r[3].value),
                    None,
                    r[3].coordinate,
                )
                for r in book["ChiTieu"].iter_rows(min_row=2)
                if r[0].value
            ]
            unit = book["ThongTin"]["C2"].value
            values = pd.DataFrame(
                rows,
                columns=[
                    "submission_id",
                    "cycle_id",
                    "cycle_kind",
                    "indicator",
                    "measure",
                    "value",
                    "raw",
                    "cell",
                ],
            )
            frame = long_frame(
                values,
                cfg,
                pd.DataFrame(columns=["submission_id", "indicator", "prev"]),
                pd.Series(dtype=float),
            )
            batch_def.get_batch(batch_parameters={"dataframe": frame}).validate(
                suite, result_format=rf
            )
            con.execute(
                "INSERT INTO submissions (submission_id, unit_code, cycle_id, "
                "received_at, outcome, file_format, batch_id) VALUES "
                "(?, ?, 'nam-2025', now(), 'accepted', 'xlsx', 'naive')",
                [sid, unit],
            )
            for r in rows:
                con.execute(
                    "INSERT INTO submission_values (submission_id, indicator_code, "
                    "measure, value, raw, note, cell) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [sid, r[3], r[4], r[5], None, None, r[7]],
                )
        return (time.perf_counter() - start) / len(files)


# -- (b) floor: the same values, one bulk insert; the files parsed on every core --------


def _parse_chunk(paths: list[Path], limits: Limits) -> int:
    return sum(len(parse_file(p.name, p.read_bytes(), limits).values) for p in paths)


def pooled_parse(files: list[Path], limits: Limits) -> float:
    """Seconds to parse every file on a pool of one process per core (its start
    included): what no isolation, no archive and no check would cost."""
    return timed(
        lambda: map_chunks(partial(_parse_chunk, limits=limits), files, os.cpu_count() or 1),
        "parse",
    )[1]


def _copy_chunk(paths: list[Path], dest: Path) -> int:
    for p in paths:
        (dest / p.name).write_bytes(p.read_bytes())
    return len(paths)


def archive_copies(files: list[Path], dest: Path) -> float:
    """Seconds to write a copy of every file into a new directory on the same pool: the
    least that keeping each file's raw bytes costs (the kernel creating the files),
    which the floor does not pay."""
    dest.mkdir()
    return timed(
        lambda: map_chunks(partial(_copy_chunk, dest=dest), files, os.cpu_count() or 1),
        "copies",
    )[1]


def filesystem(path: Path) -> str:
    """The file system holding `path`, as the bench reports it: its type and device,
    and for ext4 whether it has a journal.  Without one (this VM's root), ext4 skips
    the inodes freed in the last minutes each time it allocates one (`recently_deleted`
    in `find_inode_bit`, measured with perf): creating a file costs 0.08 ms when nothing
    was deleted lately and 0.5-0.8 ms after a run deleted 100,000 files, against 0.02 ms
    on a journaled ext4 (bench/README.md)."""
    mounts = [line.split()[:3] for line in Path("/proc/mounts").read_text().splitlines()]
    path = path.resolve()
    device, _, kind = max((m for m in mounts if path.is_relative_to(m[1])), key=lambda m: len(m[1]))
    if kind != "ext4":
        return f"{kind} on {device}"
    journal = Path("/sys/fs/ext4", Path(device).name, "journal_task")
    has = journal.exists() and journal.read_text().strip() != "<none>"
    return f"ext4 on {device} ({'journaled' if has else 'no journal'})"


def raw_bulk_insert(values: pd.DataFrame, db: Path) -> float:
    with connect(db) as con:
        migrate(con)
        con.register("vals", values)
        start = time.perf_counter()
        con.execute("INSERT INTO submission_values BY NAME SELECT * FROM vals")
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="submissions (default 5000)")
    ap.add_argument("--sample", type=int, default=40, help="files timed for the naive run")
    ap.add_argument(
        "--corpus",
        type=Path,
        default=Path(tempfile.gettempdir()) / "thidua-bench-collect",
        help="where generated workbooks are cached",
    )
    ap.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()),
        help="where the home (inbox, archive, warehouse) is made: its file system sets "
        "what creating the archive's files costs",
    )
    args = ap.parse_args()
    n = args.n
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

    cfg = bench_config(n)
    print(f"generating {n} workbooks in {args.corpus} (cached; not timed)...", flush=True)
    files = make_corpus(cfg, n, args.corpus)
    work = Path(tempfile.mkdtemp(prefix="thidua-bench-", dir=args.work))
    ws = Workspace(Paths(home=work / "home", config=REPO_CONFIG), cfg)
    init_workspace(ws)
    for f in files:
        dest = ws.paths.inbox / f.name
        os.link(f, dest) if f.stat().st_dev == work.stat().st_dev else shutil.copy(f, dest)
        os.utime(dest, (RECEIVED, RECEIVED))

    import great_expectations  # noqa: F401 - import cost (~3 s) is not the pipeline's

    for f in files:  # in the page cache for the floor too, as the take-in finds them
        f.read_bytes()
    limits = Limits.from_checks(cfg.settings.checks)
    t_parse = pooled_parse(files, limits)
    # as `thidua collect` does: the warehouse held open for the sequence (`session`);
    # closing it (DuckDB's checkpoint) is part of the load
    held = contextlib.ExitStack()
    held.enter_context(session(ws.paths.warehouse))
    taken, t_take = timed(lambda: take_in(ws), "take")
    batch, t_gx = timed(lambda: examine(ws, taken, docs=False), "gx")
    examined = batch.examined

    def load_and_close() -> int:
        loaded = load(ws, batch)
        held.close()
        return loaded

    loaded, t_load = timed(load_and_close, "load")
    assert loaded == n, loaded
    outcomes = pd.Series([ex.outcome for ex in examined]).value_counts().to_dict()
    with connect(ws.paths.warehouse, read_only=True) as con:
        values = con.sql("SELECT * EXCLUDE (sk) FROM submission_values").df()
    t_raw = raw_bulk_insert(values, work / "raw.duckdb")
    t_naive = naive_per_file(cfg, files[: args.sample], work / "naive.duckdb")
    t_copies = archive_copies(files, work / "copies")
    fs = filesystem(work)
    shutil.rmtree(work)

    validate_load = t_gx + t_load
    end_to_end = t_take + t_gx + t_load
    naive_total = t_naive * n
    print(f"\n{n} submissions, {len(values)} values; outcomes {outcomes}")
    print(f"home on {fs}; load average {os.getloadavg()[0]:.2f} at the end")
    cpu = CPU["take"] + CPU["gx"] + CPU["load"]
    print(
        f"parse only (calamine, pool) {t_parse:7.2f} s  {n / t_parse:8.0f} files/s  CPU {CPU['parse']:7.2f} s"
        f" (kernel {KERNEL['parse']:.2f})"
    )
    print(
        f"take in: archive, parse, registry checks, record (one pass) {t_take:8.2f} s  "
        f"{n / t_take:8.0f} files/s  CPU {CPU['take']:7.2f} s (kernel {KERNEL['take']:.2f})"
    )
    print(f"examine: duplicates, GX (one run), copied texts {t_gx:8.2f} s  CPU {CPU['gx']:7.2f} s")
    print(f"load: frames, one transaction, checkpoint {t_load:8.2f} s  CPU {CPU['load']:7.2f} s")
    print(
        f"end to end                 {end_to_end:8.2f} s  {n / end_to_end:8.0f} files/s  CPU {cpu:7.2f} s"
    )
    print(
        f"(a) naive, per file        {t_naive * 1000:8.1f} ms (sample of {args.sample}) -> "
        f"{naive_total:8.0f} s for {n}"
    )
    print(f"(b) raw bulk insert        {t_raw:8.3f} s")
    floor = t_parse + t_raw
    print(f"floor (parse only + (b))   {floor:8.2f} s")
    print(f"end to end vs floor: {end_to_end / floor:8.2f}x the floor")
    print(
        f"  in CPU time:       {cpu / (CPU['parse'] + t_raw):8.2f}x (floor {CPU['parse'] + t_raw:.2f} s)"
    )
    print(
        f"archive copies alone (pool)  {t_copies:8.2f} s  CPU {CPU['copies']:7.2f} s"
        f" (kernel {KERNEL['copies']:.2f})"
    )
    with_copies = floor + t_copies
    print(f"end to end vs floor + archive copies: {end_to_end / with_copies:8.2f}x")
    print(f"  in CPU time:       {cpu / (CPU['parse'] + t_raw + CPU['copies']):8.2f}x")
    print(f"validate+load vs (a): {naive_total / validate_load:8.0f}x faster")
    print(f"end to end    vs (a): {naive_total / end_to_end:8.0f}x faster")
    print(f"validate+load vs (b): {validate_load / t_raw:8.1f}x the raw bulk insert")


if __name__ == "__main__":
    main()
