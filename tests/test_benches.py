"""Every bench runs in a small mode (its equality and delivery checks included), so none
can rot between the runs that measure: `make test-slow`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

# script, small-mode arguments ({tmp}: a fresh directory), a line its output must hold
SMOKE = [
    ("cli_collect.py", ["--runs", "1"], "floor: a process importing GX"),
    ("collect.py", ["--n", "60", "--sample", "5", "--corpus", "{tmp}"], "end to end"),
    ("mailbox.py", ["--n", "20", "--batch", "10", "--corpus", "{tmp}"], "20 loaded"),
    (
        "national.py",
        ["--communes", "4", "--provinces", "2"],
        "national totals equal the sums of the packages sent: True",
    ),
    ("remind.py", ["--units", "3000", "--emails", "20"], "mailer, one connection"),
    ("rollup.py", ["--units", "2000"], "same results (checked equal)"),
    ("tenants.py", ["--tenants", "2", "--timeout", "600"], "every run completed: True"),
    ("web_upload.py", ["--n", "2", "--mode", "both"], "each loaded once: True"),
]


@pytest.mark.parametrize(("script", "args", "expected"), SMOKE, ids=[s[0] for s in SMOKE])
def test_bench_smoke(script, args, expected, tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *(a.format(tmp=tmp_path) for a in args)],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # tenants.py: two Prefect servers, one after the other
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    assert expected in out.stdout
