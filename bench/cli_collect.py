"""`thidua collect` of one file, as a user runs it: a new process, no Prefect server.

Baseline in the same run: the `collect` flow on an ephemeral Prefect API, in a new
process (what `thidua collect` did before the pipeline layer).  Both collect the same
workbook into fresh homes.  Prints wall times (best of N) and their ratio, plus the
floor that no collection can go under: a process importing Great Expectations.

    .venv/bin/python bench/cli_collect.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKBOOK = REPO / "tests" / "data" / "collect" / "good.xlsx"
BIN = Path(sys.executable).parent
FLOW = "from flows.collect import collect_flow; collect_flow()"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def one_file(cmd: list[str], runs: int) -> float:
    """Best wall time of `cmd` collecting one workbook into a fresh initialised home."""
    best = float("inf")
    for _ in range(runs):
        home = Path(tempfile.mkdtemp(prefix="thidua-bench-"))
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "PREFECT_API"))
        } | {"THIDUA_HOME": str(home)}
        subprocess.run(
            [str(BIN / "thidua"), "init"], check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL
        )
        shutil.copy(WORKBOOK, home / "inbox")
        best = min(best, timed(cmd, env))
        shutil.rmtree(home)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    runs = ap.parse_args().runs
    env = dict(os.environ)
    floor = min(
        timed([sys.executable, "-c", "import great_expectations"], env) for _ in range(runs)
    )
    cli = one_file([str(BIN / "thidua"), "collect"], runs)
    flow = one_file([sys.executable, "-c", FLOW], runs)
    print(f"thidua collect, one file, no server:   {cli:6.2f} s (best of {runs})")
    print(f"the collect flow, ephemeral Prefect:   {flow:6.2f} s (the old `thidua collect`)")
    print(f"ratio flow / cli:                      {flow / cli:6.1f}x")
    print(f"floor: a process importing GX:         {floor:6.2f} s")


if __name__ == "__main__":
    main()
