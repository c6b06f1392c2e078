"""Config loading: the sample commune loads; each kind of breakage is named precisely."""

import shutil
from pathlib import Path

import pytest

from thidua.config import load_config
from thidua.errors import ConfigError
from thidua.settings import REPO_CONFIG


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO_CONFIG, tmp_path / "config"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as excinfo:
        load_config(config_dir)
    return excinfo.value.problems


def test_sample_commune_loads(cfg):
    assert len(cfg.units) == 39
    assert len(cfg.indicators) == 26
    assert [c.id for c in cfg.cycles][:2] == ["ke-hoach-2025", "nam-2025"]
    tx = cfg.indicators_for("thon_xom")
    assert {"TX01", "MT01", "TS01"} <= {i.code for i in tx} and "HC01" not in {i.code for i in tx}
    hc02 = next(i for i in cfg.indicators if i.code == "HC02")
    assert hc02.at_most == "HC01"
    tt02 = next(i for i in cfg.indicators if i.code == "TT02")
    assert tt02.warn_at_most == (20.0, "TS01")
    assert cfg.cycle("ke-hoach-2025").targets == (2027, 2030)


def test_duplicate_unit_code_names_the_line(config_dir):
    units = config_dir / "units.csv"
    lines = units.read_text(encoding="utf-8").splitlines()
    units.write_text("\n".join(lines + [lines[3]]) + "\n", encoding="utf-8")
    assert problems(config_dir) == [
        f"{units}:41: code: duplicate unit code 'CQ-VHXH' (first on line 4)"
    ]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            ",co_quan,chinh_quyen,vanphong@",
            ",quan_ly,chinh_quyen,vanphong@",
            "units.csv:2: kind: unknown unit kind 'quan_ly'",
        ),
        (
            ",co_quan,chinh_quyen,vanphong@",
            ",co_quan,khoi_x,vanphong@",
            "units.csv:2: block: unknown block 'khoi_x'",
        ),
        (
            "vanphong@phongdoanh.example",
            "vanphong-at-phongdoanh",
            "units.csv:2: email: not an email address: 'vanphong-at-phongdoanh'",
        ),
        ("code,name,kind", "ma,name,kind", "units.csv:1: header: missing column(s) code"),
    ],
)
def test_broken_units(config_dir, old, new, expected):
    edit(config_dir / "units.csv", old, new)
    assert any(expected in p for p in problems(config_dir)), problems(config_dir)


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "lượt người,all,int,tuyen_truyen,sum,0,,,20*TS01,",
            "lượt người,all,int,tuyen_truyen,sum,0,,,20*XX99,",
            "indicators.csv:4: warn_at_most: cannot parse '20*XX99'",
        ),
        (
            "lượt người,all,int,tuyen_truyen,sum,0,,,20*TS01,",
            "lượt người,all,int,tuyen_truyen,sum,0,,,TS01 + 5,",
            "indicators.csv:4: warn_at_most: cannot parse 'TS01 + 5'",
        ),
        (
            "hồ sơ,co_quan,int,chinh_quyen_so,sum,0,,HC01,,",
            "hồ sơ,co_quan,int,chinh_quyen_so,sum,0,,HC99,,",
            "indicators.csv:10: at_most: unknown indicator 'HC99'",
        ),
        (
            ",decimal,kinh_te_so,sum,0,,,,5",
            ",money,kinh_te_so,sum,0,,,,5",
            "indicators.csv:18: type: 'money' not one of int, decimal, percent, bool",
        ),
        (
            "percent,chinh_quyen_so,last,0,100",
            "percent,chinh_quyen_so,median,0,100",
            "indicators.csv:12: aggregate: 'median' not one of sum, last, mean",
        ),
    ],
)
def test_broken_indicator_rules(config_dir, old, new, expected):
    edit(config_dir / "indicators.csv", old, new)
    found = problems(config_dir)
    assert any(expected in p for p in found), found


def test_broken_cycle_and_settings(config_dir):
    edit(config_dir / "cycles.yaml", "due: 2025-08-31", "due: 31/08/2025")
    edit(config_dir / "settings.toml", 'email = "sonoivu@ninhbinh.example"', 'email = "sonoivu"')
    found = problems(config_dir)
    assert found == [
        (
            f"{config_dir / 'settings.toml'}:33: [province_office] email: "
            "not an email address: 'sonoivu'"
        )
    ]
    edit(config_dir / "settings.toml", 'email = "sonoivu"', 'email = "sonoivu@ninhbinh.example"')
    lines = (config_dir / "cycles.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "due: 31/08/2025" in text)
    assert problems(config_dir) == [
        f"{config_dir / 'cycles.yaml'}:{line}: due: not a date (YYYY-MM-DD): '31/08/2025'"
    ]


def test_valid_from_and_to_shape_the_expected_set(config_dir):
    units = config_dir / "units.csv"
    text = units.read_text(encoding="utf-8").splitlines()
    text[0] += ",valid_from,valid_to"
    text[1] += ",,2025-12-31"  # CQ-VP leaves at the end of 2025
    text[2] += ",2026-06-01,"  # CQ-KT joins in mid-2026
    units.write_text("\n".join(text) + "\n", encoding="utf-8")
    cfg = load_config(config_dir)
    codes_2025 = {u.code for u in cfg.expected_units(cfg.cycle("nam-2025"))}
    codes_2026 = {u.code for u in cfg.expected_units(cfg.cycle("nam-2026"))}
    assert "CQ-VP" in codes_2025 and "CQ-VP" not in codes_2026
    assert "CQ-KT" not in codes_2025 and "CQ-KT" in codes_2026
