"""The province tier (issue 24, items 1-2): communes' rollups write packages, a province
home (thidua on config/tiers/ninh-binh) collects them by folder, mailbox and web page and
rolls them up.  Real DuckDB files, a real pymap server, the real web app; every figure
is checked against the communes' warehouses read independently."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from docx import Document
from helpers import docx_text, fresh_home, rows, write_tenants
from mails import unit_mail
from openpyxl import load_workbook

from apps import synthetic
from pipeline.collect import collect
from pipeline.init import init_workspace
from pipeline.rollup import run_annual, run_phase
from thidua import package
from thidua.config import load_config
from thidua.rollup import contents
from thidua.rollup.model import number_vi, phase_years
from thidua.settings import REPO_CONFIG
from thidua.template import build_workbook
from thidua.workspace import Workspace
from warehouse.db import connect

PROVINCE = REPO_CONFIG / "tiers" / "ninh-binh"
TZ = timezone(timedelta(hours=7))
ON_TIME, LATE = datetime(2025, 12, 18, 9, tzinfo=TZ), datetime(2025, 12, 23, 9, tzinfo=TZ)
PROVINCE_ON_TIME = datetime(2025, 12, 29, 9, tzinfo=TZ)
PROVINCE_LATE = datetime(2026, 1, 6, 9, tzinfo=TZ)
# The three communes with thidua: (province code, sender email, units sent on time, late)
COMMUNES = {
    "XA-PHONG-DOANH": ("vhxh@phongdoanh.example", slice(0, 30), slice(30, 36)),
    "XA-YEN-KHANH": ("vhxh@yenkhanh.example", slice(0, 20), slice(20, 25)),
    "XA-KIM-SON": ("vhxh@kimson.example", slice(5, 28), slice(0, 0)),
}


def test_province_fields_are_the_package_fields(cfg):
    """The province's indicators.csv is the commune config's package, written once."""
    assert (PROVINCE / "indicators.csv").read_text("utf-8") == package.indicators_csv(cfg)
    province = load_config(PROVINCE)
    codes = [i.code for i in province.indicators]
    assert len(codes) == len(set(codes))
    assert {u.kind for u in province.units} == {"xa"}
    assert "vhxh@phongdoanh.example" in {u.email for u in province.units}
    # the tier's words: the province's own, the commune's by default
    assert (province.settings.tier.level, province.settings.tier.whole) == ("tỉnh", "toàn tỉnh")
    assert (cfg.settings.tier.level, cfg.settings.tier.lead_office) == (
        "xã",
        "Phòng Văn hoá – Xã hội",
    )


def test_manifest_mismatch_names_the_file():
    data = json.dumps({"files": {"nam-2025_X.xlsx": {"sha256": "ab"}}}).encode()
    assert package.manifest_mismatch(data, "nam-2025_X.xlsx", "ab") is None
    assert "không khớp" in package.manifest_mismatch(data, "nam-2025_X.xlsx", "cd")
    assert package.manifest_mismatch(b"{", "x.xlsx", "ab") == (
        "không đọc được tệp kê khai (manifest)"
    )


def commune_config(tmp: Path, code: str, email: str) -> Path:
    """A copy of the sample commune's config whose sender is `email`: the province
    registry knows the commune by it."""
    if code == "XA-PHONG-DOANH":
        return REPO_CONFIG
    directory = tmp / f"config-{code}"
    shutil.copytree(REPO_CONFIG, directory, ignore=shutil.ignore_patterns("secrets.toml"))
    settings = directory / "settings.toml"
    text = settings.read_text("utf-8").replace("vhxh@phongdoanh.example", email, 1)
    settings.write_text(text, "utf-8")
    return directory


def commune_home(mp: pytest.MonkeyPatch, tmp: Path, code: str) -> Workspace:
    """A commune home that collected its units' reports of 2025 and rolled them up."""
    email, on_time, late = COMMUNES[code]
    fresh_home(mp, tmp / code)
    mp.setenv("THIDUA_CONFIG", str(commune_config(tmp, code, email)))
    ws = Workspace.from_env()
    init_workspace(ws)
    cycle = ws.config.cycle("nam-2025")
    units = ws.config.expected_units(cycle)
    synthetic.drop_into_inbox(ws, cycle, units[on_time], ON_TIME)
    synthetic.drop_into_inbox(ws, cycle, units[late], LATE)
    collect(ws, docs=False, acks=False)
    return ws


def independent(ws: Workspace, cycle_id: str = "nam-2025") -> dict:
    """What the commune's package must say, read from its warehouse without the rollup:
    units expected and reporting per kind, per (kind, indicator) the total and the units
    behind it, per ratio the summed numerator and denominator of its population's units
    holding both terms (a denominator above 0)."""
    cfg = ws.config
    kind_of = {u.code: u.kind for u in cfg.units}
    with connect(ws.paths.warehouse, read_only=True) as con:
        current = con.execute(
            "SELECT s.unit_code, v.indicator_code, v.value FROM current_submissions s "
            "JOIN submission_values v USING (submission_id) "
            "WHERE s.cycle_id = ? AND v.measure = 'value' AND v.value IS NOT NULL",
            [cycle_id],
        ).fetchall()
        [(initiatives,)] = con.execute(
            "SELECT count(*) FROM current_submissions s JOIN initiatives i USING "
            "(submission_id) WHERE s.cycle_id = ?",
            [cycle_id],
        ).fetchall()
    reported = {code for code, _, _ in current}
    expected = cfg.expected_units(cfg.cycle(cycle_id))
    out: dict = {"expected": {}, "submitted": {}, "totals": {}, "units": {}, "ratios": {}}
    out["initiatives"] = initiatives
    for u in expected:
        out["expected"][u.kind] = out["expected"].get(u.kind, 0) + 1
        out["submitted"][u.kind] = out["submitted"].get(u.kind, 0) + (u.code in reported)
    value = {(code, ind): v for code, ind, v in current}
    for (code, ind), v in value.items():
        key = (kind_of[code], ind)
        out["totals"][key] = out["totals"].get(key, 0) + v
        out["units"][key] = out["units"].get(key, 0) + 1
    for r in cfg.settings.rollup.ratios:
        pop = [
            u.code
            for u in expected
            if u.kind == r.population
            and (not r.population_tags or set(u.tags) & set(r.population_tags))
            and value.get((u.code, r.numerator)) is not None
            and (value.get((u.code, r.denominator)) or 0) > 0
        ]
        out["ratios"][r.key] = (
            sum(value[(c, r.numerator)] for c in pop),
            sum(value[(c, r.denominator)] for c in pop),
        )
    return out


def small_commune(**changes: float) -> dict:
    """The figures of a small consistent commune (10 units, 8 reporting, 7 on time)."""
    figures: dict = {f.code: 0 for f in package.fields(load_config(REPO_CONFIG))}
    figures |= {"DV00": 10, "NP00": 8, "DH00": 7, "DV01": 10, "NP01": 8, "DH01": 7}
    figures |= {"TA01": 240, "NA01": 8, "TA02": 31, "NA02": 8, "RT02": 120, "RM02": 240}
    return figures | changes


def hand_filled(province, code: str, **changes: float) -> bytes:
    """The package of a commune without thidua, filled by hand in `thidua template`'s
    workbook."""
    unit, cycle = province.unit(code), province.cycle("nam-2025")
    figures = small_commune(**changes)
    return build_workbook(province, unit, cycle, figures, info={"nguoi_lap": "Lê Thị Hoa"})


def drop(inbox: Path, name: str, data: bytes, when: datetime) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(data)
    os.utime(inbox / name, (when.timestamp(), when.timestamp()))


@pytest.mark.slow
def test_three_communes_roll_up_into_the_province(tmp_path, monkeypatch, imap_server, cfg):
    from fastapi.testclient import TestClient

    from apps.web.app import create_app
    from pipeline.links import make_link

    packages, truth = {}, {}
    for code in COMMUNES:  # each commune home collects its units and rolls up
        with pytest.MonkeyPatch.context() as mp:
            ws = commune_home(mp, tmp_path, code)
            result = run_annual(ws, 2025, date(2026, 1, 5))
            packages[code] = (result.files["package"], result.files["manifest"])
            truth[code] = independent(ws)
    manifest = json.loads(packages["XA-KIM-SON"][1].read_text("utf-8"))
    assert manifest["thidua_version"] and manifest["sources"]
    # The province home: its own config, its own warehouse, the mailbox on pymap
    pws = fresh_home(monkeypatch, tmp_path / "province")
    monkeypatch.setenv("THIDUA_CONFIG", str(PROVINCE))
    for name, value in imap_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("THIDUA_WEB_SECRET_KEY", "test-secret-key-for-the-province")
    pws = Workspace.from_env()
    init_workspace(pws)
    province = pws.config
    inbox = pws.paths.inbox
    # Phong Doanh by the folder (workbook and manifest, paired by name)
    for path in packages["XA-PHONG-DOANH"]:
        drop(inbox, path.name, path.read_bytes(), PROVINCE_ON_TIME)
    # Yên Khánh by mail, late
    book, man = packages["XA-YEN-KHANH"]
    mail = unit_mail(
        "vhxh@yenkhanh.example",
        [(book.name, book.read_bytes()), (man.name, man.read_bytes())],
        PROVINCE_LATE,
        to=province.settings.sender.email,
    )
    imap_server.append([mail], dt=PROVINCE_LATE)
    # Gia Viễn has no thidua: its hand-filled workbook, no manifest
    drop(inbox, "bao-cao-gia-vien.xlsx", hand_filled(province, "XA-GIA-VIEN"), PROVINCE_ON_TIME)
    # Nho Quan: a numerator above its denominator; Hải Hậu: a manifest of other bytes
    bad = hand_filled(province, "XA-NHO-QUAN", RT02=300)
    drop(inbox, "nam-2025_XA-NHO-QUAN.xlsx", bad, PROVINCE_ON_TIME)
    tampered = hand_filled(province, "XA-HAI-HAU")
    drop(inbox, "nam-2025_XA-HAI-HAU.xlsx", tampered, PROVINCE_ON_TIME)
    drop(inbox, "nam-2025_XA-HAI-HAU.json", man.read_bytes(), PROVINCE_ON_TIME)
    done = {f["unit"]: f for f in collect(pws, docs=False).files()}
    assert {u: (f["outcome"].split("_")[0], f["late"]) for u, f in done.items()} == {
        "XA-PHONG-DOANH": ("accepted", False),
        "XA-YEN-KHANH": ("accepted", True),
        "XA-GIA-VIEN": ("accepted", False),
        "XA-NHO-QUAN": ("rejected", False),
        "XA-HAI-HAU": ("rejected", False),
    }
    messages = dict(
        rows(
            pws,
            "SELECT s.unit_code, string_agg(r.message_vi || ' @' || coalesce(r.cell, ''), ' | ') "
            "FROM validation_results r JOIN submissions s USING (submission_id) "
            "WHERE r.severity = 'error' GROUP BY ALL",
        )
    )
    rt02 = next(i for i, f in enumerate(package.fields(cfg)) if f.code == "RT02")
    assert re.search(
        rf"RT02 = 300 lớn hơn RM02 = 240.*@ChiTieu!D{rt02 + 2}$", messages["XA-NHO-QUAN"]
    )
    assert "“nam-2025_XA-HAI-HAU.json”" in messages["XA-HAI-HAU"]
    assert "không khớp" in messages["XA-HAI-HAU"] and set(messages) == {"XA-NHO-QUAN", "XA-HAI-HAU"}
    # Kim Sơn through its upload page: received now, so late for 2025
    monkeypatch.setenv("THIDUA_WEB_LINK_VALID_DAYS", "30")
    pws = Workspace.from_env()
    token = make_link(pws, "XA-KIM-SON", "nam-2025").rsplit("/u/", 1)[1]
    with TestClient(create_app(pws), follow_redirects=False) as c:
        page = c.get(f"/u/{token}")
        assert page.status_code == 200, page.text[:3000]
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        book = packages["XA-KIM-SON"][0]
        xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        r = c.post(
            f"/u/{token}/upload",
            data={"csrf": csrf},
            files={"file": (book.name, book.read_bytes(), xlsx)},
        )
        assert r.status_code in (200, 303), r.text
    assert rows(
        pws,
        "SELECT s.outcome, s.late, list(r.rule_id) FROM submissions s "
        "LEFT JOIN validation_results r USING (submission_id) "
        "WHERE s.unit_code = 'XA-KIM-SON' GROUP BY ALL",
    ) == [("accepted_with_warnings", True, ["late"])]
    assert rows(pws, "SELECT count(*) FROM acknowledgments") == [(6,)]
    check_province_rollup(run_annual(pws, 2025, date(2026, 1, 10)), truth, cfg)


def check_province_rollup(result, truth: dict, cfg) -> None:
    """Totals are the communes' sums, ratios summed numerators over summed
    denominators, reporting rates right at both levels."""
    import pandas as pd

    hand = {"DV01": 10, "NP01": 8, "TA01": 240, "NA01": 8, "TA02": 31, "NA02": 8}
    totals = pd.read_parquet(result.files["data"] / "indicators.parquet")
    total = dict(zip(totals["indicator_code"], totals["total"], strict=True))
    for f in package.fields(cfg):
        table, *key = f.source
        if table in ("indicators", "units"):
            got = [
                t[{"indicators": "totals"}.get(table, table)].get(tuple(key), 0)
                for t in truth.values()
            ]
        elif table == "completeness" and key[0] and key[1] != "on_time":
            got = [t[key[1]].get(key[0], 0) for t in truth.values()]
        else:
            continue
        assert total[f.code] == pytest.approx(sum(got) + hand.get(f.code, 0)), f.code
    assert total[package.INITIATIVES] == sum(t["initiatives"] for t in truth.values()) > 0
    # the communes' initiatives and proposals, from their counts: no rows at the province
    text = docx_text(result.files["docx"])
    assert (
        f"Các xã, phường đã tổng hợp {number_vi(total[package.INITIATIVES])} sáng kiến, giải pháp "
        f"và {number_vi(total[package.PROPOSALS])} đề nghị khen thưởng (tập thể và cá nhân)"
    ) in text
    assert "Đối với cá nhân" not in text
    sheet = load_workbook(result.files["xlsx"], read_only=True)["SangKien"]
    listed = [v for row in sheet.iter_rows(values_only=True) for v in row if v]
    assert (
        "(các xã, phường gửi số sáng kiến, giải pháp, không gửi danh sách: tổng cộng "
        f"{number_vi(total[package.INITIATIVES])}; danh sách ở báo cáo của từng xã, phường)"
    ) in listed
    head = result.headline
    assert (head["expected"], head["submitted"], head["on_time"], head["late"]) == (12, 4, 2, 2)
    assert head["reporting_rate"] == pytest.approx(100 * 4 / 12, abs=0.01)
    # the second level: units of the reporting communes (companies only invited)
    counted = [k for k in cfg.settings.kinds if k not in cfg.settings.rollup.invited_kinds]
    submitted = sum(t["submitted"].get(k, 0) for t in truth.values() for k in counted) + 8
    expected = sum(t["expected"].get(k, 0) for t in truth.values() for k in counted) + 10
    assert head["ratios"]["don_vi_bao_cao"] == pytest.approx(100 * submitted / expected, abs=0.01)
    for r in cfg.settings.rollup.ratios:
        num = sum(t["ratios"][r.key][0] for t in truth.values())
        den = sum(t["ratios"][r.key][1] for t in truth.values())
        if r.key == "ky_nang_so":
            num, den = num + 120, den + 240
        assert head["ratios"][r.key] == pytest.approx(100 * num / den, abs=0.01), r.key
    check_province_words(result.files["docx"])
    # IV.3: no commune of the Hà Nam cluster reported: none of them comes first there
    leaders = next(
        t
        for t in Document(str(result.files["docx"])).tables
        if t.rows[0].cells[1].text == "Đơn vị xếp thứ nhất"
    )
    first = {r.cells[0].text: r.cells[1].text for r in leaders.rows[1:]}
    assert first["Cụm thi đua các xã, phường khu vực Hà Nam"] == "Chưa có xã, phường nộp báo cáo"
    assert len(leaders.rows) == 4 and "Phường Phủ Lý" not in first.values()


def check_province_words(docx) -> None:
    """The province's docx speaks the province tier's words (`[tier]`), none of the
    commune's, and has no plan line: the province's cycles have no plan cycle."""
    doc = Document(str(docx))
    cells = [p.text for t in doc.tables for c in t._cells for p in c.paragraphs]
    text = "\n".join([p.text for p in doc.paragraphs] + cells)
    for said in (
        "TỈNH NINH BÌNH",
        "trên địa bàn tỉnh;",
        "giao Sở Nội vụ (Ban Thi đua – Khen thưởng) hướng dẫn, đôn đốc các xã, phường",
        "số xã, phường phải báo cáo 12",
        "Hội đồng Thi đua – Khen thưởng tỉnh",
        "- Chủ tịch, các PCT UBND tỉnh;",
        "- Lưu: VT, SNV.",
        "trên tổng số đơn vị của các xã, phường",  # DV00: the communes' units
        "(tổng tử số trên tổng mẫu số của các xã, phường)",  # a ratio of package terms
    ):
        assert said in text, said
    for never in (
        "XÃ NINH",
        "toàn xã",
        "Phòng Văn ho",
        "UBND xã",
        "VHXH",
        "trên địa bàn xã",
        "trên tổng số xã, phường",  # the communes, where DV00 counts their units
        ": mẫu số)",  # a base named after the package's denominator field
    ):
        assert never not in text, never
    assert "toàn xã" not in text.lower()  # II.2's rows too, where a field name leads
    assert "(có văn bản) và đăng ký chỉ tiêu" not in text and "chưa xây dựng kế" not in text
    # II.1: the communes' figures under the commune plan's contents 1.1–1.6 (1.7 has none)
    contents = contents_section(docx)
    for n in range(1, 7):
        assert "không phát sinh" not in contents[f"1.{n}"], contents[f"1.{n}"]
    assert " – cơ quan, đơn vị: " in contents["1.1"]


def contents_section(docx) -> dict[str, str]:
    """Section II.1 of a report, by content ("1.1" … "1.7"): its lines."""
    text = docx_text(docx)
    part = text[text.index("1. Kết quả thực hiện các nội dung thi đua") :]
    part = part[: part.index("\n2. ")] if "\n2. " in part else part
    blocks = re.split(r"\n(1\.\d)\. ", part)
    return dict(zip(blocks[1::2], blocks[2::2], strict=True))


def test_province_contents_list_the_communes_figures(tmp_path, monkeypatch):
    """Issue 24 gap 2: the province's section II.1 places each package total under the
    commune plan's content of the indicator it sums (TA02: TT01 of the communes'
    cơ quan, content 1.1), summed over the communes; a content nobody reported says so."""
    fresh_home(monkeypatch, tmp_path / "province")
    monkeypatch.setenv("THIDUA_CONFIG", str(PROVINCE))
    pws = Workspace.from_env()
    init_workspace(pws)
    for code, tt01 in (("XA-GIA-VIEN", 31), ("XA-NHO-QUAN", 40)):
        data = hand_filled(pws.config, code, TA02=tt01)
        drop(pws.paths.inbox, f"nam-2025_{code}.xlsx", data, PROVINCE_ON_TIME)
    collect(pws, docs=False, acks=False)
    contents = contents_section(run_annual(pws, 2025, date(2026, 1, 10)).files["docx"])
    assert (
        "- Xã, phường: số hoạt động tuyên truyền về khoa học, công nghệ, đổi mới sáng tạo, "
        "chuyển đổi số – cơ quan, đơn vị: 71 hoạt động." in contents["1.1"]
    )
    assert "không phát sinh" not in contents["1.1"]
    assert "không phát sinh kết quả thuộc nội dung này" in contents["1.2"]  # TX02: none


def award_documents(cfg, config_dir: Path, out: Path) -> dict[str, str]:
    """The Quyết định, the Tờ trình and a meeting's biên bản of a tier, for one proposal
    of its own form and one of a higher form, as text."""
    from thidua import award_docs
    from thidua.awards import council_members

    members = council_members(config_dir)
    forms = {r.authority: code for code, r in cfg.reward_rules.items()}  # the lowest of each
    unit = cfg.units[0].code

    def row(name: str, level: str) -> dict:
        return {
            "subject_type": "Cá nhân",
            "name": name,
            "unit_code": unit,
            "position": "Công chức",
            "reward_form": forms[level],
            "summary": "Hoàn thành xuất sắc",
        }

    meeting = {
        "held_on": date(2025, 12, 22),
        "cycle_id": "nam-2025",
        "present": [m.name for m in members[:4]],
        "members": len(members),
    }
    vote = {"to_state": "hoi-dong-dong-y", "votes_for": 4, "members": len(members), "note": ""}
    today = date(2025, 12, 23)
    files = (
        award_docs.quyet_dinh(
            cfg, [row("Nguyễn Văn A", "xa")], today, meeting, out / "quyet-dinh.docx"
        ),
        award_docs.to_trinh(
            cfg, [row("Trần Thị B", "cap_tren")], today, meeting, out / "to-trinh.docx"
        ),
        award_docs.bien_ban(
            cfg, meeting, members, [row("C", "xa") | vote], out / "bien-ban-hop-1.docx"
        ),
    )
    return {k: docx_text(f) for k, f in zip(("qd", "ttr", "minutes"), files, strict=True)}


def test_the_province_commendation_documents_speak_its_tier(tmp_path, cfg):
    """Issue 24 gap 1: at the province the council, the Quyết định (the Chủ tịch UBND
    tỉnh's Bằng khen), its Điều 3 and the Tờ trình (to the Thủ tướng through Bộ Nội vụ)
    are the province's (`[tier]`, cycles.yaml); the commune's read as before."""
    province = award_documents(load_config(PROVINCE), PROVINCE, tmp_path / "tinh")
    qd, ttr, minutes = province["qd"], province["ttr"], province["minutes"]
    assert "Về việc tặng Bằng khen" in qd and "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH NINH BÌNH" in qd
    assert "Điều 1. Tặng Bằng khen của Chủ tịch UBND tỉnh Ninh Bình cho 1 cá nhân" in qd
    assert "Điều 3. Chánh Văn phòng UBND tỉnh, Giám đốc Sở Nội vụ" in qd
    assert "Theo đề nghị của Sở Nội vụ (Ban Thi đua – Khen thưởng)." in qd
    assert "DANH SÁCH TẶNG BẰNG KHEN" in qd and "Nguyễn Văn A" in qd
    assert "Kính gửi: Thủ tướng Chính phủ (qua Bộ Nội vụ – Ban Thi đua – Khen thưởng" in ttr
    assert "Bằng khen của Thủ tướng Chính phủ cho 1 cá nhân (Thủ tướng Chính phủ quyết" in ttr
    assert "- Bộ Nội vụ (Ban Thi đua – Khen thưởng Trung ương);" in ttr
    assert "Hội đồng Thi đua – Khen thưởng tỉnh họp xét" in minutes
    assert "4/6 thành viên Hội đồng có mặt" in minutes
    for text in province.values():
        assert "Căn cứ Biên bản họp Hội đồng Thi đua – Khen thưởng tỉnh" in text or text == minutes
        assert "ỦY BAN NHÂN DÂN\nTỈNH NINH BÌNH" in text
        # "xã" only where the communes are meant (the cycle's title, the units' names)
        rest = re.sub(r"các xã, phường|Xã [A-ZĐ]\w+( \w+)?", "", text)
        assert not re.search(r"\bxã\b(?! hội)", rest, re.IGNORECASE), rest  # not "xã hội"
        assert "Giấy khen" not in text and "VHXH" not in text
    commune = award_documents(cfg, REPO_CONFIG, tmp_path / "xa")
    assert "Điều 1. Tặng Giấy khen của Chủ tịch UBND xã Phong Doanh" in commune["qd"]
    assert "Điều 3. Chánh Văn phòng HĐND và UBND xã, Trưởng phòng Văn hoá – Xã hội" in commune["qd"]
    assert "DANH SÁCH TẶNG GIẤY KHEN" in commune["qd"] and "- Lưu: VT, VHXH." in commune["qd"]
    assert "Kính gửi: Chủ tịch UBND tỉnh Ninh Bình (qua Sở Nội vụ" in commune["ttr"]
    assert "- Sở Nội vụ (Ban TĐKT);" in commune["ttr"]
    assert "Hội đồng Thi đua – Khen thưởng xã họp xét" in commune["minutes"]


def test_web_upload_checks_the_package_manifest(tmp_path, monkeypatch):
    """Item 3, on the province tenant's upload page: a package's workbook with its own
    manifest is accepted, with another package's manifest rejected by the manifest rule
    in the folder's and mailbox's words, without a manifest accepted (hand-filled)."""
    from fastapi.testclient import TestClient

    from apps.web.app import create_tenants_app
    from pipeline.links import make_link
    from thidua.rules import RULES
    from thidua.tenants import load_tenants

    monkeypatch.delenv("THIDUA_SMTP_HOST", raising=False)
    tenants = load_tenants(write_tenants(tmp_path, ["ninh-binh"], configs={"ninh-binh": PROVINCE}))
    with (tmp_path / "ninh-binh/config/secrets.toml").open("a", encoding="utf-8") as f:
        f.write("link_valid_days = 30\n")  # links live from today, the real clock's
    ws = tenants["ninh-binh"].workspace()
    init_workspace(ws)
    province, cycle = ws.config, ws.config.cycle("nam-2025")
    packed = {
        code: package.write(
            package.Tier(province, province.unit(code)), cycle, small_commune(), [], tmp_path / code
        )
        for code in ("XA-KIM-SON", "XA-HAI-HAU", "XA-GIA-VIEN")
    }
    sends = {  # commune: its workbook, and the manifest sent with it
        "XA-KIM-SON": packed["XA-KIM-SON"]["manifest"],
        "XA-HAI-HAU": packed["XA-KIM-SON"]["manifest"],  # another package's
        "XA-GIA-VIEN": None,
    }
    pages = {}
    with TestClient(create_tenants_app(tenants), follow_redirects=False) as c:
        for code, manifest in sends.items():
            token = make_link(ws, code, cycle.id).rsplit("/u/", 1)[1]
            page = c.get(f"/t/ninh-binh/u/{token}")
            assert 'name="manifest"' in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            book = packed[code]["package"]
            files = {"file": (book.name, book.read_bytes(), "application/octet-stream")}
            if manifest:
                files["manifest"] = (manifest.name, manifest.read_bytes(), "application/json")
            r = c.post(f"/t/ninh-binh/u/{token}/upload", data={"csrf": csrf}, files=files)
            pages[code] = r.text
    got = rows(
        ws,
        "SELECT s.unit_code, s.outcome, list(r.rule_id ORDER BY r.rule_id), "
        "string_agg(r.message_vi, ' | ') FILTER (r.rule_id = 'manifest') "
        "FROM submissions s LEFT JOIN validation_results r USING (submission_id) "
        "GROUP BY ALL ORDER BY 1",
    )
    assert [g[:3] for g in got] == [
        ("XA-GIA-VIEN", "accepted_with_warnings", ["late"]),
        ("XA-HAI-HAU", "rejected", ["late", "manifest"]),
        ("XA-KIM-SON", "accepted_with_warnings", ["late"]),
    ]
    # the folder's and mailbox's message: the manifest and the workbook named, the reason
    message = {g[0]: g[3] for g in got}["XA-HAI-HAU"]
    shape = re.escape(RULES["manifest"].text).replace(r"\{value\}", "(.+)")
    shape = shape.replace(r"\{book\}", "(.+)").replace(r"\{reason\}", "(.+)")
    manifest_name, book_name, reason = re.fullmatch(shape, message).groups()
    assert manifest_name.endswith(".json") and book_name.endswith(".xlsx")
    assert reason == f"mã băm SHA-256 của tệp “{book_name}” không khớp với tệp kê khai"
    assert "không khớp với tệp kê khai" in pages["XA-HAI-HAU"]


# Phase 1's years: those whose period ends by the sơ kết's cut-off (31/10/2027)
PHASE_YEARS = (2025, 2026)
PHASE_CYCLES = (*(f"nam-{y}" for y in PHASE_YEARS), "so-ket-2027")


def phase_commune(mp: pytest.MonkeyPatch, tmp: Path, code: str) -> tuple[dict, dict]:
    """A commune home in which every third unit sends each year of phase 1 and the sơ
    kết, three days before each due date; the commune rolls up each year and the phase.
    Its packages per cycle, and per cycle what they must say (`independent`)."""
    email = COMMUNES[code][0]
    fresh_home(mp, tmp / code)
    mp.setenv("THIDUA_CONFIG", str(commune_config(tmp, code, email)))
    mp.setenv("THIDUA_NOW", "2027-12-01T09:00:00+07:00")  # after the sơ kết's files
    ws = Workspace.from_env()
    init_workspace(ws)
    cfg = ws.config
    for cid in PHASE_CYCLES:
        cycle = cfg.cycle(cid)
        when = datetime.combine(cycle.due - timedelta(days=3), time(9), TZ)
        synthetic.drop_into_inbox(ws, cycle, cfg.expected_units(cycle)[::3], when)
    collect(ws, docs=False, acks=False)
    results = [run_annual(ws, y, date(y + 1, 1, 5)) for y in PHASE_YEARS]
    results.append(run_phase(ws, 1, cfg.cycle("so-ket-2027").due + timedelta(days=5)))
    packages = {r.cycle_id: (r.files["package"], r.files["manifest"]) for r in results}
    return packages, {cid: independent(ws, cid) for cid in PHASE_CYCLES}


@pytest.mark.slow
def test_the_communes_phase_packages_roll_up_into_the_province_phase(tmp_path, monkeypatch, cfg):
    """Item 4: two communes' sơ kết packages (and those of the years of phase 1) reach
    the province by its folder; the province's phase rollup has, per field, the years
    side by side as the communes' sums, flows summed over the years and stocks at the
    last year's level, the communes' sơ kết figures (levels at the cut-off for stocks)
    as achieved, and ratios as summed numerators over summed denominators."""
    import pandas as pd

    packages, truth = {}, {}
    for code in ("XA-PHONG-DOANH", "XA-YEN-KHANH"):
        with pytest.MonkeyPatch.context() as mp:
            packages[code], truth[code] = phase_commune(mp, tmp_path, code)
    fresh_home(monkeypatch, tmp_path / "province")
    monkeypatch.setenv("THIDUA_CONFIG", str(PROVINCE))
    monkeypatch.setenv("THIDUA_NOW", "2028-01-05T09:00:00+07:00")
    pws = Workspace.from_env()
    init_workspace(pws)
    for code, by_cycle in packages.items():
        for cid, files in by_cycle.items():
            when = datetime.combine(pws.config.cycle(cid).due - timedelta(days=2), time(9), TZ)
            for path in files:
                drop(pws.paths.inbox, path.name, path.read_bytes(), when)
    done = collect(pws, docs=False, acks=False).files()
    assert sorted((f["unit"], f["outcome"].split("_")[0]) for f in done) == sorted(
        (code, "accepted") for code in packages for _ in PHASE_CYCLES
    )
    soket = pws.config.cycle("so-ket-2027")
    assert [c.year for c in phase_years(pws.config, soket)] == list(PHASE_YEARS)
    result = run_phase(pws, 1, date(2027, 12, 10))
    ach = pd.read_parquet(result.files["data"] / "achievement.parquet").set_index("indicator_code")
    checked = set()
    for f in package.fields(cfg):
        table, *key = f.source
        if table != "indicators":
            continue
        each = {
            c: sum(t[c]["totals"].get(tuple(key), 0) for t in truth.values()) for c in PHASE_CYCLES
        }
        row = ach.loc[f.code]
        years = [each[f"nam-{y}"] for y in PHASE_YEARS]
        for y, total in zip(PHASE_YEARS, years, strict=True):
            assert row[f"y{y}"] == pytest.approx(total), (f.code, y)
        folded = sum(years) if f.aggregate == "sum" else years[-1]  # stocks: the level
        assert row["annual"] == pytest.approx(folded), f.code
        assert row["achieved"] == pytest.approx(each["so-ket-2027"]), f.code
        checked.add(f.aggregate)
    assert checked == {"sum", "last"}
    for r in cfg.settings.rollup.ratios:
        num = sum(t["so-ket-2027"]["ratios"][r.key][0] for t in truth.values())
        den = sum(t["so-ket-2027"]["ratios"][r.key][1] for t in truth.values())
        assert result.headline["ratios"][r.key] == pytest.approx(100 * num / den, abs=0.01)
    assert (result.headline["expected"], result.headline["submitted"]) == (12, 2)
    check_province_words(result.files["docx"])
    # the xlsx places each package total under the content of the indicator it sums
    placed = xlsx_contents(result.files["xlsx"])
    totals = {f.code: package.total_source(f.name_vi) for f in package.fields(cfg)}
    expected = {code: contents.content_label(src[0]) for code, src in totals.items() if src}
    assert {code: placed[code] for code in expected} == expected
    assert "II.3" in expected.values()  # not only "—"


def xlsx_contents(path: Path) -> dict[str, str]:
    """Field code → its "Nội dung (mục II Kế hoạch)" cell in a phase report's xlsx."""
    found: dict[str, str] = {}
    for ws in load_workbook(path, read_only=True).worksheets:
        cols = None
        for row in ws.iter_rows(values_only=True):
            if "Nội dung (mục II Kế hoạch)" in row:
                cols = (row.index("Mã"), row.index("Nội dung (mục II Kế hoạch)"))
            elif cols and row[cols[0]]:
                found.setdefault(str(row[cols[0]]), str(row[cols[1]]))
    return found


def test_template_for_a_commune_of_the_province(tmp_path, monkeypatch):
    """`thidua template` on the province config: the workbook a commune without thidua
    fills by hand, holding every field of the package."""
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from apps.cli import app

    fresh_home(monkeypatch, tmp_path / "province")
    monkeypatch.setenv("THIDUA_CONFIG", str(PROVINCE))
    out = tmp_path / "mau.xlsx"
    r = CliRunner().invoke(app, ["template", "XA-GIA-VIEN", "nam-2025", "-o", str(out)])
    assert r.exit_code == 0, r.output
    wb = load_workbook(out, read_only=True)
    info = {row[0]: row[2] for row in wb["ThongTin"].iter_rows(min_row=2, values_only=True)}
    assert (info["ma_don_vi"], info["ky_bao_cao"]) == ("XA-GIA-VIEN", "nam-2025")
    codes = [row[0] for row in wb["ChiTieu"].iter_rows(min_row=2, values_only=True)]
    assert codes == [f.code for f in package.fields(load_config(REPO_CONFIG))]
