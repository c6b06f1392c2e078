"""Benchmark of hosting: N tenants' scheduled collects on one Prefect server, two ways.

  single  the baseline: the server on SQLite (`apps/server.py`'s default) and one
          process worker, as one host runs it;
  multi   the province set-up (docs/deploy.md): the server on PostgreSQL (a cluster of
          this bench's own, `apps.postgres`) and the process work pool served by
          `--workers` workers (the hosts; here on this machine).
Each set-up starts from nothing: N tenants with tiny homes (one workbook in each inbox),
their `collect` deployment each, one scheduled run of each created directly at the same
`scheduled_time` (`--spread` 0: the `*/15` schedules of every commune land on the same
minute), then waited for.  From the Prefect API: runs per minute sustained (completed
runs over first scheduled time → last end) and queue latency (`start_time` −
`expected_start_time`) p50/p95.  Both set-ups share this machine, so compare ratios.

Run: .venv/bin/python bench/tenants.py [--tenants 129] [--workers 2] [--spread 0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from apps import synthetic
from apps.postgres import cluster, pg_bin
from apps.server import Server, free_port, without_schedules
from pipeline.init import init_workspace
from thidua.settings import REPO_CONFIG
from thidua.tenants import load_tenants

LEAD = 20.0  # seconds between creating the runs and their scheduled time


@dataclass
class Result:
    label: str
    runs: int
    completed: int
    per_minute: float
    p50: float
    p95: float
    setup: float


def tenants_file(root: Path, n: int) -> Path:
    """N tenants on the sample config, each a home with one workbook in its inbox."""
    names = [f"xa-{i:03d}" for i in range(1, n + 1)]
    root.mkdir(parents=True)
    path = root / "tenants.toml"
    path.write_text(
        "".join(
            f'[tenants.{name}]\nconfig = "{REPO_CONFIG}"\nhome = "{name}/home"\n' for name in names
        ),
        "utf-8",
    )
    for i, t in enumerate(load_tenants(path).values()):
        ws = t.workspace()
        init_workspace(ws)
        unit = ws.config.units[i % len(ws.config.units)]
        cycle = ws.config.cycle("nam-2025")
        (ws.paths.inbox / f"{unit.code}.xlsx").write_bytes(
            synthetic.workbook(ws.config, unit, cycle)
        )
    return path


def start_workers(server: Server, n: int, logs: Path) -> list[subprocess.Popen]:
    logs.mkdir(parents=True, exist_ok=True)
    procs = []
    for i in range(1, n + 1):
        with open(logs / f"worker-{i}.log", "ab") as out:
            procs.append(
                subprocess.Popen(
                    server.worker_command(f"host-{i}"),
                    env=server.env(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(p.pid, signal.SIGKILL)


def schedule_runs(spread: float) -> tuple[datetime, list]:
    """One scheduled run of each tenant's collect, the first LEAD seconds from now."""
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    first = datetime.now(UTC) + timedelta(seconds=LEAD)
    with get_client(sync_client=True) as client:
        deployments = sorted(client.read_deployments(), key=lambda d: d.name)
        step = spread / max(1, len(deployments) - 1)
        ids = [
            client.create_flow_run_from_deployment(
                d.id, state=Scheduled(scheduled_time=first + timedelta(seconds=i * step))
            ).id
            for i, d in enumerate(deployments)
        ]
    return first, ids


def wait_runs(ids: list, timeout: float) -> list:
    """The flow runs once every one is final (or at the timeout)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=len(ids)
            )
            if all(r.state and r.state.is_final() for r in runs) or time.monotonic() > deadline:
                return runs
            time.sleep(3)


def measure(label: str, server: Server, workers: int, spread: float, timeout: float) -> Result:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    started = time.perf_counter()
    procs: list[subprocess.Popen] = []
    try:
        server.start(timeout=300, worker=False)
        procs = start_workers(server, workers, server.home / "logs")
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            without_schedules()  # only the runs made here
            setup = time.perf_counter() - started
            first, ids = schedule_runs(spread)
            runs = wait_runs(ids, timeout)
    finally:
        stop_workers(procs)
        server.stop()
    done = [r for r in runs if r.state and r.state.name == "Completed"]
    waits = [(r.start_time - r.expected_start_time).total_seconds() for r in runs if r.start_time]
    last = max((r.end_time for r in done), default=first)
    minutes = max((last - first).total_seconds(), 1e-9) / 60
    p50, p95 = np.percentile(waits, [50, 95]) if waits else (float("nan"),) * 2
    return Result(label, len(runs), len(done), len(done) / minutes, p50, p95, setup)


def print_table(results: list[Result]) -> None:
    print(f"\n{'set-up':<34} {'runs':>5} {'done':>5} {'runs/min':>9} {'p50 s':>7} {'p95 s':>7}")
    for r in results:
        print(
            f"{r.label:<34} {r.runs:>5} {r.completed:>5} {r.per_minute:>9.2f} "
            f"{r.p50:>7.1f} {r.p95:>7.1f}   (set-up {r.setup:.0f} s)"
        )
    if len(results) == 2:
        base, multi = results
        print(
            f"multi vs single: runs/min {multi.per_minute / base.per_minute:.2f}x, "
            f"queue p95 {multi.p95 / base.p95:.2f}x"
        )
    every = all(r.completed == r.runs for r in results)
    print(f"every run completed: {every}")


def load() -> str:
    return subprocess.run(["uptime"], check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=129)
    ap.add_argument("--workers", type=int, default=2, help="workers of the multi set-up")
    ap.add_argument("--spread", type=float, default=0.0, help="seconds the runs spread over")
    ap.add_argument("--timeout", type=float, default=3600.0, help="per set-up, seconds")
    args = ap.parse_args()
    print(load())
    work = Path(tempfile.mkdtemp(prefix="thidua-bench-tenants-"))
    results = []
    try:
        for label, workers in (("single: SQLite, 1 worker", 1), ("multi", args.workers)):
            database = None
            with ExitStack() as stack:
                if label == "multi":
                    bin_dir = pg_bin()
                    if bin_dir is None:
                        print("multi skipped: PostgreSQL absent (THIDUA_PG_BIN)")
                        break
                    database = stack.enter_context(cluster(bin_dir))
                    label = f"multi: PostgreSQL, {workers} workers"
                root = work / label.split(":")[0]
                tenants = tenants_file(root, args.tenants)
                server = Server(
                    root / "server",
                    free_port(),
                    tenants=tenants,
                    database=database,
                    deployments=("collect",),
                )
                results.append(measure(label, server, workers, args.spread, args.timeout))
            print(load())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(results)


if __name__ == "__main__":
    main()
