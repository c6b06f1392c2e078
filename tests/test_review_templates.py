"""Issue 21, the review templates (sơ kết, tổng kết): the unit's accepted figures of each
year of the phase shown read-only beside its inputs (and ignored by the parse), the
review's own narrative fields, the unit's written review asked for and linked like the
plan document, copied texts warned of, and the reminder stating how figures count.
Real warehouse, real xlsx (openpyxl), real collect."""

from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest
from helpers import (
    DOCX,
    HASH,
    SECRET,
    XLSX,
    client,
    collect_cycle,
    excel_fill,
    plan_docx,
    rows,
    token_of,
)
from typer.testing import CliRunner

from apps import synthetic
from pipeline.links import make_link
from pipeline.review import unit_view
from thidua.parse import parse_file
from thidua.reminders import reminder_email
from thidua.workspace import Workspace

REVIEW_INFO = {
    "tom_tat": "Thôn hoàn thành phủ sóng wifi nhà văn hoá",
    "mo_hinh": "Tổ công nghệ số cộng đồng đi từng hộ",
    "uu_diem": "Người dân hưởng ứng, cài đặt VNeID đạt tỷ lệ cao",
    "han_che": "Người cao tuổi còn khó tiếp cận dịch vụ công trực tuyến",
    "nguyen_nhan": "Thiếu điện thoại thông minh, kỹ năng số còn hạn chế",
    "bai_hoc": "Đi từng ngõ, gõ từng nhà, cầm tay chỉ việc",
    "phuong_huong": "Duy trì tổ công nghệ số, phủ kín dịch vụ công mức toàn trình",
    "de_xuat": "Hỗ trợ kinh phí mua thiết bị cho tổ công nghệ số",
}


def _send_years(ws, setenv, unit) -> dict[str, dict[str, float]]:
    """The unit's 2025 report, and its 2026 report sent twice (the second, with other
    flows, is the version that counts): what it reported, per year cycle."""
    cfg = ws.config
    sent = {}
    for cid, bump in (("nam-2025", 0.0), ("nam-2026", 0.0), ("nam-2026", 7.0)):
        cycle = cfg.cycle(cid)
        values = synthetic.values(cfg, unit, cycle)
        values["TT01"] += bump
        book = synthetic.workbook(cfg, unit, cycle, overrides=values)
        collect_cycle(ws, setenv, cycle, {f"{cid}_{unit.code}.xlsx": book})
        sent[cid] = values
    return sent


def _header(sheet) -> dict[str, int]:
    return {c.value: c.column for c in sheet[1] if c.value}


def test_review_template_shows_earlier_years_read_only_and_the_parse_ignores_them(
    workspace, monkeypatch, tmp_path
):
    from apps.cli import app

    ws = workspace
    cfg = ws.config
    tx03 = cfg.unit("TX-03")
    sent = _send_years(ws, monkeypatch.setenv, tx03)
    assert (
        sent["nam-2026"]["TT01"]
        == rows(
            ws,
            "SELECT v.value FROM current_submissions s JOIN submission_values v USING "
            "(submission_id) WHERE s.unit_code = 'TX-03' AND s.cycle_id = 'nam-2026' "
            "AND v.indicator_code = 'TT01'",
        )[0][0]
    )
    path = tmp_path / "so-ket.xlsx"
    out = CliRunner().invoke(app, ["template", "TX-03", "so-ket-2027", "-o", str(path)])
    assert out.exit_code == 0, out.output
    book = openpyxl.load_workbook(path)
    sheet = book["ChiTieu"]
    col = _header(sheet)
    assert list(col)[-3:] == ["2025 (từ 21/08)", "2026", "Cách tính số liệu kỳ này"]
    assert sheet.protection.sheet
    inds = {i.code: i for i in cfg.indicators_for(tx03)}
    for row in sheet.iter_rows(min_row=2):
        code = row[0].value
        shown = [row[col[h] - 1] for h in ("2025 (từ 21/08)", "2026")]
        assert [c.value for c in shown] == [sent["nam-2025"][code], sent["nam-2026"][code]]
        assert all(c.protection.locked for c in shown)
        assert not row[col["Giá trị"] - 1].protection.locked
        rule = row[col["Cách tính số liệu kỳ này"] - 1].value
        assert rule == (
            "lũy kế từ 21/08/2025 đến 31/10/2027"
            if inds[code].aggregate == "sum"
            else "mức đạt tại 31/10/2027"
        )
    assert len(inds) == sheet.max_row - 1
    # a unit that reported nothing yet sees "—" (chưa báo cáo) in every year
    CliRunner().invoke(app, ["template", "TX-04", "so-ket-2027", "-o", str(tmp_path / "4.xlsx")])
    other = openpyxl.load_workbook(tmp_path / "4.xlsx")["ChiTieu"]
    years = [c.value for r in other.iter_rows(min_row=2, min_col=6, max_col=7) for c in r]
    assert years and set(years) == {"—"}

    # the clerk types the review figures; only they are read and loaded
    review = {code: float(n + 1) for n, code in enumerate(inds)}

    def fill(b):
        for r in b["ChiTieu"].iter_rows(min_row=2):
            r[col["Giá trị"] - 1].value = review[r[0].value]
        for r in b["ThongTin"].iter_rows(min_row=2):
            r[2].value = REVIEW_INFO.get(r[0].value, r[2].value)

    data = excel_fill(path.read_bytes(), fill)
    parsed = parse_file("so-ket.xlsx", data)
    assert parsed.measures == ("value",)
    assert {v.code: v.value for v in parsed.values} == review
    assert all(v.cell.startswith("ChiTieu!D") for v in parsed.values)
    cycle = cfg.cycle("so-ket-2027")
    collect_cycle(ws, monkeypatch.setenv, cycle, {"so-ket-2027_TX-03.xlsx": data})
    loaded = rows(
        ws,
        "SELECT v.indicator_code, v.measure, v.value FROM submissions s JOIN "
        "submission_values v USING (submission_id) WHERE s.cycle_id = 'so-ket-2027'",
    )
    assert {(c, m) for c, m, _ in loaded} == {(c, "value") for c in review}
    assert {c: v for c, _, v in loaded} == review


def test_review_narratives_are_asked_for_stored_and_warned_when_empty(workspace, monkeypatch):
    ws = workspace
    cfg = ws.config
    cycle = cfg.cycle("so-ket-2027")
    unit = cfg.unit("TX-03")
    info = dict(REVIEW_INFO, bai_hoc="", phuong_huong="")
    book = synthetic.workbook(cfg, unit, cycle, info=info)
    sheet = openpyxl.load_workbook(io.BytesIO(book))["ThongTin"]
    labels = {r[0].value: (r[1].value, r[0].row) for r in sheet.iter_rows(min_row=2)}
    assert labels["phuong_huong"][0] == "Phương hướng, nhiệm vụ giai đoạn 2 (2028–2030)"
    assert "kho_khan" not in labels  # the review's hạn chế, nguyên nhân take its place
    done = collect_cycle(ws, monkeypatch.setenv, cycle, {"so-ket-2027_TX-03.xlsx": book})
    [sid] = [f["submission_id"] for f in done.files()]
    stored = dict(rows(ws, "SELECT key, value FROM submission_info WHERE submission_id = ?", [sid]))
    assert {k: stored[k] for k in ("uu_diem", "han_che", "nguyen_nhan", "de_xuat")} == {
        k: REVIEW_INFO[k] for k in ("uu_diem", "han_che", "nguyen_nhan", "de_xuat")
    }
    empty = rows(
        ws,
        "SELECT cell, message_vi FROM validation_results WHERE submission_id = ? "
        "AND rule_id = 'narrative_empty' ORDER BY cell",
        [sid],
    )
    assert [c for c, _ in empty] == [
        f"ThongTin!C{labels['bai_hoc'][1]}",
        f"ThongTin!C{labels['phuong_huong'][1]}",
    ]
    assert "“Bài học kinh nghiệm”" in empty[0][1] and "VI. Bài học kinh nghiệm" in empty[0][1]
    # the tổng kết looks to the time after the plan
    tong_ket = openpyxl.load_workbook(
        io.BytesIO(synthetic.workbook(cfg, unit, cfg.cycle("tong-ket-2030")))
    )["ThongTin"]
    assert "Phương hướng, nhiệm vụ thời gian tới" in [r[1].value for r in tong_ket.iter_rows()]


def test_identical_narrative_of_another_unit_is_a_content_warning(workspace, monkeypatch):
    ws = workspace
    cfg = ws.config
    cycle = cfg.cycle("so-ket-2027")
    first, second = cfg.unit("TX-03"), cfg.unit("TX-04")
    book = synthetic.workbook(cfg, first, cycle, info=REVIEW_INFO)
    collect_cycle(ws, monkeypatch.setenv, cycle, {"so-ket-2027_TX-03.xlsx": book})
    # the same words, spaced and cased otherwise; "Không có" is nobody's text
    copied = dict(
        REVIEW_INFO, han_che="  người cao tuổi còn khó   tiếp cận dịch vụ công TRỰC TUYẾN"
    )
    copied |= {"tom_tat": "Thôn 4 lắp camera an ninh", "de_xuat": "Không có"}
    own = {k: f"Thôn 4: {v}" for k, v in REVIEW_INFO.items()}
    books = {
        "so-ket-2027_TX-04.xlsx": synthetic.workbook(cfg, second, cycle, info=copied),
        "so-ket-2027_TX-05.xlsx": synthetic.workbook(cfg, cfg.unit("TX-05"), cycle, info=own),
    }
    done = collect_cycle(ws, monkeypatch.setenv, cycle, books)
    outcome = {f["unit"]: f["outcome"] for f in done.files()}
    assert outcome == {"TX-04": "accepted_with_warnings", "TX-05": "accepted"}
    warned = rows(
        ws,
        "SELECT s.unit_code, r.severity, r.cell, r.message_vi FROM validation_results r "
        "JOIN submissions s USING (submission_id) WHERE r.rule_id = 'narrative_copied' "
        "ORDER BY r.cell",
    )
    rows_of = {
        r[0].value: r[0].row
        for r in openpyxl.load_workbook(io.BytesIO(books["so-ket-2027_TX-04.xlsx"]))[
            "ThongTin"
        ].iter_rows(min_row=2)
    }
    copied_keys = ("mo_hinh", "uu_diem", "han_che", "nguyen_nhan", "bai_hoc", "phuong_huong")
    assert sorted(c for _, _, c, _ in warned) == sorted(
        f"ThongTin!C{rows_of[k]}" for k in copied_keys
    )
    assert {(u, s) for u, s, _, _ in warned} == {("TX-04", "warning")}
    message = next(m for _, _, c, m in warned if c == f"ThongTin!C{rows_of['han_che']}")
    assert "Mục “Hạn chế”" in message and "Thôn 3 (TX-03)" in message


def test_review_reminder_states_the_rule_and_carries_the_earlier_years(workspace, monkeypatch):
    from pipeline.remind import remind

    ws = workspace
    cfg = ws.config
    tx03 = cfg.unit("TX-03")
    sent = _send_years(ws, monkeypatch.setenv, tx03)
    cycle = cfg.cycle("so-ket-2027")
    opening = cfg.calendar.stage_dates(cycle.due)["mo"]
    monkeypatch.setenv("THIDUA_NOW", f"{opening.isoformat()}T08:00:00+07:00")
    done = remind(Workspace.from_env(), opening, cycle.id)
    assert {r["stage"] for r in done.reminders} == {"mo"}
    [mail] = [p for p in ws.paths.outbox.rglob("*.eml") if "thon03@" in p.read_text("utf-8")]
    from email import message_from_bytes, policy

    msg = message_from_bytes(mail.read_bytes(), policy=policy.default)
    text = msg.get_body(("plain",)).get_content()
    assert "lũy kế từ 21/08/2025 đến 31/10/2027" in text
    assert "mức đạt tại 31/10/2027" in text
    assert "số liệu đơn vị đã báo cáo và được tiếp nhận của từng năm" in text
    assert "Báo cáo sơ kết của đơn vị (tệp Word .docx hoặc PDF)" in text
    [attachment] = list(msg.iter_attachments())
    sheet = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))["ChiTieu"]
    col = _header(sheet)
    shown = {r[0].value: r[col["2026"] - 1].value for r in sheet.iter_rows(min_row=2)}
    assert shown == sent["nam-2026"]
    # the annual reminder says none of it
    annual = reminder_email(cfg, tx03, cfg.cycle("nam-2026"), "mo").text
    assert "lũy kế từ" not in annual and "Báo cáo sơ kết" not in annual


def test_written_review_is_asked_for_and_linked_like_the_plan(workspace, monkeypatch):
    """`document: required` on the review: paired in the folder, acknowledged, counted
    by `thidua status`; missing, the acceptance is "có lưu ý"; the web page has the
    second field and its template download shows the earlier years."""
    from apps.cli import app

    ws = workspace
    cfg = ws.config
    cycle = cfg.cycle("so-ket-2027")
    assert cycle.document_required and cfg.cycle("tong-ket-2030").document_required
    assert not cfg.cycle("nam-2026").document_required
    a, b = cfg.unit("TX-03"), cfg.unit("TX-04")
    files = {
        f"so-ket-2027_{u.code}.xlsx": synthetic.workbook(cfg, u, cycle, info=REVIEW_INFO)
        for u in (a, b)
    }
    files["so-ket-2027_TX-03.docx"] = plan_docx(a.name)
    collect_cycle(ws, monkeypatch.setenv, cycle, files, acks=True)
    acks = {
        u: next(p for p in ws.paths.outbox.rglob("*.eml") if u.email in p.read_text("utf-8"))
        for u in (a, b)
    }
    (sent, sent_subject), (missing, missing_subject) = (_plain(acks[u]) for u in (a, b))
    assert "Báo cáo sơ kết của đơn vị: đã nhận (“so-ket-2027_TX-03.docx”)" in sent
    assert "Báo cáo sơ kết của đơn vị: chưa nhận được" in missing
    assert "] Đã tiếp nhận: " in sent_subject and "] Đã tiếp nhận, có lưu ý: " in missing_subject
    status = json.loads(CliRunner().invoke(app, ["status", "--cycle", cycle.id, "--json"]).output)
    assert status["cycles"][0]["plan_documents"] == 1
    by_unit = {u["unit"]: u["plan_document"] for u in status["units"]}
    assert (by_unit["TX-03"], by_unit["TX-04"]) == ("so-ket-2027_TX-03.docx", None)
    table = CliRunner().invoke(app, ["status", "--cycle", cycle.id]).output
    assert "Báo cáo sơ kết" in table

    # the web page: the second field, named for the review; a docx sent there is linked
    monkeypatch.setenv("THIDUA_WEB_SECRET_KEY", SECRET)
    monkeypatch.setenv("THIDUA_WEB_OFFICER_PASSWORD_HASH", HASH)
    web = Workspace.from_env()
    c = client(web)
    token = token_of(make_link(web, b.code, cycle.id))
    page = c.get(f"/u/{token}")
    assert 'name="plan"' in page.text and "Báo cáo sơ kết của đơn vị" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    posted = c.post(
        f"/u/{token}/upload",
        data={"csrf": csrf},
        files={
            "file": ("bao-cao.xlsx", io.BytesIO(files["so-ket-2027_TX-04.xlsx"]), XLSX),
            "plan": ("bao-cao-so-ket.docx", io.BytesIO(plan_docx(b.name)), DOCX),
        },
    )
    assert posted.status_code == 200, posted.text
    assert unit_view(web, b.code, cycle.id)["document"] is not None
    download = c.get(f"/u/{token}/template")
    sheet = openpyxl.load_workbook(io.BytesIO(download.content))["ChiTieu"]
    assert "2025 (từ 21/08)" in _header(sheet)


def _plain(path) -> tuple[str, str]:
    """The text part and the subject of a mail in the outbox."""
    from email import message_from_bytes, policy

    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    return msg.get_body(("plain",)).get_content(), str(msg["Subject"])


@pytest.mark.slow
def test_review_narratives_fill_the_so_ket_sections(workspace, monkeypatch):
    """The units' đánh giá chung, bài học and phương hướng in the sơ kết docx, identical
    texts once with every unit named."""
    from datetime import date

    from helpers import docx_text

    from pipeline.rollup import run_phase

    ws = workspace
    cfg = ws.config
    cycle = cfg.cycle("so-ket-2027")
    other = dict(REVIEW_INFO, uu_diem="Thôn 4 có tổ công nghệ số hoạt động đều")
    books = {
        "so-ket-2027_TX-03.xlsx": synthetic.workbook(
            cfg, cfg.unit("TX-03"), cycle, info=REVIEW_INFO
        ),
        "so-ket-2027_TX-04.xlsx": synthetic.workbook(cfg, cfg.unit("TX-04"), cycle, info=other),
    }
    collect_cycle(ws, monkeypatch.setenv, cycle, books)
    monkeypatch.delenv("THIDUA_NOW")
    text = docx_text(run_phase(Workspace.from_env(), 1, today=date(2027, 11, 20)).files["docx"])
    at = {
        h: text.index(h)
        for h in ("V. ĐÁNH GIÁ CHUNG", "VI. BÀI HỌC KINH NGHIỆM", "VII. PHƯƠNG HƯỚNG")
    }
    assessment = text[at["V. ĐÁNH GIÁ CHUNG"] : at["VI. BÀI HỌC KINH NGHIỆM"]]
    lessons = text[at["VI. BÀI HỌC KINH NGHIỆM"] : at["VII. PHƯƠNG HƯỚNG"]]
    directions = text[at["VII. PHƯƠNG HƯỚNG"] :]
    assert "Thôn 3: Người dân hưởng ứng" in assessment
    assert "Thôn 4: Thôn 4 có tổ công nghệ số" in assessment
    for key in ("han_che", "nguyen_nhan"):  # the same words of both: once, both named
        assert assessment.count(REVIEW_INFO[key]) == 1
        assert f"Thôn 3; Thôn 4: {REVIEW_INFO[key]}" in assessment
    assert assessment.index("2. Hạn chế") < assessment.index(REVIEW_INFO["han_che"])
    assert assessment.index("3. Nguyên nhân") < assessment.index(REVIEW_INFO["nguyen_nhan"])
    assert "chưa bố trí người theo dõi" not in assessment  # the generic cause: none given
    assert lessons.count(REVIEW_INFO["bai_hoc"]) == 1 and "Sự lãnh đạo, chỉ đạo" not in lessons
    assert directions.count(REVIEW_INFO["phuong_huong"]) == 1
