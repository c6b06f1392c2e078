"""Collection end to end on the committed corpus (tests/data/collect/): outcomes, the
exact cells of every problem, the rows in DuckDB, the archive, quarantine and inbox."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from data.corpus import CASES, DIR, LATE, ON_TIME, build
from helpers import drop, fresh_home, rows, taken

from apps import synthetic
from pipeline.collect import collect
from thidua.batch import outcomes
from thidua.settings import REPO_CONFIG
from thidua.workspace import Workspace
from warehouse.db import connect


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """The whole corpus collected once into a fresh workspace."""
    home = tmp_path_factory.mktemp("collect") / "home"
    with pytest.MonkeyPatch.context() as mp:
        ws = fresh_home(mp, home)
        for case in CASES:
            drop(ws.paths.inbox, case.name, (DIR / case.name).read_bytes(), case.received)
        batch = collect(ws).batch
        yield ws, batch


def own_copy(collected, tmp_path: Path, monkeypatch) -> Workspace:
    """A copy of the collected home for a test that collects more: the shared one stays
    as the corpus left it, whatever the order of the tests."""
    home = tmp_path / "home"
    shutil.copytree(collected[0].paths.home, home)
    monkeypatch.setenv("THIDUA_HOME", str(home))
    monkeypatch.setenv("THIDUA_CONFIG", str(REPO_CONFIG))
    return Workspace.from_env()


def test_corpus_files_are_committed(cfg):
    assert sorted(p.name for p in DIR.iterdir()) == sorted(c.name for c in CASES)
    assert set(build(cfg)) == {c.name for c in CASES}


def submission_of(ws: Workspace, case) -> str:
    """A case's submission: by file name, or for a mail by its attachment's unit."""
    if case.name.endswith(".eml"):
        sql, key = (
            (
                "SELECT s.submission_id FROM submissions s JOIN files f ON "
                "f.sha256 = s.submission_id WHERE f.source = 'eml' AND s.unit_code = ?"
            ),
            case.unit,
        )
    else:
        sql, key = "SELECT sha256 FROM files WHERE original_name = ?", case.name
    found = rows(ws, sql, [key])
    assert len(found) == 1, found
    return found[0][0]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_outcome_and_problem_cells(collected, case):
    ws, _ = collected
    sid = submission_of(ws, case)
    [(outcome, unit, n_errors, n_warnings, late)] = rows(
        ws,
        """
        SELECT outcome, unit_code, n_errors, n_warnings, late FROM submissions
        WHERE submission_id = ?""",
        [sid],
    )
    assert outcome == case.outcome
    assert unit == case.unit
    problems = rows(
        ws,
        "SELECT rule_id, coalesce(cell, sheet), severity "
        "FROM validation_results WHERE submission_id = ?",
        [sid],
    )
    assert {(r, c) for r, c, _ in problems} == case.problems
    assert (n_errors, n_warnings) == (
        sum(s == "error" for *_, s in problems),
        sum(s == "warning" for *_, s in problems),
    )
    assert late == (case.received == LATE)


def test_problem_messages_name_value_and_rule(collected):
    ws, _ = collected
    msg = {
        r[0]: r[1:]
        for r in rows(
            ws,
            """
        SELECT rule_id, value, message_vi, fix_vi FROM validation_results
        WHERE rule_id IN ('at_most', 'max', 'not_number', 'text_number')""",
        )
    }
    assert msg["at_most"][:2] == (
        "20",
        ("HC02 = 20 lớn hơn HC01 = 10; HC02 không thể vượt quá HC01."),
    )
    assert msg["max"][1] == "HC04 = 150: không được lớn hơn 100."
    assert msg["not_number"][0] == "khoảng 50"
    assert "đã đọc là" in msg["text_number"][1]
    assert all(m[2] for m in msg.values())
    unreadable = rows(
        ws,
        """
        SELECT f.original_name, r.message_vi FROM validation_results r
        JOIN submissions s USING (submission_id) JOIN files f ON f.sha256 = s.submission_id
        WHERE r.rule_id = 'unreadable' ORDER BY 1""",
    )
    assert "mật khẩu" in dict(unreadable)["encrypted.xlsx"]


def test_values_keep_their_cells_and_raw_text(collected):
    ws, _ = collected
    vals = {
        (code, cell): (value, raw)
        for code, cell, value, raw in rows(
            ws,
            """
        SELECT v.indicator_code, v.cell, v.value, v.raw FROM submission_values v
        JOIN submissions s USING (submission_id)
        WHERE s.unit_code IN ('DN-01', 'CQ-QS', 'TX-01')""",
        )
    }
    assert vals[("DN01", "ChiTieu!D9")] == (1234.5, "1.234,5")
    assert vals[("DN04", "ChiTieu!D12")] == (12.5, "12,5")
    assert vals[("DL01", "ChiTieu!D11")] == (None, "khoảng 50")
    assert vals[("TX01", "CSV!D2")][0] > 0  # CSV with BOM: first data line
    info = rows(
        ws,
        "SELECT key, value, cell FROM submission_info i JOIN submissions s "
        "USING (submission_id) WHERE s.unit_code = 'CQ-VP'",
    )
    assert ("ky_bao_cao", "nam-2025", "ThongTin!C4") in info


def test_archive_quarantine_and_inbox(collected):
    ws, batch = collected
    assert list(ws.paths.inbox.iterdir()) == []
    quarantined = sorted(p.name.split("_", 1)[1] for p in ws.paths.quarantine.iterdir())
    assert quarantined == ["corrupt_zip.xlsx", "empty.xlsx", "encrypted.xlsx"]
    archived = {p.name for p in ws.paths.archive.iterdir()}
    files = rows(ws, "SELECT sha256, original_name, source, sender FROM files")
    assert {f[0] for f in files} == archived
    by_name = {f[1]: f for f in files}
    assert by_name["bao-cao.xlsx"][2:] == ("eml", "ketoan.vhxh@gmail.example")
    assert by_name["sender_mismatch.eml"][2] == "inbox"
    assert len(outcomes(batch)) == len(CASES)


def test_acknowledgments_written_to_outbox_once_per_submission(collected):
    ws, _ = collected
    acks = rows(ws, "SELECT status, count(*) FROM acknowledgments GROUP BY ALL")
    # unreadable files and the unknown unit came from the inbox: nobody to answer
    assert dict(acks) == {"sent": len(CASES) - 4, "skipped": 4}
    assert len(list(ws.paths.outbox.glob("*.eml"))) == len(CASES) - 4


def test_data_docs_built(collected):
    ws, _ = collected
    assert (ws.paths.data_docs / "index.html").is_file()


def test_resend_new_version_and_year_over_year(collected, cfg, tmp_path, monkeypatch):
    ws = own_copy(collected, tmp_path, monkeypatch)
    good = (DIR / "good.xlsx").read_bytes()
    vp, tx = cfg.unit("CQ-VP"), cfg.unit("TX-01")
    drop(ws.paths.inbox, "good-gui-lai.xlsx", good)  # identical bytes
    drop(
        ws.paths.inbox,
        "good-v2.xlsx",
        synthetic.workbook(cfg, vp, cfg.cycle("nam-2025"), overrides={"TT01": 77}),
        LATE,
    )
    batch = collect(ws).batch
    kinds = {r["file"]: r["outcome"] for r in outcomes(batch)}
    assert kinds == {"good-gui-lai.xlsx": "duplicate", "good-v2.xlsx": "accepted_with_warnings"}
    assert rows(
        ws, "SELECT version, outcome FROM submissions WHERE unit_code = 'CQ-VP' ORDER BY version"
    ) == [(1, "accepted"), (2, "accepted_with_warnings")]
    assert rows(ws, "SELECT version FROM current_submissions WHERE unit_code = 'CQ-VP'") == [(2,)]
    assert rows(
        ws,
        "SELECT count(*) FROM acknowledgments a JOIN submissions s "
        "USING (submission_id) WHERE s.unit_code = 'CQ-VP'",
    ) == [(2,)]

    # nam-2026: TS01 ten times last year's accepted value -> a year-over-year warning
    nam26 = cfg.cycle("nam-2026")
    last = rows(
        ws,
        "SELECT v.value FROM submission_values v JOIN current_submissions s "
        "USING (submission_id) WHERE s.unit_code = 'TX-01' AND "
        "v.indicator_code = 'TS01'",
    )[0][0]
    from datetime import datetime, timedelta, timezone

    # last year's figures (the committed corpus), only TS01 changed (SK01 counts the rows
    # of SangKien: the workbook's own)
    same = dict(
        rows(
            ws,
            "SELECT v.indicator_code, v.value FROM submission_values v JOIN "
            "current_submissions s USING (submission_id) WHERE s.unit_code = "
            "'TX-01' AND s.cycle_id = 'nam-2025' AND v.indicator_code <> 'SK01'",
        )
    )
    # flows at the same pace: a full year against the 116 days of 2025 (issue 21)
    pace = 365 / 116
    inds = {i.code: i for i in cfg.indicators}
    same = {k: round(v * pace) if inds[k].aggregate == "sum" else v for k, v in same.items()}
    drop(
        ws.paths.inbox,
        "tx01-2026.xlsx",
        synthetic.workbook(cfg, tx, nam26, overrides=same | {"TS01": last * 10}),
        datetime(2026, 11, 25, 9, tzinfo=timezone(timedelta(hours=7))),
    )
    collect(ws)
    assert rows(
        ws,
        """
        SELECT r.rule_id, r.cell, r.severity FROM validation_results r
        JOIN submissions s USING (submission_id)
        WHERE s.unit_code = 'TX-01' AND s.cycle_id = 'nam-2026'""",
    ) == [("yoy", "ChiTieu!D2", "warning")]


def test_crash_mid_batch_leaves_nothing_and_rerun_loads_once(workspace, cfg):
    from pipeline.collect import examine, take_in
    from thidua.batch import batch_frames
    from warehouse.writer import load_submissions

    ws = workspace
    for case in CASES[:4]:
        shutil.copy(DIR / case.name, ws.paths.inbox / case.name)
    batch = examine(ws, take_in(ws), docs=False)
    frames = batch_frames(batch)
    broken = dict(
        frames, validation_results=frames["validation_results"].assign(message_vi=None)
    )  # NOT NULL violated by the last insert
    with connect(ws.paths.warehouse) as con, pytest.raises(Exception, match="NOT NULL"):
        load_submissions(con, broken)
    for table in (
        "submissions",
        "submission_values",
        "submission_info",
        "validation_results",
        "initiatives",
        "proposals",
    ):
        assert rows(ws, f"SELECT count(*) FROM {table}") == [(0,)], table
    with connect(ws.paths.warehouse) as con:
        assert load_submissions(con, frames) == 4
        assert load_submissions(con, frames) == 0
    assert rows(ws, "SELECT count(*) FROM submissions") == [(4,)]
    # the rerun of the whole collection finds them loaded and only tidies the inbox
    again = collect(ws, docs=False).batch
    assert {r["outcome"] for r in outcomes(again)} == {"duplicate"}
    assert list(ws.paths.inbox.iterdir()) == []


def test_mail_without_attachment_and_other_formats_are_unreadable(workspace):
    from email.message import EmailMessage

    from thidua import words
    from thidua.intake import REFUSED_FORMAT

    ws = workspace
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "tx01@phongdoanh.example", "Quên đính kèm"
    msg.set_content("Gửi báo cáo.")
    drop(ws.paths.inbox, "quen.eml", bytes(msg))
    drop(ws.paths.inbox, "ghi-chu.txt", b"not a submission")
    batch = collect(ws, docs=False).batch
    assert sorted((r["file"], r["outcome"]) for r in outcomes(batch)) == [
        ("ghi-chu.txt", "unreadable"),
        ("quen.eml", "unreadable"),
    ]
    assert list(ws.paths.inbox.iterdir()) == []  # both quarantined
    assert sorted(rows(ws, "SELECT message_vi FROM validation_results")) == [
        (f"Không mở được tệp: {REFUSED_FORMAT.format(suffix='.txt')}.",),
        (f"Không mở được tệp: {words.REFUSAL['no_workbook']}.",),
    ]
    # the mail answered to its sender, since no unit is known; the .txt has nobody
    assert sorted(rows(ws, "SELECT status, recipients FROM acknowledgments")) == [
        ("sent", "tx01@phongdoanh.example"),
        ("skipped", None),
    ]


def test_plan_cycle_targets_are_checked_per_year(workspace, cfg):
    from datetime import datetime, timedelta, timezone

    ws = workspace
    unit, plan = cfg.unit("TX-02"), cfg.cycle("ke-hoach-2025")
    when = datetime(2025, 8, 25, 9, tzinfo=timezone(timedelta(hours=7)))  # opens 21/08
    drop(ws.paths.inbox, "plan-ok.xlsx", synthetic.workbook(cfg, unit, plan), when)
    drop(
        ws.paths.inbox,
        "plan-bad.xlsx",
        synthetic.workbook(
            cfg, cfg.unit("TX-03"), plan, overrides={("TX02", "target_2030"): 10**6}
        ),
        when,
    )
    collect(ws, docs=False, acks=False)
    assert rows(ws, "SELECT unit_code, outcome FROM submissions ORDER BY 1") == [
        ("TX-02", "accepted"),
        ("TX-03", "rejected"),
    ]
    assert rows(ws, "SELECT rule_id, cell FROM validation_results") == [("at_most", "ChiTieu!E11")]
    assert rows(ws, "SELECT DISTINCT measure FROM submission_values ORDER BY 1") == [
        ("target_2027",),
        ("target_2030",),
    ]


def test_process_pool_takes_in_and_examines_like_one_process(cfg, tmp_path, monkeypatch):
    """Large inboxes are taken in and examined by a pool of worker processes; the
    arrivals, the archive and the examinations are the same, cell for cell."""
    import pandas as pd

    from thidua import intake, workers
    from thidua.batch import values_frame

    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    for case in CASES:
        drop(inbox, case.name, (DIR / case.name).read_bytes(), case.received)
    paths = intake.scan(inbox)
    assert any(p.suffix == ".eml" for p in paths)
    arrivals, alone = taken(cfg, paths, archive, workers=1)
    monkeypatch.setattr(workers, "POOL_MIN_FILES", 0)
    monkeypatch.setattr(workers, "CHUNK", 3)
    for f in archive.iterdir():
        f.unlink()
    pooled_arrivals, pooled = taken(cfg, paths, archive, workers=2)
    assert pooled_arrivals == arrivals
    assert {f.name for f in archive.iterdir()} == {
        s.submission_id for a in arrivals for s in a.submissions
    } | {a.sha256 for a in arrivals}
    assert [vars(ex) for ex in pooled] == [vars(ex) for ex in alone]
    assert [ex.incoming for ex in pooled] == [s for a in arrivals for s in a.submissions]
    assert any(ex.parsed is None for ex in pooled) and any(ex.problems for ex in pooled)
    assert all(ex.unit is None or ex.unit is cfg.units_by_code[ex.unit.code] for ex in pooled)
    # values come back as columns; the frame built from them is the same
    readable = [[ex for ex in exs if ex.parsed is not None] for exs in (pooled, alone)]
    pd.testing.assert_frame_equal(values_frame(readable[0]), values_frame(readable[1]))


def test_a_file_dropped_again_under_its_name_during_a_run_waits_for_the_next(workspace, cfg):
    """A unit drops a corrected workbook under the same name (and a plan document
    beside it) while the run that took the first ones is still going: the run removes
    an inbox file only if it is the one it took, so the correction is not lost but
    taken by the next run, as a new version."""
    from datetime import timedelta

    from pipeline.steps import call

    unit, cycle = cfg.unit("TX-01"), cfg.cycle("nam-2025")
    first = synthetic.workbook(cfg, unit, cycle, overrides={"TT01": 11})
    corrected = synthetic.workbook(cfg, unit, cycle, overrides={"TT01": 12})
    inbox = workspace.paths.inbox
    drop(inbox, "bao-cao.xlsx", first, ON_TIME)
    drop(inbox, "bao-cao.pdf", b"%PDF-1.4 first", ON_TIME)
    drop(inbox, "ghi-chu.xlsx", b"not a workbook", ON_TIME)

    def dropped_again(step, *args):
        if step.__name__ == "tidy_inbox":  # after the load, before the inbox is tidied
            drop(inbox, "bao-cao.xlsx", corrected, ON_TIME + timedelta(hours=1))
            drop(inbox, "bao-cao.pdf", b"%PDF-1.4 corrected", ON_TIME + timedelta(hours=1))
            drop(inbox, "ghi-chu.xlsx", b"still not a workbook", ON_TIME + timedelta(hours=1))
        return call(step, *args)

    done = collect(workspace, docs=False, acks=False, run=dropped_again)
    assert done.tidied == {"quarantined": 0, "removed": 0, "changed": 3}
    assert sorted(p.name for p in inbox.iterdir()) == [
        "bao-cao.pdf",
        "bao-cao.xlsx",
        "ghi-chu.xlsx",
    ]
    assert (inbox / "bao-cao.xlsx").read_bytes() == corrected

    again = collect(workspace, docs=False, acks=False)
    assert again.tidied == {"quarantined": 1, "removed": 2, "changed": 0}
    assert list(inbox.iterdir()) == []
    versions = rows(
        workspace,
        "SELECT v.value FROM submissions s JOIN submission_values v USING (submission_id) "
        "WHERE s.unit_code = 'TX-01' AND v.indicator_code = 'TT01' ORDER BY s.received_at",
    )
    assert versions == [(11.0,), (12.0,)]
