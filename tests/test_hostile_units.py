"""Each guard of issue 16 on its own, with the exact Vietnamese text the unit reads."""

from __future__ import annotations

import hashlib
import math
import os
import re
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from data.hostile import SHEET, member, rezip, set_cell
from helpers import taken
from hypothesis import given
from hypothesis import strategies as st

from apps import synthetic
from thidua.checks import Examined, check_registry
from thidua.examine import WORKER_DIED
from thidua.exports import excel_safe
from thidua.intake import Incoming, archive, scan, take
from thidua.parse import Limits, Unreadable, parse_file
from thidua.rules import fmt

LIMIT = "ngoài vùng của mẫu báo cáo (tối đa 2.000 dòng, đến cột CV)"


@pytest.fixture(scope="module")
def good(cfg) -> bytes:
    return synthetic.workbook(cfg, cfg.unit("CQ-VP"), cfg.cycle("nam-2025"))


def reason(name: str, data: bytes, limits: Limits | None = None) -> str:
    with pytest.raises(Unreadable) as exc:
        parse_file(name, data, limits or Limits())
    return str(exc.value)


# -- guards before calamine -------------------------------------------------------------


def test_far_cells_never_reach_calamine(good):
    xml = member(good, SHEET).decode()
    far = rezip(good, {SHEET: xml.replace('<c r="D2"', '<c r="XFD1048576"/><c r="D2"', 1).encode()})
    assert reason("x.xlsx", far) == f"tệp có ô ở vị trí XFD1048576, {LIMIT}"
    far = rezip(good, {SHEET: xml.replace('<c r="D2"', '<c r="ZZZZZZ2"/><c r="D2"', 1).encode()})
    assert reason("x.xlsx", far) == f"tệp có ô ở vị trí ZZZZZZ2, {LIMIT}"
    wide = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml)
    assert wide != xml
    dim = rezip(good, {SHEET: wide.encode()})
    assert reason("x.xlsx", dim) == f"tệp khai báo vùng dữ liệu đến ô XFD1048576, {LIMIT}"


def test_rows_cells_and_shared_strings_are_capped(good):
    xml = member(good, SHEET).decode()
    rows = "".join(f"<row><c><v>{i}</v></c></row>" for i in range(50))
    many = rezip(good, {SHEET: xml.replace("</sheetData>", rows + "</sheetData>").encode()})
    assert reason("x.xlsx", many, Limits(max_rows=40)) == "một trang tính có hơn 40 dòng"
    assert reason("x.xlsx", many, Limits(max_cells=100)) == "một trang tính có hơn 100 ô"
    assert (
        reason("x.xlsx", good, Limits(max_shared_strings_bytes=100))
        == "bảng chuỗi văn bản (sharedStrings) quá lớn"
    )


def test_dtd_is_refused(good):
    xml = member(good, SHEET).decode()
    laughs = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + xml.split("?>", 1)[1]
    assert (
        reason("x.xlsx", rezip(good, {SHEET: laughs.encode()}))
        == "tệp chứa khai báo DOCTYPE/ENTITY, không phải tệp .xlsx hợp lệ"
    )
    shared = member(good, "xl/sharedStrings.xml").decode()  # calamine refuses it itself
    laughs = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + shared.split("?>", 1)[
        1
    ].replace("<t>", "<t>&a;", 1)
    assert (
        reason("x.xlsx", rezip(good, {"xl/sharedStrings.xml": laughs.encode()}))
        == "tệp hỏng (CalamineError)"
    )


def test_truncated_central_directory_is_unreadable(good):
    end = good.rfind(b"PK\x05\x06")
    for data in (good[: end - 40] + good[end:], good[:end] + good[end : end + 12]):
        assert reason("x.xlsx", data) == "tệp hỏng, không đọc được cấu trúc nén"


# -- values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "v, message",
    [
        ("inf", "Giá trị “inf” của TS01 không phải là một số hữu hạn."),
        ("1e400", "Giá trị “inf” của TS01 không phải là một số hữu hạn."),
        ("nan", "Giá trị “nan” của TS01 không phải là một số hữu hạn."),
        ("1.7e308", "Giá trị “1.7e+308” của TS01 quá lớn (vượt quá 1.000.000.000.000.000)."),
    ],
)
def test_values_are_finite_and_bounded(good, v, message):
    parsed = parse_file("x.xlsx", set_cell(good, "D2", f'<c r="D2"><v>{v}</v></c>'))
    assert [p.message_vi for p in parsed.problems] == [message]
    [ts01] = [x for x in parsed.values if x.code == "TS01"]
    assert ts01.value is None and ts01.raw


@pytest.mark.parametrize("err", ["#DIV/0!", "#REF!", "#VALUE!", "#N/A"])
def test_formula_errors_are_named(good, err):
    data = set_cell(good, "D2", f'<c r="D2" t="e"><f>1/0</f><v>{err}</v></c>')
    [p] = parse_file("x.xlsx", data).problems
    assert (p.rule_id, p.cell, p.message_vi) == (
        "formula_error",
        "ChiTieu!D2",
        f"Chỉ tiêu TS01: ô chứa lỗi công thức {err}.",
    )


@pytest.mark.parametrize(
    "value, shown",
    [
        (-1e-300, "-1e-300"),
        (1e-300, "1e-300"),
        (-0.0, "0"),
        (1.7e308, "1,7e+308"),
        (math.inf, "vô cực"),
        (-math.inf, "âm vô cực"),
        (math.nan, ""),
        (10**400 // 10**390, "10.000.000.000"),
        (1234.5, "1.234,5"),
        (-3, "-3"),
    ],
)
def test_fmt_shows_what_was_written(value, shown):
    assert fmt(value) == shown


@given(
    st.one_of(
        st.floats(),
        st.integers(min_value=-(10**500), max_value=10**500),
        st.text(max_size=5),
        st.none(),
        st.booleans(),
    )
)
def test_fmt_never_raises(value):
    assert isinstance(fmt(value), str)


# -- CSV --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def csv_lines(cfg) -> list[str]:
    data = synthetic.csv_long(cfg, cfg.unit("TX-02"), cfg.cycle("nam-2025"), bom=False)
    return data.decode().strip("\r\n").split("\r\n")


def test_csv_errors_are_unreadable(csv_lines):
    big = "\r\n".join([csv_lines[0], csv_lines[1] + "x" * 200_000])
    assert reason("x.csv", big.encode()) == "tệp CSV có ô dài quá 128 KB"


def test_csv_with_cr_line_ends_is_read(csv_lines):
    cr = parse_file("x.csv", "\r".join(csv_lines).encode())
    assert len(cr.values) == len(csv_lines) - 1 and cr.problems == []


def examined(cfg, name: str, data: bytes) -> Examined:
    inc = Incoming(
        "x",
        name,
        len(data),
        "inbox",
        None,
        datetime(2025, 12, 15, tzinfo=UTC),
        Path(name),
        Path(name),
    )
    ex = Examined(inc, (parsed := parse_file(name, data)), problems=list(parsed.problems))
    check_registry(cfg, ex)
    return ex


def test_header_only_csv(cfg, csv_lines):
    ex = examined(cfg, "x.csv", (csv_lines[0] + "\r\n").encode())
    assert [p.message_vi for p in ex.problems] == [
        "Tệp chỉ có dòng tiêu đề, không có dòng số liệu nào."
    ]


def test_row_of_another_registered_unit(cfg, csv_lines):
    other = csv_lines[3].replace("TX-02", "TX-03", 1)
    unknown = csv_lines[4].replace("TX-02", "XX-99", 1)
    ex = examined(cfg, "x.csv", "\r\n".join(csv_lines[:3] + [other, unknown]).encode())
    assert [(p.cell, p.message_vi) for p in ex.problems if "mã đơn vị" in p.message_vi.lower()] == [
        ("CSV!A4", "Dòng này ghi mã đơn vị của đơn vị khác (“TX-03”, không phải TX-02)."),
        ("CSV!A5", "Mã đơn vị “XX-99” không có trong danh sách đơn vị."),
    ]


# -- files on disk ----------------------------------------------------------------------


def test_links_devices_and_formats_are_refused_with_a_record(cfg, tmp_path, good):
    inbox, arch = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    arch.mkdir()
    (tmp_path / "ngoai.xlsx").write_bytes(good)
    os.symlink(tmp_path / "ngoai.xlsx", inbox / "lien-ket.xlsx")
    os.mkfifo(inbox / "ong.csv")
    (inbox / "bao-cao.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    arrivals, examined = taken(cfg, scan(inbox), arch)
    refused = {a.path.name: a.submissions[0].refused for a in arrivals}
    assert {ex.outcome for ex in examined} == {"unreadable"}
    assert refused == {
        "lien-ket.xlsx": "liên kết tượng trưng, không nhận",
        "ong.csv": "không phải tệp thông thường (thiết bị, FIFO hoặc socket), không nhận",
        "bao-cao.xls": "không nhận tệp định dạng .xls (chỉ nhận .xlsx, .csv hoặc thư .eml); "
        "hãy lưu lại thành tệp .xlsx",
    }


def test_a_file_over_the_cap_is_archived_by_streaming_and_refused(cfg, tmp_path, good):
    """A file larger than the take-in cap is never read whole: it is copied into the
    archive a chunk at a time (its sha256 computed on the way) and refused in Vietnamese;
    a file under the cap is taken as before."""
    inbox, arch = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    arch.mkdir()
    big = os.urandom(3 * 2**20 + 5)
    (inbox / "a-lon.eml").write_bytes(big)
    (inbox / "b-nho.xlsx").write_bytes(good)
    (first, second), _ = taken(cfg, scan(inbox), arch, max_bytes=2**20 + len(good))
    assert first.sha256 == hashlib.sha256(big).hexdigest() and first.size == len(big)
    assert (arch / first.sha256).read_bytes() == big
    assert first.submissions[0].refused == (
        "tệp quá lớn (3 MB, tối đa 1 MB), không đọc; hãy gửi riêng tệp báo cáo .xlsx, không "
        "kèm ảnh hay tệp lớn"
    )
    assert second.submissions[0].refused is None
    assert (arch / second.sha256).read_bytes() == good
    assert not list(arch.glob(".*"))  # no temporary file left


def test_empty_files_are_not_duplicates_of_each_other(tmp_path):
    for name in ("a.csv", "b.eml", "c.xlsx"):
        (tmp_path / name).write_bytes(b"")
    ids = {
        take(tmp_path / n, tmp_path).submissions[0].submission_id
        for n in ("a.csv", "b.eml", "c.xlsx")
    }
    assert len(ids) == 3
    assert take(tmp_path / "a.csv", tmp_path).sha256 in ids  # the same on a rerun


def test_unsafe_names_are_renamed_in_the_inbox(tmp_path, good):
    raw = os.path.join(os.fsencode(tmp_path), b"b\xe1o-c\xe1o.xlsx")
    with open(raw, "wb") as f:
        f.write(good)
    (tmp_path / ("a" * 240 + ".xlsx")).write_bytes(good)
    names = sorted(p.name for p in scan(tmp_path))
    assert names == ["a" * 195 + ".xlsx", "b\ufffdo-c\ufffdo.xlsx"]
    assert sorted(os.listdir(tmp_path)) == names


def test_an_archive_copy_a_crash_left_wrong_is_written_again(tmp_path, good):
    """A power loss before the archive's sync can leave a file of the right size full
    of zeros, or a short one: the rerun's take-in writes the raw bytes again; a right
    copy is left as it is."""
    inbox, arch = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    arch.mkdir()
    (inbox / "bao-cao.xlsx").write_bytes(good)
    sha = hashlib.sha256(good).hexdigest()
    for left in (bytes(len(good)), good[:100]):
        (arch / sha).write_bytes(left)
        assert take(inbox / "bao-cao.xlsx", arch).archived_path.read_bytes() == good
    before = (arch / sha).stat().st_mtime_ns
    take(inbox / "bao-cao.xlsx", arch)
    assert (arch / sha).stat().st_mtime_ns == before
    (arch / sha).unlink()
    (arch / sha).symlink_to(tmp_path / "gone")  # a dangling link under the name
    assert take(inbox / "bao-cao.xlsx", arch).archived_path.read_bytes() == good
    assert not (arch / sha).is_symlink()


def test_failed_archive_write_leaves_no_tmp_and_strays_are_cleaned(cfg, tmp_path):
    """A full disk, for real: the write runs in a child whose file size limit is 1 KB."""
    code = textwrap.dedent(f"""
        import resource, signal
        from pathlib import Path
        from thidua.intake import archive
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
        try:
            archive(b"x" * 4096, Path({str(tmp_path)!r}))
        except OSError as exc:
            print(exc.errno)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "27"  # EFBIG: the write failed
    assert list(tmp_path.iterdir()) == []
    (tmp_path / ".abc.tmp123").write_bytes(b"half")  # left by a killed take-in
    taken(cfg, [], tmp_path)
    assert list(tmp_path.iterdir()) == []
    sha, path = archive(b"ok", tmp_path)
    assert path.read_bytes() == b"ok" and path.name == sha


# -- isolation --------------------------------------------------------------------------


def examined_in_workers(
    cfg, tmp_path: Path, files: dict[str, bytes], limits: Limits
) -> list[Examined]:
    """The examinations of `files` dropped into an inbox, taken in one pass."""
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    for name, data in files.items():
        (inbox / name).write_bytes(data)
    return taken(cfg, [inbox / name for name in files], tmp_path / "archive", limits)[1]


@pytest.mark.slow
def test_a_file_that_kills_its_worker_is_unreadable_alone(cfg, tmp_path, good):
    """With the caps lifted, XFD1048576 makes calamine ask for 512 GB: the worker dies
    under its memory limit, and only that file is unreadable."""
    far = set_cell(good, "D2", '<c r="XFD1048576"><v>1</v></c>')
    files = {
        "a.xlsx": good,
        "far.xlsx": far,
        "c.xlsx": synthetic.workbook(cfg, cfg.unit("CQ-KT"), cfg.cycle("nam-2025")),
    }
    lifted = Limits(max_rows=2**21, max_columns=2**15, worker_memory_bytes=2**30)
    got = examined_in_workers(cfg, tmp_path, files, lifted)
    assert [ex.outcome != "unreadable" for ex in got] == [True, False, True]
    assert got[1].problems[0].message_vi == f"Không mở được tệp: {WORKER_DIED}."


@pytest.mark.slow
def test_kept_workers_are_reused_and_a_dead_one_is_not(cfg, tmp_path, good):
    """The web's upload thread keeps its parsing worker between batches (`KeptWorkers`):
    the same process parses the next file; one that died on a file is not kept, and
    the next batch starts a fresh one."""
    from thidua import examine
    from thidua.workers import KeptWorkers

    keep = KeptWorkers()
    examine.keep_workers(keep)
    try:
        lifted = Limits(max_rows=2**21, max_columns=2**15, worker_memory_bytes=2**30)
        a = {"a.xlsx": good}
        assert examined_in_workers(cfg, tmp_path, a, lifted)[0].outcome != "unreadable"
        [[worker]] = keep._idle.values()
        assert examined_in_workers(cfg, tmp_path, a, lifted)[0].outcome != "unreadable"
        assert list(keep._idle.values()) == [[worker]] and worker.tasks == 2
        far = set_cell(good, "D2", '<c r="XFD1048576"><v>1</v></c>')
        got = examined_in_workers(cfg, tmp_path, {"far.xlsx": far}, lifted)
        assert got[0].outcome == "unreadable" and not worker.proc.is_alive()
        assert list(keep._idle.values()) == [[]]
        assert examined_in_workers(cfg, tmp_path, a, lifted)[0].outcome != "unreadable"
        [[fresh]] = keep._idle.values()
        assert fresh is not worker and fresh.proc.is_alive()
    finally:
        examine.keep_workers(None)
        keep.close()
    assert not fresh.proc.is_alive()


def _slow_sum(chunk: list) -> float:
    """A chunk's sum, after sleeping as many seconds as its first item says (a float)."""
    time.sleep(chunk[0] if isinstance(chunk[0], float) else 0)
    return sum(chunk)


def test_isolated_results_come_in_order_each_as_soon_as_ready(monkeypatch):
    """`map_isolated` yields the chunks in order, one that failed as its items one at a
    time, each as soon as those before it are in: the first while a slow one runs."""
    from thidua import workers

    monkeypatch.setattr(workers, "CHUNK", 2)
    items = [0.0, 1, 0.0, "x", 2.0, 3]  # the 2nd chunk fails on "x", the 3rd sleeps 2 s
    results = workers.map_isolated(_slow_sum, items, 2, None, (), workers.Isolation(2**30, 60, 0))
    assert next(results) == ([0.0, 1], 1.0)
    start = time.monotonic()
    assert list(results) == [([0.0], 0.0), (["x"], None), ([2.0, 3], 5.0)]
    assert time.monotonic() - start > 1.5  # the first came before the slow one ended


def test_a_worker_out_of_time_is_killed(cfg, tmp_path, good):
    got = examined_in_workers(
        cfg, tmp_path, {"a.xlsx": good}, Limits(worker_seconds=0, worker_seconds_per_file=0)
    )
    assert got[0].problems[0].message_vi == f"Không mở được tệp: {WORKER_DIED}."


@pytest.mark.slow
def test_workers_die_with_their_parent(tmp_path):
    """A collection killed with SIGKILL leaves no worker behind (PR_SET_PDEATHSIG)."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, time
        from thidua.workers import Isolation, map_isolated

        def work(chunk):
            with open({str(tmp_path / "worker.pid")!r}, "w") as f:
                f.write(str(os.getpid()))
            time.sleep(60)

        if __name__ == "__main__":
            list(map_isolated(work, [1], 1, None, (), Isolation(2**30, 120, 0)))
    """)
    )
    parent = subprocess.Popen([sys.executable, str(script)])
    pid_file = tmp_path / "worker.pid"
    for _ in range(300):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.1)
    worker = int(pid_file.read_text())
    parent.kill()
    parent.wait()
    for _ in range(50):
        if not Path(f"/proc/{worker}").exists():
            break
        time.sleep(0.1)
    assert not Path(f"/proc/{worker}").exists()


# -- exports ----------------------------------------------------------------------------


def test_exports_escape_text_not_numbers(tmp_path):
    from pipeline.rollup import _write_files

    df = pd.DataFrame(
        {
            "unit": ['=HYPERLINK("http://x","Bấm")', "+1", "-x", "@a", "\tb", "Thôn 1"],
            "score": [-1.5, -2, 0, 1, 2, 3],
        }
    )
    assert excel_safe(df)["unit"].tolist() == [
        '\'=HYPERLINK("http://x","Bấm")',
        "'+1",
        "'-x",
        "'@a",
        "'\tb",
        "Thôn 1",
    ]
    _write_files(tmp_path, {"t": df}, "Asia/Ho_Chi_Minh")
    csv = pd.read_csv(tmp_path / "data" / "t.csv", encoding="utf-8-sig")
    assert csv["unit"][0].startswith("'=") and csv["score"].tolist() == df["score"].tolist()
    assert pd.read_parquet(tmp_path / "data" / "t.parquet")["unit"][0].startswith("=")
    numbers = df[["score"]]
    assert excel_safe(numbers) is numbers  # nothing to escape: no copy


def test_mail_attachments_keep_their_order(tmp_path, good, cfg):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "x@y.example"
    for k in range(12):
        data = synthetic.workbook(
            cfg, cfg.unit("TX-02"), cfg.cycle("nam-2025"), overrides={"TS01": 1000 + k}
        )
        msg.add_attachment(
            data, maintype="application", subtype="octet-stream", filename=f"{k}.xlsx"
        )
    (tmp_path / "m.eml").write_bytes(bytes(msg))
    subs = take(tmp_path / "m.eml", tmp_path).submissions
    assert [s.name for s in sorted(subs, key=lambda s: (s.received_at, s.submission_id))] == [
        f"{k}.xlsx" for k in range(12)
    ]
