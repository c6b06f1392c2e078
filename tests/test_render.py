"""The report as a reader sees it: LibreOffice converts the docx to PDF; the quốc hiệu
line holds on one line, the body starts on page 1 and runs onto page 2."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from pipeline.rollup import run_annual

PACKAGES = ["libreoffice-writer", "fonts-liberation", "poppler-utils"]


def ensure_tools() -> None:
    """soffice and pdftotext, installed with apt-get when missing; skip with the reason
    only when they cannot be installed."""
    if shutil.which("soffice") and shutil.which("pdftotext"):
        return
    try:
        for cmd in (
            ["apt-get", "update"],
            ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
        ):
            subprocess.run(cmd, check=True, capture_output=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"LibreOffice cannot be installed here ({exc})")
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice cannot be installed here (no soffice after apt-get)")


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_report_renders_with_the_national_motto_on_one_line(workspace, tmp_path: Path):
    ensure_tools()
    docx = run_annual(workspace, 2025, today=date(2026, 1, 5)).files["docx"]
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(docx),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pdf = tmp_path / (docx.stem + ".pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = text.split("\f")
    assert len([p for p in pages if p.strip()]) >= 2
    lines = pages[0].splitlines()
    assert any("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in line for line in lines)
    assert any("Độc lập - Tự do - Hạnh phúc" in line for line in lines)
    assert "I. CÔNG TÁC CHỈ ĐẠO, TỔ CHỨC TRIỂN KHAI" in pages[0]
