"""Issue 12 on the config and on collection: reward forms by the plan and the law, ratio
populations that never mix, review cut-offs before their due dates, and a proposal for a
form the cycle does not offer refused on its row."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.collect import collect
from thidua.config import load_config
from thidua.errors import ConfigError
from thidua.settings import REPO_CONFIG
from warehouse.db import connect

TZ = timezone(timedelta(hours=7))


def test_reward_forms_follow_plan_iii_2(cfg):
    annual_and_so_ket = [c for c in cfg.cycles if c.kind in ("nam", "so_ket")]
    assert annual_and_so_ket and all(
        c.reward_forms == ("giay-khen-xa", "bang-khen-tinh") for c in annual_and_so_ket
    )
    assert [c.id for c in cfg.cycles if "co-thi-dua-tinh" in c.reward_forms] == ["tong-ket-2030"]
    # III.2.b: Huân chương Lao động, Cờ thi đua của Chính phủ, Bằng khen của Thủ tướng, Cờ
    # thi đua của UBND tỉnh, Bằng khen của Chủ tịch UBND tỉnh, Giấy khen.
    assert cfg.cycle("tong-ket-2030").reward_forms == (
        "huan-chuong-lao-dong-hang-nhat",
        "huan-chuong-lao-dong-hang-nhi",
        "huan-chuong-lao-dong-hang-ba",
        "co-thi-dua-cp",
        "bang-khen-ttg",
        "co-thi-dua-tinh",
        "bang-khen-tinh",
        "giay-khen-xa",
    )
    assert cfg.reward_authority == {
        "giay-khen-xa": "xa",
        **dict.fromkeys(
            (
                "bang-khen-tinh",
                "co-thi-dua-tinh",
                "bang-khen-ttg",
                "co-thi-dua-cp",
                "huan-chuong-lao-dong-hang-nhat",
                "huan-chuong-lao-dong-hang-nhi",
                "huan-chuong-lao-dong-hang-ba",
            ),
            "cap_tren",
        ),
    }
    assert cfg.reward_forms["giay-khen-xa"] == "Giấy khen của Chủ tịch UBND xã"


def test_no_ratio_denominator_mixes_populations(cfg):
    """Each ratio declares its population: the units of one kind, narrowed to a registry
    tag when given.  Every unit of it holds both terms, so a denominator such as TS01
    (staff here, members there, residents in villages) is never summed across kinds, and
    HC01 (dossiers, received once at the public-service centre) never over offices and
    schools that receive none."""
    by_code = {i.code: i for i in cfg.indicators}
    members = {}
    for r in cfg.settings.rollup.ratios:
        assert r.population in cfg.settings.kinds, r.key
        assert set(r.population_tags) <= set(cfg.settings.tags), r.key
        members[r.key] = [
            u.code
            for u in cfg.units
            if u.kind == r.population
            and (not r.population_tags or set(u.tags) & set(r.population_tags))
        ]
        assert members[r.key], r.key
        for term in (r.numerator, r.denominator):
            assert all(by_code[term].applies_to_unit(cfg.unit(code)) for code in members[r.key]), (
                r.key,
                term,
            )
    assert members["ho_so_truc_tuyen"] == ["CQ-HCC"]
    skills = [r.population for r in cfg.settings.rollup.ratios if r.numerator == "BD02"]
    assert sorted(skills) == ["co_quan", "mat_tran_doan_the", "thon_xom"]  # one per population


def test_dossier_indicators_apply_only_to_the_public_service_centre(cfg):
    """HC01-HC03 (administrative dossiers received, online, on time) are held by the unit
    tagged `mot-cua` alone; HC04-HC05 (electronic documents, work files handled online)
    by every office; the template of a school has no HC01 row, the centre's has."""
    from openpyxl import load_workbook

    from thidua.template import build_workbook

    holders = {
        code: [u.code for u in cfg.units if i.applies_to_unit(u)]
        for i in cfg.indicators
        for code in [i.code]
        if code.startswith("HC")
    }
    assert holders["HC01"] == holders["HC02"] == holders["HC03"] == ["CQ-HCC"]
    assert cfg.unit("CQ-HCC").tags == ("mot-cua",)
    offices = [u.code for u in cfg.units if u.kind == "co_quan"]
    assert holders["HC04"] == holders["HC05"] == offices and len(offices) == 12
    cycle = cfg.cycle("nam-2025")
    for code, has in (("GD-TH1", False), ("CQ-VP", False), ("CQ-HCC", True)):
        sheet = load_workbook(__import__("io").BytesIO(build_workbook(cfg, cfg.unit(code), cycle)))[
            "ChiTieu"
        ]
        rows = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert ("HC01" in rows) is has and ("HC04" in rows), code


def copy_config(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO_CONFIG, tmp_path / "config"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_config_refuses_a_ratio_over_a_population_its_terms_do_not_cover(tmp_path):
    config = copy_config(tmp_path)
    edit(
        config / "settings.toml",
        'denominator = "TX01", population = "thon_xom"',
        'denominator = "TX01", population = "co_quan"',
    )
    with pytest.raises(ConfigError) as exc:
        load_config(config)
    assert exc.value.problems == [
        (
            f"{config / 'settings.toml'}: [rollup] ratios.bang_rong: population 'co_quan': TX02 "
            "does not apply to every unit of it (applies to thon_xom)"
        ),
        (
            f"{config / 'settings.toml'}: [rollup] ratios.bang_rong: population 'co_quan': TX01 "
            "does not apply to every unit of it (applies to thon_xom)"
        ),
    ]
    edit(
        config / "settings.toml",
        'population = "co_quan", name_vi = "Tỷ lệ hộ',
        'population = "ho_gia_dinh", name_vi = "Tỷ lệ hộ',
    )
    with pytest.raises(ConfigError, match="population must be a unit kind"):
        load_config(config)


def test_config_refuses_applicability_naming_an_unknown_kind_or_tag(tmp_path):
    config = copy_config(tmp_path)
    indicators, units = config / "indicators.csv", config / "units.csv"
    edit(indicators, "chinh_quyen_so,sum,0,,,,,mot-cua", "chinh_quyen_so,sum,0,,,,,mot-cau")
    edit(
        indicators,
        "hồ sơ,co_quan,int,chinh_quyen_so,sum,0,,HC01,,,mot-cua",
        "hồ sơ,co_quann,int,chinh_quyen_so,sum,0,,HC01,,,mot-cua",
    )
    edit(units, "truong.hcc@phongdoanh.example,mot-cua", "truong.hcc@phongdoanh.example,1-cua")
    with pytest.raises(ConfigError) as exc:
        load_config(config)
    # (then the ratios over HC01, HC02 name indicators the check left out)
    assert exc.value.problems[:3] == [
        f"{units}:5: tags: '1-cua' is not a tag (a-z, 0-9, '-')",
        f"{indicators}:9: tags: unknown tag 'mot-cau' (known: mot-cua)",
        (
            f"{indicators}:10: kinds: unknown unit kind 'co_quann' (known: co_quan, "
            "mat_tran_doan_the, doanh_nghiep, thon_xom)"
        ),
    ]


def test_config_refuses_a_dossier_ratio_over_every_office(tmp_path):
    """Without its tag the ratio HC02/HC01 would rank every office on dossiers it never
    receives: refused when the config loads; an unknown population tag too."""
    config = copy_config(tmp_path)
    edit(config / "settings.toml", 'population_tags = ["mot-cua"], ', "")
    with pytest.raises(ConfigError) as exc:
        load_config(config)
    assert exc.value.problems == [
        (
            f"{config / 'settings.toml'}: [rollup] ratios.ho_so_truc_tuyen: population "
            f"'co_quan': {term} does not apply to every unit of it (applies to co_quan tagged "
            "mot-cua)"
        )
        for term in ("HC02", "HC01")
    ]
    edit(
        config / "settings.toml",
        'denominator = "HC01", population = "co_quan"',
        'denominator = "HC01", population = "co_quan", population_tags = ["hcc"]',
    )
    with pytest.raises(
        ConfigError,
        match=r"population_tags must be tags of \[tags\] "
        r"\(mot-cua\): ho_so_truc_tuyen: 'hcc'",
    ):
        load_config(config)


def test_review_cut_offs_come_before_due_dates(cfg, tmp_path):
    for c in cfg.cycles:
        if c.period_end:
            assert c.period_end < c.due_original, c.id
    so_ket, tong_ket = cfg.cycle("so-ket-2027"), cfg.cycle("tong-ket-2030")
    assert (str(so_ket.period_start), str(so_ket.period_end), str(so_ket.due_original)) == (
        "2025-08-21",
        "2027-10-31",
        "2027-11-15",
    )
    assert (str(tong_ket.period_end), str(tong_ket.due_original)) == ("2030-09-30", "2030-10-15")
    config = copy_config(tmp_path)
    edit(
        config / "cycles.yaml",
        "period: [2025-08-21, 2027-10-31]",
        "period: [2025-08-21, 2027-12-14]",
    )
    with pytest.raises(
        ConfigError, match="the data cut-off 2027-12-14 must come before the due date 2027-11-15"
    ):
        load_config(config)


def test_config_refuses_a_reward_form_without_authority(tmp_path):
    config = copy_config(tmp_path)
    edit(config / "cycles.yaml", "authority: xa}", "authority: tinh}")
    with pytest.raises(
        ConfigError,
        match=r"reward_forms.giay-khen-xa: authority: 'tinh' not "
        r"one of xa, cap_tren",
    ):
        load_config(config)


def test_co_thi_dua_tinh_proposed_in_an_annual_cycle_is_an_error_on_its_row(workspace):
    from apps import synthetic
    from thidua.template import build_workbook

    cfg = workspace.config
    unit, cycle = cfg.unit("TX-03"), cfg.cycle("nam-2025")
    data = build_workbook(
        cfg,
        unit,
        cycle,
        synthetic.values(cfg, unit, cycle),
        initiatives=synthetic.initiative_rows(unit, 1),
        proposals=[
            ("Tập thể", "Thôn 3", "Thôn 3", "giay-khen-xa", "Tốt"),
            ("Tập thể", "Thôn 3", "Thôn 3", "co-thi-dua-tinh", "Tốt"),
        ],
    )
    path = workspace.paths.inbox / "nam-2025_TX-03.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    at = datetime(2025, 12, 10, 9, tzinfo=TZ).timestamp()
    os.utime(path, (at, at))
    collect(workspace)
    with connect(workspace.paths.warehouse, read_only=True) as con:
        outcome = con.execute("SELECT outcome FROM submissions").fetchall()
        found = con.execute(
            "SELECT rule_id, severity, cell, value, message_vi, fix_vi "
            "FROM validation_results WHERE rule_id = 'reward_form'"
        ).fetchall()
    assert outcome == [("accepted_with_warnings",)]  # an error on its row alone (issue 13)
    [(rule, severity, cell, value, message, fix)] = found
    assert (rule, severity, cell, value) == (
        "reward_form",
        "error",
        "DeNghiKhenThuong!E3",
        "co-thi-dua-tinh",
    )
    assert "không có trong danh sách của kỳ này" in message
    assert fix == (
        "Chọn một hình thức trong danh sách thả xuống: Giấy khen của Chủ tịch "
        "UBND xã; Bằng khen của Chủ tịch UBND tỉnh; rồi gửi lại tệp."
    )


def _inbox(workspace, name: str, data: bytes, day: int = 10) -> None:
    path = workspace.paths.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    at = datetime(2025, 12, day, 9, tzinfo=TZ).timestamp()
    os.utime(path, (at, at))


def test_synthetic_values_only_where_the_indicator_applies(cfg):
    from apps import synthetic

    cycle = cfg.cycle("nam-2025")
    for unit in cfg.units:
        assert set(synthetic.values(cfg, unit, cycle)) == {
            i.code for i in cfg.indicators_for(unit)
        }, unit.code
    assert "HC01" in synthetic.values(cfg, cfg.unit("CQ-HCC"), cycle)


def test_a_value_of_an_indicator_the_unit_does_not_hold_is_a_warning_not_loaded(workspace):
    """A school that fills in the public-service centre's workbook (its HC01-HC03 rows)
    gets one warning per such indicator, on its cell, saying whose figure it is; the
    values are not loaded, so no rollup can count them; the rest of the report counts."""
    from apps import synthetic
    from thidua.template import build_workbook

    cfg = workspace.config
    hcc, school, cycle = cfg.unit("CQ-HCC"), cfg.unit("GD-TH1"), cfg.cycle("nam-2025")
    data = build_workbook(
        cfg,
        hcc,
        cycle,
        synthetic.values(cfg, hcc, cycle),
        info={"ma_don_vi": "GD-TH1", "ten_don_vi": school.name, **synthetic.narrative(school)},
        initiatives=synthetic.initiative_rows(school, 1, cycle),
    )
    _inbox(workspace, "nam-2025_GD-TH1.xlsx", data)
    collect(workspace)
    with connect(workspace.paths.warehouse, read_only=True) as con:
        outcome = con.execute("SELECT unit_code, outcome, n_errors FROM submissions").fetchall()
        found = con.execute(
            "SELECT rule_id, severity, cell, message_vi FROM "
            "validation_results ORDER BY length(cell), cell"
        ).fetchall()
        codes = {
            c for (c,) in con.execute("SELECT indicator_code FROM submission_values").fetchall()
        }
    assert outcome == [("GD-TH1", "accepted_with_warnings", 0)]
    rows = {
        c: f"ChiTieu!D{n}" for n, c in enumerate([i.code for i in cfg.indicators_for(hcc)], start=2)
    }
    assert [(r, s, c) for r, s, c, _ in found] == [
        ("not_applicable", "warning", rows[code]) for code in ("HC01", "HC02", "HC03")
    ]
    assert found[0][3] == (
        "Chỉ tiêu HC01 (Tổng số hồ sơ thủ tục hành chính tiếp nhận) không thuộc phạm vi báo "
        "cáo của đơn vị (chỉ tiêu của: Bộ phận tiếp nhận và trả kết quả (Trung tâm Phục vụ "
        "hành chính công xã)); số liệu ở dòng này không được tính."
    )
    assert codes == {i.code for i in cfg.indicators_for(school)}  # HC04, HC05 kept


def test_empty_or_too_long_narrative_fields_are_warnings_naming_field_and_cell(workspace):
    """The template a unit receives, filled with openpyxl as a clerk's Excel would save it:
    figures typed in, "Mô hình, cách làm hay" left empty, "Khó khăn" pasted over the
    length limit.  The report is accepted with warnings (no error), each naming the field
    and its cell in the acknowledgment; the text is stored as written."""
    import io
    from email import policy
    from email.parser import BytesParser

    from openpyxl import load_workbook

    from apps import synthetic
    from thidua.template import build_workbook

    cfg = workspace.config
    unit, cycle = cfg.unit("TX-03"), cfg.cycle("nam-2025")
    limit = cfg.settings.checks.narrative_max_chars
    book = load_workbook(io.BytesIO(build_workbook(cfg, unit, cycle)))
    info, sheet = book["ThongTin"], book["ChiTieu"]
    lengths = {
        str(dv.sqref): (dv.type, dv.operator, dv.formula1)
        for dv in info.data_validations.dataValidation
    }
    rows = {r[0].value: r[0].row for r in info.iter_rows(min_row=2)}
    assert all(
        lengths[f"C{rows[k]}"] == ("textLength", "lessThanOrEqual", str(limit))
        for k in ("tom_tat", "mo_hinh", "kho_khan", "de_xuat")
    )
    figures = synthetic.values(cfg, unit, cycle, initiatives=0)  # no SangKien rows
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in figures:
            row[3].value = figures[row[0].value]
    long_text = "Thiếu thiết bị, đường truyền. " * 60
    assert (len(long_text.strip()), limit) == (1799, 1500)
    for key, text in (
        ("nguoi_lap", "Trần Văn Bình"),
        ("tom_tat", "Tổ công nghệ số hoạt động"),
        ("kho_khan", long_text),
        ("de_xuat", "Lắp wifi nhà văn hoá"),
    ):
        info[f"C{rows[key]}"] = text
    buf = io.BytesIO()
    book.save(buf)
    _inbox(workspace, "nam-2025_TX-03.xlsx", buf.getvalue())
    collect(workspace)
    with connect(workspace.paths.warehouse, read_only=True) as con:
        outcome = con.execute("SELECT outcome, n_errors, n_warnings FROM submissions").fetchall()
        found = con.execute(
            "SELECT rule_id, severity, cell FROM validation_results ORDER BY cell"
        ).fetchall()
        stored = dict(
            con.execute(
                "SELECT key, value FROM submission_info WHERE key IN ('mo_hinh', 'kho_khan')"
            ).fetchall()
        )
    assert outcome == [("accepted_with_warnings", 0, 2)]
    assert found == [
        ("narrative_empty", "warning", f"ThongTin!C{rows['mo_hinh']}"),
        ("narrative_too_long", "warning", f"ThongTin!C{rows['kho_khan']}"),
    ]
    assert stored.get("mo_hinh") is None and stored["kho_khan"] == long_text.strip()
    [eml] = workspace.paths.outbox.glob("*.eml")
    body = (
        BytesParser(policy=policy.default)
        .parsebytes(eml.read_bytes())
        .get_body(("plain",))
        .get_content()
    )
    assert (
        f"[Lưu ý] ô C{rows['mo_hinh']}, trang Thông tin" in body
        and "Chưa ghi mục “Mô hình, cách làm hay” ở trang Thông tin; nội dung mục này được "
        "tổng hợp vào phần “III. Mô hình, cách làm hay” của báo cáo của xã."
        in body
    )
    assert (
        f"[Lưu ý] ô C{rows['kho_khan']}, trang Thông tin" in body
        and "Mục “Khó khăn, vướng mắc và nguyên nhân” dài 1.799 ký tự, quá giới hạn 1.500 "
        "ký tự; báo cáo của xã chỉ trích 1.500 ký tự đầu."
        in body
    )
    assert "[Lỗi]" not in body


def test_review_and_plan_templates_say_what_each_figure_covers(cfg):
    """Sơ kết / tổng kết: a flow is cumulative from the plan's start to the cut-off, a
    stock or a rate the level at the cut-off (per `aggregate`); a plan's targets say the
    same for each review year.  The annual template is unchanged; the parser reads the
    values whatever the name cell says."""
    import io

    from openpyxl import load_workbook

    from apps import synthetic
    from thidua.parse import parse_xlsx
    from thidua.template import build_workbook

    unit = cfg.unit("TX-01")

    def names(cycle_id: str, values=None) -> tuple[dict, bytes]:
        data = build_workbook(cfg, unit, cfg.cycle(cycle_id), values)
        sheet = load_workbook(io.BytesIO(data))["ChiTieu"]
        return {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}, data

    so_ket, _ = names("so-ket-2027")
    assert so_ket["TT01"].endswith("(lũy kế từ 21/08/2025 đến 31/10/2027)")
    assert so_ket["TX01"] == "Tổng số hộ gia đình (mức đạt tại 31/10/2027)"
    tong_ket, _ = names("tong-ket-2030")
    assert tong_ket["BD01"].endswith("(lũy kế từ 21/08/2025 đến 30/09/2030)")
    plan, _ = names("ke-hoach-2025")
    assert plan["TT01"].endswith(
        "(2027: lũy kế từ 21/08/2025 đến 31/10/2027; 2030: lũy kế từ 21/08/2025 đến 30/09/2030)"
    )
    assert plan["TS01"].endswith("(2027: mức đạt tại 31/10/2027; 2030: mức đạt tại 30/09/2030)")
    annual, _ = names("nam-2025")
    assert annual["TX01"] == "Tổng số hộ gia đình"
    figures = synthetic.values(cfg, unit, cfg.cycle("so-ket-2027"))
    _, data = names("so-ket-2027", figures)
    assert {v.code: v.value for v in parse_xlsx(data).values} == figures
