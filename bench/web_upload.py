"""Uploads through the web app, on loopback: `thidua web` (uvicorn) in a subprocess.

Each unit uploads a real workbook (`apps.synthetic.workbook`) through its own signed
link; every request is timed from send to the outcome page.  `--n 20`: N units upload at
the same moment; `--n 1`: `--repeat` units upload one after the other, a second apart
(a single upload on an idle server).  Before them one upload is timed on its own: the
first after the server started (the web app warms GX up at start-up, so it should not
pay the imports).  Then the warehouse is checked: each upload is there exactly once
(version 1, its sha256 once), and the batches it took are counted.

Two ways of collecting, each on a fresh home and server, in the same run:
- `batched` (`[web] uploads`, the default): group commit; uploads that arrive while a
  collection runs are collected together as one batch (one GX run, one load);
- `serial`, the baseline: each upload collected alone, one at a time, as first built.

    .venv/bin/python bench/web_upload.py [--n 20] [--repeat 10] [--mode both|batched|serial]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from thidua import words

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(csrf: str, data: bytes) -> tuple[bytes, str]:
    boundary = "thidua-bench-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="bao-cao.xlsx"\r\nContent-Type: {XLSX}\r\n\r\n'
    ).encode()
    return body + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[max(0, round(0.95 * len(xs)) - 1)]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its live children (the kept parsing
    worker), from /proc; 0 where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        kids = [
            int(c)
            for t in Path(f"/proc/{pid}/task").iterdir()
            for c in (t / "children").read_text().split()
        ]
    except OSError:
        return 0.0
    return own + sum(cpu_seconds(k) for k in kids)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def run(mode: str, n: int, repeat: int) -> dict:
    """One fresh home and server collecting `mode`; the timings and the checks."""
    import duckdb

    from apps import synthetic
    from apps.server import web_process
    from pipeline.init import init_workspace
    from pipeline.links import make_link
    from thidua.workspace import Workspace

    home = Path(tempfile.mkdtemp(prefix="thidua-web-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "PREFECT_API"))}
    env |= {
        "THIDUA_HOME": str(home),
        "THIDUA_CONFIG": str(REPO / "config"),
        "THIDUA_WEB_SECRET_KEY": "bench-secret-key-0123456789",
        "THIDUA_WEB_BASE_URL": f"http://127.0.0.1:{port}",
        "THIDUA_WEB_UPLOADS": mode,
    }
    ws = Workspace.from_env(env)
    init_workspace(ws)
    today = ws.config.settings.calendar.today()
    cycle = max(
        (c for c in ws.config.cycles if ws.config.calendar.stage_dates(c.due)["mo"] <= today),
        key=lambda c: c.due,
    )
    timed = n if n > 1 else repeat
    units = ws.config.expected_units(cycle)[: timed + 1]
    if len(units) < timed + 1:
        sys.exit(f"{cycle.id} expects only {len(units)} units")
    urls = {u.code: make_link(ws, u.code, cycle.id) for u in units}
    books = {u.code: synthetic.workbook(ws.config, u, cycle) for u in units}

    started = time.perf_counter()
    with web_process(port, env, home / "web.log", timeout=300) as server:
        startup = time.perf_counter() - started
        csrf = {}
        for code, url in urls.items():
            page = urllib.request.urlopen(url, timeout=30).read().decode()
            csrf[code] = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

        def upload(code: str) -> tuple[str, float, int, str]:
            body, boundary = multipart(csrf[code], books[code])
            req = urllib.request.Request(
                urls[code] + "/upload",
                data=body,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=900) as r:
                    status, text = r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                status, text = e.code, e.read().decode()
            except OSError as e:
                status, text = 0, str(e)
            return code, time.perf_counter() - start, status, text

        load_before = load()
        first = upload(units[0].code)
        codes = [u.code for u in units[1:]]
        cpu = cpu_seconds(server.pid)
        start = time.perf_counter()
        if n > 1:
            with ThreadPoolExecutor(len(codes)) as pool:
                results = list(pool.map(upload, codes))
        else:
            results = []
            for code in codes:
                time.sleep(1.0)
                results.append(upload(code))
        wall = time.perf_counter() - start
        cpu = cpu_seconds(server.pid) - cpu
        load_after = load()

    errors = [
        (c, s)
        for c, _, s, text in [first, *results]
        if s != 200 or "Phiên bản 1" not in text or words.OUTCOME["accepted"] not in text
    ]
    with duckdb.connect(str(ws.paths.warehouse), read_only=True) as con:
        rows = con.execute(
            """
            SELECT unit_code, count(*), count(DISTINCT submission_id), max(version)
            FROM submissions WHERE cycle_id = ? GROUP BY ALL""",
            [cycle.id],
        ).fetchall()
        batches = [
            k
            for (k,) in con.execute(
                """
            SELECT count(*) FROM submissions
            WHERE cycle_id = ? AND list_contains(?, unit_code)
            GROUP BY batch_id ORDER BY min(loaded_at)""",
                [cycle.id, codes],
            ).fetchall()
        ]
    per_unit = {u: (k, d, v) for u, k, d, v in rows}
    once = (
        all(per_unit.get(c) == (1, 1, 1) for c in [first[0], *codes])
        and len(per_unit) == len(codes) + 1
    )
    shutil.rmtree(home, ignore_errors=True)
    lat = [r[1] for r in results]
    return {
        "mode": mode,
        "startup": startup,
        "first": first[1],
        "lat": lat,
        "wall": wall,
        "errors": errors,
        "once": once,
        "batches": batches,
        "timed": len(codes),
        "cpu": cpu,
        "load": f"{load_before} → {load_after}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20, help="concurrent uploads (1: one by one)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=10,
        help="with --n 1: how many single uploads, one after the other",
    )
    parser.add_argument("--mode", choices=("both", "batched", "serial"), default="both")
    args = parser.parse_args()

    modes = ("batched", "serial") if args.mode == "both" else (args.mode,)
    what = (
        f"{args.n} concurrent uploads"
        if args.n > 1
        else f"{args.repeat} single uploads one after the other (idle server)"
    )
    print(f"web upload bench: {what}, uvicorn on loopback (1 worker), {os.cpu_count()} cores")
    out = {}
    for mode in modes:
        r = out[mode] = run(mode, args.n, args.repeat)
        lat = sorted(r["lat"])
        print(
            f"  {mode:8} server up in {r['startup']:.1f} s; first upload {r['first']:.2f} s; "
            f"p50 {statistics.median(lat):.2f} s, p95 {p95(lat):.2f} s, "
            f"min {lat[0]:.2f} / max {lat[-1]:.2f} s; wall {r['wall']:.2f} s; "
            f"{len(r['batches'])} batch(es) for {r['timed']} uploads "
            f"({'+'.join(map(str, r['batches'])) if args.n > 1 else 'one each'}), server CPU "
            f"{r['cpu'] / r['timed']:.2f} s an upload; errors {len(r['errors'])}"
            f"{' ' + str(r['errors']) if r['errors'] else ''}; each loaded once: "
            f"{r['once']}; load {r['load']}"
        )
    if len(out) == 2:
        b, s = out["batched"]["lat"], out["serial"]["lat"]
        print(
            f"  serial / batched: p50 {statistics.median(s) / statistics.median(b):.1f}×, "
            f"p95 {p95(s) / p95(b):.1f}×"
        )
    if any(r["errors"] or not r["once"] for r in out.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
