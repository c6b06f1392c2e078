"""Benchmark of collection from the mailbox: N unit mails with workbooks on a real IMAP
server (pymap's in-memory backend on loopback), fetched and collected in one run.

Prints messages/s of the batched fetch (one UID FETCH per `THIDUA_IMAP_BATCH` messages,
BODY.PEEK) against one FETCH per message on the same server and messages, their ratio,
and the time of the whole collection (fetch → take-in → parse → GX → load → acks to the
outbox → move to the processed folder).  N synthetic units of the four kinds each mail
one nam-2025 workbook (`apps.synthetic`; cached in --corpus between runs); appending
them to the server is not timed.

Run: .venv/bin/python bench/mailbox.py [--n 5000] [--batch 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from collect import bench_config  # bench/collect.py: the sample config, N units
from imap_server import start_pymap
from mails import unit_mail

from apps import synthetic
from pipeline.collect import collect
from pipeline.init import init_workspace
from thidua.mailbox import ImapSettings, open_mailbox
from thidua.paths import Paths
from thidua.settings import REPO_CONFIG, resolve_settings
from thidua.workspace import Workspace

SENT = datetime(2025, 12, 18, 10, tzinfo=timezone(timedelta(hours=7)))
_GEN: dict = {}


def _generate(codes: list[str]) -> None:
    cfg, cycle, corpus = _GEN["cfg"], _GEN["cycle"], _GEN["corpus"]
    for code in codes:
        path = corpus / f"{code}.eml"
        if not path.exists():
            unit = cfg.unit(code)
            raw = unit_mail(
                unit.email,
                [(f"nam-2025_{code}.xlsx", synthetic.workbook(cfg, unit, cycle))],
                SENT,
                subject=f"Báo cáo năm 2025 – {unit.name}",
                message_id=f"<{code}.2025@donvi.example>",
            )
            path.write_bytes(raw)


def make_mails(cfg, n: int, corpus: Path) -> list[bytes]:
    corpus.mkdir(parents=True, exist_ok=True)
    _GEN.update(cfg=cfg, cycle=cfg.cycle("nam-2025"), corpus=corpus)
    codes = [u.code for u in cfg.units[:n]]
    chunks = [codes[i : i + 250] for i in range(0, len(codes), 250)]
    with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
        pool.map(_generate, chunks)
    return [(corpus / f"{c}.eml").read_bytes() for c in codes]


def fetch_rate(settings: ImapSettings, batch: int, limit: int | None = None) -> tuple[int, float]:
    """(messages, seconds) to fetch the folder's messages with `batch` per FETCH."""
    with open_mailbox(settings) as mb:
        uids = mb.uids()[:limit]
        start = time.perf_counter()
        got = sum(len(f.raw) > 0 for f in mb.fetch(uids, batch=batch))
        return got, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--corpus", type=Path, default=ROOT / "var" / "bench-mailbox-corpus")
    args = ap.parse_args()

    cfg = bench_config(args.n)
    t0 = time.perf_counter()
    mails = make_mails(cfg, args.n, args.corpus)
    print(
        f"{args.n} mails ready ({sum(map(len, mails)) / 1e6:.1f} MB) in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    server = start_pymap()
    try:
        t0 = time.perf_counter()
        for start in range(0, len(mails), 500):
            server.append(mails[start : start + 500])
        print(
            f"APPEND of {len(mails)} messages: {time.perf_counter() - t0:.1f} s (not timed below)"
        )
        os.environ.update(server.env() | {"THIDUA_IMAP_BATCH": str(args.batch)})
        os.environ.pop("THIDUA_SMTP_HOST", None)  # acknowledgments to the outbox
        cfg = dataclasses.replace(cfg, settings=resolve_settings(REPO_CONFIG))  # with [imap]
        settings = ImapSettings.from_settings(cfg.settings)

        # pymap parses a message on its first FETCH: one untimed pass, so neither way
        # pays that for the other
        fetch_rate(settings, args.batch)
        n_b, t_b = fetch_rate(settings, args.batch)
        n_1, t_1 = fetch_rate(settings, 1)
        rate_b, rate_1 = n_b / t_b, n_1 / t_1
        print(
            f"fetch, {args.batch} per FETCH:  {n_b} messages in {t_b:6.2f} s = {rate_b:7.0f} msgs/s"
        )
        print(f"fetch, one FETCH each: {n_1} messages in {t_1:6.2f} s = {rate_1:7.0f} msgs/s")
        print(f"ratio batched / one-by-one: {rate_b / rate_1:.1f}x")

        with tempfile.TemporaryDirectory(prefix="thidua-bench-mailbox-") as home:
            ws = Workspace(Paths(home=Path(home), config=REPO_CONFIG), cfg)
            init_workspace(ws)
            t0 = time.perf_counter()
            done = collect(ws, docs=False)
            total = time.perf_counter() - t0
            mail = done.mail
            print(
                f"collect in one run: {mail['fetched']} fetched, {done.loaded} loaded, "
                f"{mail['processed']} moved to processed, "
                f"{int((done.acks['status'] == 'sent').sum())} acknowledged: {total:.1f} s "
                f"({mail['fetched'] / total:.0f} msgs/s end to end)"
            )
            assert done.loaded == args.n == mail["processed"], "not every mail was collected"
            assert collect(ws, docs=False).mail["fetched"] == 0
    finally:
        server.stop()


if __name__ == "__main__":
    main()
