"""The hostile inbox (tests/data/hostile.py) collected in one run with valid files: the
run ends normally, every inbox file has one record and its submissions one outcome
each, every valid file is loaded, no worker dies, memory stays bounded."""

from __future__ import annotations

import resource
import time
from collections import Counter

import pytest
from data.hostile import ATTACHMENTS, MAIL_UNIT, build

from pipeline.collect import collect
from thidua.examine import WORKER_DIED
from thidua.intake import safe_name
from warehouse.db import connect

# Peak RSS measured on this 2-core VM: the pytest process ~0.6 GB at most over the
# whole suite (0.42 GB when the corpus runs alone), the largest worker 0.26 GB alone.
# RUSAGE_CHILDREN counts every child of the session, and in the full suite that
# includes test_crash's collection of 1,000 files (0.61 GB), hence the wider bound.
MAX_SELF_RSS_KB = 1_200_000
MAX_WORKER_RSS_KB = 1_200_000


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The corpus built into a fresh workspace's inbox and collected once."""
    from helpers import fresh_home

    home = tmp_path_factory.mktemp("hostile") / "home"
    with pytest.MonkeyPatch.context() as mp:
        ws = fresh_home(mp, home)
        cases = build(ws.config, ws.paths.inbox)
        start = time.perf_counter()
        batch = collect(ws, docs=False, acks=False).batch
        seconds = time.perf_counter() - start
        yield ws, cases, batch, seconds


def per_file(batch) -> dict[str, tuple[list[str], list[str]]]:
    """Inbox file name -> (the outcome of each of its submissions, their messages)."""
    examined = {ex.incoming: ex for ex in batch.examined}
    duplicates = set(batch.duplicates)
    out = {}
    for a in batch.arrivals:
        outcomes, messages = [], []
        for sub in a.submissions:
            assert (sub in examined) != (sub in duplicates), sub.name  # exactly one
            if sub in examined:
                outcomes.append(examined[sub].outcome)
                messages += [p.message_vi for p in examined[sub].problems]
            else:
                outcomes.append("duplicate")
        out[a.path.name] = (outcomes, messages)
    return out


@pytest.mark.slow
def test_every_file_gets_its_outcome(hostile):
    _, cases, batch, seconds = hostile
    assert len(cases) >= 200
    found = per_file(batch)
    assert len(found) == len(cases)
    wrong = []
    for case in cases:
        outcomes, messages = found[safe_name(case.name)]
        if (case.outcome is not None and set(outcomes) != {case.outcome}) or (
            case.reason is not None and not any(case.reason in m for m in messages)
        ):
            wrong.append((case.name[:40], case.outcome, outcomes, case.reason, messages[:2]))
    assert wrong == [], "\n".join(map(str, wrong))
    assert not any(WORKER_DIED in m for _, messages in found.values() for m in messages)
    print(
        f"\n{len(cases)} files, collected in {seconds:.1f} s: "
        f"{Counter(o for outs, _ in found.values() for o in outs)}"
    )
    print(Counter(c.cls for c in cases))


@pytest.mark.slow
def test_records_loads_and_inbox(hostile):
    ws, cases, batch, _ = hostile
    with connect(ws.paths.warehouse, read_only=True) as con:
        recorded = {r[0] for r in con.execute("SELECT sha256 FROM files").fetchall()}
        loaded = dict(con.execute("SELECT submission_id, outcome FROM submissions").fetchall())
        versions = con.execute(
            """
            SELECT v.value FROM submissions s JOIN submission_values v USING (submission_id)
            WHERE s.unit_code = ? AND v.indicator_code = 'TS01' ORDER BY s.version""",
            [MAIL_UNIT],
        ).fetchall()
    assert {a.sha256 for a in batch.arrivals} <= recorded
    assert {s.submission_id for a in batch.arrivals for s in a.submissions} <= recorded
    assert {ex.incoming.submission_id for ex in batch.examined} == set(loaded)
    valid = {safe_name(c.name) for c in cases if c.outcome == "accepted"}
    accepted = {ex.incoming.origin.name for ex in batch.examined if ex.outcome == "accepted"}
    assert valid <= accepted
    assert list(ws.paths.inbox.iterdir()) == []
    # the mail's attachments are versions in the order they were attached, not by sha256
    assert [v for (v,) in versions] == [1000 + k for k in range(ATTACHMENTS)]


@pytest.mark.slow
def test_memory_stays_bounded(hostile):
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < MAX_SELF_RSS_KB
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < MAX_WORKER_RSS_KB
