"""Broken configs never crash: each of these mutations exits 2 with `file:line: field:
message` (or the environment variable), and no traceback."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apps.cli import app
from thidua.settings import REPO_CONFIG

BIG = "x" * 131_072
# (file, old text, new text, what the message must name); "" replaces the whole file
MUTATIONS = [
    ("cycles.yaml", "", "- just\n- a list\n", "cycles.yaml"),
    ("cycles.yaml", "", "cycles: 5\n", "cycles.yaml"),
    ("cycles.yaml", "", "reward_forms: 5\ncycles: []\n", "reward_forms"),
    (
        "cycles.yaml",
        "reward_forms:\n  huan-chuong-lao-dong-hang-nhat:",
        "reward_forms: 5\nold_forms:\n  x:",
        "reward_forms",
    ),
    ("cycles.yaml", "period: [2025-08-21, 2025-12-14]", "period: 2025", "period"),
    ("cycles.yaml", "period: [2025-08-21, 2025-12-14]", "period: [2025-12-14]", "period"),
    ("cycles.yaml", "period: [2025-08-21, 2025-12-14]", "period: [x, y]", "period"),
    ("cycles.yaml", "year: 2025, period", "year: text, period", "year"),
    ("cycles.yaml", "year: 2025, period", "year: 20.5, period", "year"),
    ("cycles.yaml", "due: 2025-08-31", "due: 31/08/2025", "due"),
    ("cycles.yaml", "due: 2025-08-31", "due: [2025]", "due"),
    ("cycles.yaml", "kind: ke_hoach", "kind: [ke_hoach]", "kind"),
    ("cycles.yaml", "targets: [2027, 2030]", "targets: [next year]", "targets"),
    ("cycles.yaml", "targets: [2027, 2030]", "targets: 2027", "targets"),
    ("cycles.yaml", "reward_forms: []", "reward_forms: giay-khen-xa", "reward_forms"),
    ("cycles.yaml", "title: Kế hoạch thực hiện", f"title: {BIG} Kế hoạch", "title"),
    ("cycles.yaml", "cycles:", "cycles: [\n", "cycles.yaml"),
    ("cycles.yaml", "id: ke-hoach-2025", "id: nam-2025", "id"),
    ("units.csv", "CQ-VP,Văn phòng", 'CQ-VP,"Văn phòng', "units.csv"),
    ("units.csv", "code,name,kind", "ma,name,kind", "units.csv:1"),
    ("units.csv", ",co_quan,chinh_quyen,vanphong@", ",co_quan,chinh_quyen,vanphong-at-", "email"),
    ("units.csv", "CQ-KT,Phòng Kinh tế", f"CQ-KT,{BIG}", "name"),
    (
        "units.csv",
        "code,name,kind,block,email,head_title,head_email,tags",
        "code,name,kind,block,email,head_title,head_email,tags,valid_from,valid_to",
        None,
    ),
    ("units.csv", "hcc@phongdoanh.example,mot-cua", "hcc@phongdoanh.example,mot_cua", "tags"),
    ("indicators.csv", ",,,,mot-cua,no\nHC02", ",,,,hcc,no\nHC02", "tags"),
    ("indicators.csv", ",0,,,,,,yes\nTT02", ",0,,,,,,maybe\nTT02", "target"),
    ("indicators.csv", "TS01,", "TS 1,", "code"),
    (
        "indicators.csv",
        "người,all,int,chung,last,0,,,,",
        "người,all,int,chung,last,zero,,,,",
        "min",
    ),
    ("indicators.csv", "người,all,int,chung,last,0,,,,", "người,all,int,chung,last,inf,,,,", "min"),
    ("indicators.csv", "người,all,int,chung,last,0,,,,", "người,all,int,chung,last,5,1,,,", "max"),
    (
        "indicators.csv",
        "người,all,int,chung,last,0,,,,",
        "người,nobody,int,chung,last,0,,,,",
        "kinds",
    ),
    (
        "indicators.csv",
        "người,all,int,chung,last,0,,,,",
        "người,all,int,chung,last,0,,,,3,4",
        "indicators.csv",
    ),
    ("settings.toml", "send_hour = 8", "send_hour = 31", "send_hour"),
    ("settings.toml", "send_hour = 8", 'send_hour = "eight"', "send_hour"),
    ("settings.toml", 'timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Ha_Noi"', "timezone"),
    ("settings.toml", "max_file_mb = 10", 'max_file_mb = "mười"', "max_file_mb"),
    ("settings.toml", "max_file_mb = 10", "max_file_mb = -1", "max_file_mb"),
    (
        "settings.toml",
        'escalate_kinds = ["co_quan",',
        'escalate_kinds = ["co-quan",',
        "escalate_kinds",
    ),
    ("settings.toml", "movements = [", "movements = 5\nx = [", "movements"),
    ("settings.toml", "yoy_factor = 3.0", "yoy_factor = 0.5", "yoy_factor"),
    ("settings.toml", "on_time = 20", 'on_time = "hai mươi"', "on_time"),
    ("settings.toml", "extra_days_off = []", 'extra_days_off = ["30/04/2027"]', "extra_days_off"),
    ("settings.toml", "extra_days_off = []", "extra_days_off = 5", "extra_days_off"),
    ("settings.toml", "[commune]", "[commune\n", "settings.toml"),
    ("settings.toml", 'name = "Phong Doanh"', f'name = "{BIG}"', "name"),
    ("settings.toml", 'weight = "TS01"', 'weight = "XX99"', "weight"),
    ("settings.toml", 'numerator = "HC02"', 'numerator = "HC2"', "numerator"),
    ("settings.toml", "[blocks]", "[old_blocks]", "blocks"),
    ("settings.toml", 'email = "vhxh@phongdoanh.example"', "email = 5", "email"),
]
BINARY = [
    ("cycles.yaml", "cycles.yaml"),
    ("units.csv", "units.csv"),
    ("indicators.csv", "indicators.csv"),
    ("settings.toml", "settings.toml"),
]


def run(config: Path, monkeypatch) -> tuple[int, str]:
    monkeypatch.setenv("THIDUA_CONFIG", str(config))
    result = CliRunner().invoke(app, ["cycles"])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "name, old, new, names", MUTATIONS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MUTATIONS)]
)
def test_mutation_exits_2_naming_file_and_field(tmp_path, monkeypatch, name, old, new, names):
    config = Path(shutil.copytree(REPO_CONFIG, tmp_path / "config"))
    path = config / name
    text = path.read_text(encoding="utf-8")
    if name == "units.csv" and names is None:  # valid_to before valid_from
        lines = text.splitlines()
        lines[0] = new
        lines[1] += ",2026-01-01,2025-01-01"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        names = "valid_to"
    elif old:
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    else:
        path.write_text(new, encoding="utf-8")
    code, output = run(config, monkeypatch)
    assert code == 2, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line]
    assert lines and all(line.startswith("Error: ") for line in lines), output
    assert any(
        names in line and re.search(rf"{re.escape(name)}(:\d+)?: ", line) for line in lines
    ), output
    assert all(len(line) < 600 for line in lines), "a message must not echo a huge value"


@pytest.mark.parametrize("name, names", BINARY)
def test_non_utf8_file_exits_2(tmp_path, monkeypatch, name, names):
    config = Path(shutil.copytree(REPO_CONFIG, tmp_path / "config"))
    (config / name).write_bytes((config / name).read_bytes() + b"\xff\xfe bad \xc3\x28\n")
    code, output = run(config, monkeypatch)
    assert code == 2 and "Traceback" not in output and names in output, output
