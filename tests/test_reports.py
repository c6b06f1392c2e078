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
    assert annual_and_so_ket and all(c.reward_forms == ("giay-khen-xa", "bang-khen-tinh")
                                     for c in annual_and_so_ket)
    assert [c.id for c in cfg.cycles if "co-thi-dua-tinh" in c.reward_forms] == \
        ["tong-ket-2030"]
    # III.2.b: Huân chương Lao động, Cờ thi đua của Chính phủ, Bằng khen của Thủ tướng, Cờ
    # thi đua của UBND tỉnh, Bằng khen của Chủ tịch UBND tỉnh, Giấy khen.
    assert set(cfg.cycle("tong-ket-2030").reward_forms) == {
        "huan-chuong-lao-dong", "co-thi-dua-cp", "bang-khen-ttg", "co-thi-dua-tinh",
        "bang-khen-tinh", "giay-khen-xa"}
    assert cfg.reward_authority == {"giay-khen-xa": "xa", **dict.fromkeys(
        ("bang-khen-tinh", "co-thi-dua-tinh", "bang-khen-ttg", "co-thi-dua-cp",
         "huan-chuong-lao-dong"), "cap_tren")}
    assert cfg.reward_forms["giay-khen-xa"] == "Giấy khen của Chủ tịch UBND xã"


def test_no_ratio_denominator_mixes_populations(cfg):
    """Each ratio is computed over the units of one kind, which both terms apply to: a
    denominator such as TS01 (staff here, members there, residents in villages) is never
    summed across kinds."""
    kinds = {i.code: set(i.kinds) for i in cfg.indicators}
    for r in cfg.settings.rollup.ratios:
        assert r.population in cfg.settings.kinds, r.key
        assert r.population in kinds[r.numerator] & kinds[r.denominator], r.key
    skills = [r.population for r in cfg.settings.rollup.ratios if r.numerator == "BD02"]
    assert sorted(skills) == ["co_quan", "mat_tran_doan_the", "thon_xom"]  # one per population


def copy_config(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO_CONFIG, tmp_path / "config"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_config_refuses_a_ratio_over_a_population_its_terms_do_not_cover(tmp_path):
    config = copy_config(tmp_path)
    edit(config / "settings.toml", 'denominator = "TX01", population = "thon_xom"',
         'denominator = "TX01", population = "co_quan"')
    with pytest.raises(ConfigError) as exc:
        load_config(config)
    assert exc.value.problems == [
        (f"{config / 'settings.toml'}: [rollup] ratios.bang_rong: population 'co_quan': TX02 "
        "does not apply to that unit kind (applies to thon_xom)"),
        (f"{config / 'settings.toml'}: [rollup] ratios.bang_rong: population 'co_quan': TX01 "
        "does not apply to that unit kind (applies to thon_xom)")]
    edit(config / "settings.toml", 'population = "co_quan", name_vi = "Tỷ lệ hộ',
         'population = "ho_gia_dinh", name_vi = "Tỷ lệ hộ')
    with pytest.raises(ConfigError, match="population must be a unit kind"):
        load_config(config)


def test_review_cut_offs_come_before_due_dates(cfg, tmp_path):
    for c in cfg.cycles:
        if c.period_end:
            assert c.period_end < c.due_original, c.id
    so_ket, tong_ket = cfg.cycle("so-ket-2027"), cfg.cycle("tong-ket-2030")
    assert (str(so_ket.period_start), str(so_ket.period_end), str(so_ket.due_original)) == \
        ("2025-08-21", "2027-10-31", "2027-11-15")
    assert (str(tong_ket.period_end), str(tong_ket.due_original)) == ("2030-09-30",
                                                                      "2030-10-15")
    config = copy_config(tmp_path)
    edit(config / "cycles.yaml", "period: [2025-08-21, 2027-10-31]",
         "period: [2025-08-21, 2027-12-14]")
    with pytest.raises(ConfigError, match="the data cut-off 2027-12-14 must come before the "
                                          "due date 2027-11-15"):
        load_config(config)


def test_config_refuses_a_reward_form_without_authority(tmp_path):
    config = copy_config(tmp_path)
    edit(config / "cycles.yaml", "authority: xa}", "authority: tinh}")
    with pytest.raises(ConfigError, match=r"reward_forms.giay-khen-xa: authority: 'tinh' not "
                                          r"one of xa, cap_tren"):
        load_config(config)


def test_co_thi_dua_tinh_proposed_in_an_annual_cycle_is_an_error_on_its_row(workspace):
    from thidua import synthetic
    from thidua.template import build_workbook

    cfg = workspace.config
    unit, cycle = cfg.unit("TX-03"), cfg.cycle("nam-2025")
    data = build_workbook(cfg, unit, cycle, synthetic.values(cfg, unit, cycle),
                          initiatives=synthetic.initiative_rows(unit, 1),
                          proposals=[("Tập thể", "Thôn 3", "Thôn 3", "giay-khen-xa", "Tốt"),
                                     ("Tập thể", "Thôn 3", "Thôn 3", "co-thi-dua-tinh", "Tốt")])
    path = workspace.paths.inbox / "nam-2025_TX-03.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    at = datetime(2025, 12, 10, 9, tzinfo=TZ).timestamp()
    os.utime(path, (at, at))
    collect(workspace)
    with connect(workspace.paths.warehouse, read_only=True) as con:
        outcome = con.execute("SELECT outcome FROM submissions").fetchall()
        found = con.execute("SELECT rule_id, severity, cell, value, message_vi, fix_vi "
                            "FROM validation_results WHERE rule_id = 'reward_form'").fetchall()
    assert outcome == [("accepted_with_warnings",)]     # an error on its row alone (issue 13)
    [(rule, severity, cell, value, message, fix)] = found
    assert (rule, severity, cell, value) == ("reward_form", "error", "DeNghiKhenThuong!E3",
                                             "co-thi-dua-tinh")
    assert "không có trong danh sách của kỳ này" in message
    assert fix == ("Chọn một hình thức trong danh sách thả xuống: Giấy khen của Chủ tịch "
                   "UBND xã; Bằng khen của Chủ tịch UBND tỉnh; rồi gửi lại tệp.")
