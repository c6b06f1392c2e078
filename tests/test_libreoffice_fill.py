"""The template filled in LibreOffice Calc as a clerk types (issue 23 item 4): numbers,
«85%», a date and Vietnamese text entered through UNO (`tests/uno_fill.py`, Calc's own
input line) in the en-US and vi-VN locales, saved as xlsx, then collected: every value
read as typed, the percent shown as typed, an acknowledgment with no problem.  A real
`soffice --headless` on loopback with its own profile, real DuckDB, real SMTP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import openpyxl
import pytest
from helpers import check_email, drop, free_port, rows

from apps import synthetic
from pipeline.collect import collect
from thidua.template import build_workbook
from thidua.workspace import Workspace

SYSTEM_PYTHON = "/usr/bin/python3"
FILL = Path(__file__).with_name("uno_fill.py")
# what a clerk types for the day in each locale's own order (en-US reads 05/01 as 1 May)
DAY_TYPED = {"en-US": "1/5/2026", "vi-VN": "05/01/2026"}
# a fresh profile: the locale, and no spelling, autosave or AutoInput running on idle
# timers while the script types (soffice 7.4 headless aborted in a timer under load)
PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
  xmlns:xs="http://www.w3.org/2001/XMLSchema"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale"
  oor:op="fuse"><value>{locale}</value></prop></item>
<item oor:path="/org.openoffice.Office.Linguistic/SpellChecking"><prop
  oor:name="IsSpellAuto" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Recovery/AutoSave"><prop oor:name="Enabled"
  oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Input"><prop oor:name="AutoInput"
  oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""
ATTEMPTS = 2  # a second office only when the first one failed (it died under the script)


def _office_or_skip() -> None:
    """soffice and the system python's `uno` (Debian's libreoffice-calc-nogui and
    python3-uno, which `.ci/run` installs): in CI their absence fails the test."""
    has_uno = (
        Path(SYSTEM_PYTHON).exists()
        and subprocess.run(
            [SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, check=False
        ).returncode
        == 0
    )
    if shutil.which("soffice") and has_uno:
        return
    if os.environ.get("CI"):
        pytest.fail("soffice or python3-uno missing in CI")
    pytest.skip("LibreOffice Calc or python3-uno not installed here")


def _cells(book: openpyxl.Workbook, typed: dict[str, str], info: dict[str, str]) -> list:
    """[sheet, cell, text] for each indicator value and ThongTin field to type."""
    chi_tieu = {r[0].value: r[0].row for r in book["ChiTieu"].iter_rows(min_row=2)}
    thong_tin = {r[0].value: r[0].row for r in book["ThongTin"].iter_rows(min_row=2)}
    return [["ChiTieu", f"D{chi_tieu[code]}", text] for code, text in typed.items()] + [
        ["ThongTin", f"C{thong_tin[key]}", text] for key, text in info.items()
    ]


def _libreoffice_fill(tmp_path: Path, locale: str, source: Path, cells: list) -> list[dict]:
    """Start soffice with a fresh profile in `locale`, type `cells`, save; what each
    cell shows.  A second office only when the first failed (printed: pytest shows it)."""
    for attempt in range(ATTEMPTS):
        profile = tmp_path / f"profile-{locale}-{attempt}"
        (profile / "user").mkdir(parents=True)
        xcu = PROFILE_XCU.format(locale=locale)
        (profile / "user" / "registrymodifications.xcu").write_text(xcu)
        port = free_port()
        office = subprocess.Popen(
            [
                "soffice",
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                "--nodefault",
                f"-env:UserInstallation={profile.as_uri()}",
                f"--accept=socket,host=127.0.0.1,port={port};urp;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own group: oosplash and soffice.bin end together
        )
        job = {"port": port, "source": str(source), "target": str(tmp_path / "filled.xlsx")}
        try:
            done = subprocess.run(
                [SYSTEM_PYTHON, str(FILL)],
                input=json.dumps({**job, "cells": cells}),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        finally:
            os.killpg(office.pid, signal.SIGTERM)
            office.wait(timeout=60)
        if done.returncode == 0:
            break
        print(f"LibreOffice attempt {attempt + 1} failed:\n{done.stderr}")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("locale", ["en-US", "vi-VN"])
def test_template_filled_in_libreoffice_is_read_right(workspace, smtp_env, cfg, tmp_path, locale):
    _office_or_skip()
    ws = Workspace.from_env()
    unit, cycle = cfg.unit("CQ-YT"), cfg.cycle("nam-2025")
    source = tmp_path / "template.xlsx"
    source.write_bytes(build_workbook(cfg, unit, cycle))
    numbers = {
        code: int(v) for code, v in synthetic.values(cfg, unit, cycle, 0).items() if v == int(v)
    }
    numbers.update(HC04=85, HC05=92)
    typed = {code: str(v) for code, v in numbers.items()} | {"HC04": "85%"}
    info = {
        "nguoi_lap": "Nguyễn Thị Hoà",
        "dien_thoai": "0912 345 678",
        "ngay_lap": DAY_TYPED[locale],
        "thu_truong": "Trưởng trạm Lê Văn Đức",
        **synthetic.narrative(unit),
    }
    book = openpyxl.load_workbook(source)
    shown = _libreoffice_fill(tmp_path, locale, source, _cells(book, typed, info))
    percent = next(s for s in shown if s["typed"] == "85%")
    # what the clerk sees: the percent as typed, never "0.85 %"
    assert percent["shows"].startswith("85") and percent["shows"].endswith("%"), percent
    drop(ws.paths.inbox, "bao-cao.xlsx", (tmp_path / "filled.xlsx").read_bytes())
    collect(ws, docs=False)
    assert rows(ws, "SELECT outcome FROM submissions") == [("accepted",)]
    assert rows(ws, "SELECT rule_id, cell, value FROM validation_results") == []
    values = dict(rows(ws, "SELECT indicator_code, value FROM submission_values"))
    assert values == numbers
    read = dict(rows(ws, "SELECT key, value FROM submission_info"))
    assert read["ngay_lap"] == "05/01/2026"
    assert {k: read[k] for k in info if k != "ngay_lap"} == {
        k: v for k, v in info.items() if k != "ngay_lap"
    }
    [got] = smtp_env.received
    text = got.message.get_body(("plain",)).get_content()
    assert "KẾT QUẢ KIỂM TRA: ĐÃ TIẾP NHẬN" in text and "Báo cáo đã được ghi nhận." in text
    assert check_email(got.message) == []
