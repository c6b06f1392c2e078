"""Fast unit tests of take-in (thidua.intake) and of the batch's tables (thidua.batch),
on real files in a temporary inbox: a synthetic workbook, a refused format, a duplicate;
taken in and parsed by one isolated worker (`take_and_examine`), no warehouse."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from helpers import taken

from apps import synthetic
from thidua.batch import (
    SUBMISSION_COLUMNS,
    Batch,
    batch_frames,
    outcomes,
)
from thidua.intake import scan


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "archive").mkdir()
    return tmp_path / "inbox"


def put(inbox: Path, name: str, data: bytes, mtime: float) -> Path:
    path = inbox / name
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def test_scan_lists_files_oldest_first_and_skips_directories(inbox):
    put(inbox, "b.xlsx", b"2", 2_000_000_000)
    put(inbox, "a.xlsx", b"1", 1_900_000_000)
    (inbox / "sub").mkdir()
    assert [p.name for p in scan(inbox)] == ["a.xlsx", "b.xlsx"]
    assert scan(inbox.parent / "missing") == []


def test_take_in_archives_each_file_once_under_its_sha256(inbox, cfg):
    cycle = cfg.cycle("nam-2025")
    unit = cfg.expected_units(cycle)[0]
    data = synthetic.workbook(cfg, unit, cycle)
    put(inbox, "bao-cao.xlsx", data, 1_900_000_000)
    put(inbox, "ban-sao.xlsx", data, 1_900_000_001)  # the same bytes again
    archive = inbox.parent / "archive"
    (first, second), _ = taken(cfg, scan(inbox), archive)
    assert first.sha256 == second.sha256 and first.archived_path == second.archived_path
    assert first.archived_path == archive / first.sha256
    assert first.archived_path.read_bytes() == data
    [sub] = first.submissions
    assert (sub.name, sub.source, sub.size, sub.refused) == (
        "bao-cao.xlsx",
        "inbox",
        len(data),
        None,
    )
    assert not list(archive.glob(".*"))  # no temporary file left behind


def test_a_refused_format_is_archived_and_says_why(inbox, cfg):
    put(inbox, "bao-cao.zip", b"PK\x05\x06" + bytes(18), 1_900_000_000)
    [arrival], [ex] = taken(cfg, scan(inbox), inbox.parent / "archive")
    assert ex.outcome == "unreadable" and ex.incoming is arrival.submissions[0]
    [sub] = arrival.submissions
    assert sub.refused and arrival.archived_path.exists()


def test_batch_frames_hold_every_file_and_value(inbox, cfg):
    cycle = cfg.cycle("nam-2025")
    unit = cfg.expected_units(cycle)[0]
    put(inbox, "tot.xlsx", synthetic.workbook(cfg, unit, cycle), 1_900_000_000)
    put(inbox, "hong.xlsx", b"not a workbook", 1_900_000_001)
    arrivals, examined = taken(cfg, scan(inbox), inbox.parent / "archive")
    good, bad = examined
    assert good.parsed is not None and bad.parsed is None
    batch = Batch(uuid.uuid4().hex, arrivals, examined, duplicates=[])

    frames = batch_frames(batch)
    subs = frames["submissions"]
    assert list(subs.columns) == list(SUBMISSION_COLUMNS)
    assert subs["unit_code"].iloc[0] == unit.code and subs["unit_code"].isna().iloc[1]
    assert list(subs["file_format"]) == ["xlsx", "xlsx"]
    assert list(subs["outcome"]) == [good.outcome, "unreadable"]
    assert set(subs["batch_id"]) == {batch.batch_id}
    values = frames["submission_values"]
    assert len(values) == len(good.parsed.values) > 0
    assert set(values["submission_id"]) == {good.incoming.submission_id}
    assert "indicator_code" in values.columns and "cycle_id" not in values.columns
    results = frames["validation_results"]
    assert set(results["submission_id"]) >= {bad.incoming.submission_id}
    assert [r["outcome"] for r in outcomes(batch)] == [good.outcome, "unreadable"]
