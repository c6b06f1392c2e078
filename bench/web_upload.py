"""Concurrent uploads through the web app, on loopback: uvicorn in a subprocess.

N units (default 20) each upload a real workbook (`thidua.synthetic.workbook`) at the
same moment through their own signed link; every request is timed from send to the
outcome page.  Then the warehouse is checked: each upload is there exactly once
(version 1, its sha256 once).  Uploads are collected one at a time per process
(`pipeline.review.WAREHOUSE_LOCK`), so p95 ≈ N × one collect; the figure to watch is
that no request fails and none is lost or doubled.

    .venv/bin/python bench/web_upload.py [--n 20]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(csrf: str, data: bytes) -> tuple[bytes, str]:
    boundary = "thidua-bench-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"bao-cao.xlsx\"\r\nContent-Type: {XLSX}\r\n\r\n").encode()
    return body + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()

    import duckdb

    from pipeline.init import init_workspace
    from pipeline.review import make_link
    from thidua import synthetic
    from thidua.workspace import Workspace

    home = Path(tempfile.mkdtemp(prefix="thidua-web-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "PREFECT_API"))}
    env |= {"THIDUA_HOME": str(home), "THIDUA_CONFIG": str(REPO / "config"),
            "THIDUA_WEB_SECRET_KEY": "bench-secret-key-0123456789",
            "THIDUA_WEB_BASE_URL": f"http://127.0.0.1:{port}"}
    ws = Workspace.from_env(env)
    init_workspace(ws)
    today = ws.config.settings.calendar.today()
    cycle = max((c for c in ws.config.cycles
                 if ws.config.calendar.stage_dates(c.due)["mo"] <= today), key=lambda c: c.due)
    units = ws.config.expected_units(cycle)[:args.n + 1]
    if len(units) < args.n + 1:
        sys.exit(f"{cycle.id} expects only {len(units)} units")
    urls = {u.code: make_link(ws, u.code, cycle.id) for u in units}
    books = {u.code: synthetic.workbook(ws.config, u, cycle) for u in units}

    server = subprocess.Popen([sys.executable, "-m", "apps", "web", "--port", str(port)],
                              env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("server did not start: " + server.stderr.read().decode()[-2000:])
                time.sleep(0.2)
        csrf = {}
        for code, url in urls.items():
            page = urllib.request.urlopen(url, timeout=30).read().decode()
            csrf[code] = re.search(r'name="csrf" value="([^"]+)"', page).group(1)

        def upload(code: str) -> tuple[str, float, int, str]:
            body, boundary = multipart(csrf[code], books[code])
            req = urllib.request.Request(urls[code] + "/upload", data=body, headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}"})
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=600) as r:
                    status, text = r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                status, text = e.code, e.read().decode()
            except OSError as e:
                status, text = 0, str(e)
            return code, time.perf_counter() - start, status, text

        warm = upload(units[0].code)            # the first collect imports GX: not timed
        codes = [u.code for u in units[1:]]
        start = time.perf_counter()
        with ThreadPoolExecutor(len(codes)) as pool:
            results = list(pool.map(upload, codes))
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(30)

    lat = sorted(r[1] for r in results)
    errors = [(c, s) for c, _, s, text in results
              if s != 200 or "Phiên bản 1" not in text or "hợp lệ" not in text]
    with duckdb.connect(str(ws.paths.warehouse), read_only=True) as con:
        rows = con.execute("""
            SELECT unit_code, count(*), count(DISTINCT submission_id), max(version)
            FROM submissions WHERE cycle_id = ? GROUP BY ALL""", [cycle.id]).fetchall()
        logged = con.execute("SELECT count(*) FROM review_log WHERE cycle_id = ?",
                             [cycle.id]).fetchone()[0]
    per_unit = {u: (n, d, v) for u, n, d, v in rows}
    once = all(per_unit.get(c) == (1, 1, 1) for c in [warm[0], *codes])
    p95 = lat[max(0, round(0.95 * len(lat)) - 1)]
    print(f"web upload bench: {len(codes)} concurrent uploads to {cycle.id}, uvicorn on "
          f"127.0.0.1:{port} (1 worker), {os.cpu_count()} cores")
    print(f"  warm-up upload (first collect, imports GX): {warm[1]:.2f} s, status {warm[2]}")
    print(f"  latency p50 {statistics.median(lat):.2f} s, p95 {p95:.2f} s, "
          f"min {lat[0]:.2f} s, max {lat[-1]:.2f} s; wall {wall:.2f} s "
          f"({len(codes) / wall:.2f} uploads/s, {wall / len(codes):.2f} s each serialised)")
    print(f"  errors: {len(errors)} {errors or ''}")
    print(f"  warehouse: {len(per_unit)} units with submissions, each exactly once: {once}; "
          f"review_log rows {logged}")
    shutil.rmtree(home, ignore_errors=True)
    if errors or not once:
        sys.exit(1)


if __name__ == "__main__":
    main()
