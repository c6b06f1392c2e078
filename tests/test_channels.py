"""One answer per problem, whatever the channel (issue 23, item 2): the folder, the
mailbox and the web page refuse the same file in the same words, and name it as the
unit did.  Real DuckDB, real SMTP (aiosmtpd), real IMAP (pymap), the app over HTTP."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import drop
from mails import unit_mail
from typer.testing import CliRunner

from apps.cli import app as cli
from apps.web.app import create_app
from pipeline.collect import collect
from pipeline.links import make_link
from thidua.workspace import Workspace

VN = timezone(timedelta(hours=7))
DEC15 = datetime(2025, 12, 15, 9, 0, tzinfo=VN)
ENCRYPTED = (Path(__file__).parent / "data" / "collect" / "encrypted.xlsx").read_bytes()
ODS = b"PK\x03\x04" + b"\0" * 26 + b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
TNEF = b"\x78\x9f\x3e\x22\x01\x06\x90\x08\x00"  # Outlook's winmail.dat signature
ZIP = b"PK\x03\x04\x14\x00" + b"\0" * 24 + b"bao-cao.xlsx"
SUBJECT = "Báo cáo năm 2025 – Văn phòng"
CAP_MB = "0.1"  # the size cap of every channel in the too-large case: a 200 kB file is over
# class → (the file the unit sent, its bytes, the reason every channel gives)
CASES = {
    "format": ("bao-cao.ods", ODS, "không nhận tệp định dạng .ods (chỉ nhận .xlsx"),
    "password": ("bao-cao.xlsx", ENCRYPTED, "Không mở được tệp: tệp có đặt mật khẩu."),
    "empty": ("bao-cao.xlsx", b"", "Không mở được tệp: tệp rỗng, không có dữ liệu."),
    "not_a_zip": ("bao-cao.xlsx", b"ma_don_vi,ky\n", "không phải tệp Excel .xlsx"),
    "winmail": ("winmail.dat", TNEF, "Không mở được tệp: tệp winmail.dat là thư Outlook"),
    "archive": ("bao-cao.zip", ZIP, "Không mở được tệp: tệp nén không được mở; hãy giải nén"),
    "too_large": (
        "bao-cao.xlsx",
        b"PK\x03\x04" + b"0" * 200_000,
        "MB, tối đa 0,1 MB), không đọc; hãy gửi riêng tệp báo cáo .xlsx",
    ),
    # a mail (by the mailbox, or an .eml in the folder) with no file: no web page form
    "no_workbook": ("bao-cao.eml", b"", "thư không kèm tệp báo cáo; hãy đính kèm tệp .xlsx"),
}
CHANNELS = [
    (case, channel)
    for case in CASES
    for channel in ("folder", "mailbox", "web")
    if (case, channel) != ("no_workbook", "web")
]


def _status_reason() -> tuple[str, str]:
    """(file, reason) of the one unreadable file `thidua status --json` lists."""
    out = CliRunner().invoke(cli, ["status", "--cycle", "nam-2025", "--json"])
    [row] = json.loads(out.stdout)["unreadable"]
    assert isinstance(row["reason"], str)
    return row["file"], row["reason"]


def _ack_text(smtp, to: str) -> str:
    [ack] = [r.message for r in smtp.received if to in r.rcpt_tos]
    return ack.get_body(("plain",)).get_content()


@pytest.mark.parametrize(("case", "channel"), CHANNELS)
def test_each_channel_gives_the_same_reason_and_the_units_file_name(
    case, channel, workspace, imap_env, smtp_env, cfg, monkeypatch
):
    name, data, reason = CASES[case]
    unit = cfg.unit("CQ-VP")
    if case == "too_large":
        for setting in ("CHECKS_MAX_FILE_MB", "IMAP_MAX_MESSAGE_MB", "WEB_MAX_UPLOAD_MB"):
            monkeypatch.setenv(f"THIDUA_{setting}", CAP_MB)
    if channel == "web":
        assert reason in _web_refusal(monkeypatch, name, data)
        return
    ws = Workspace.from_env()
    sent = [] if case == "no_workbook" else [(name, data)]
    mail = unit_mail(unit.email, sent, DEC15, subject=SUBJECT)
    if channel == "folder":
        drop(ws.paths.inbox, name, mail if case == "no_workbook" else data, DEC15)
        monkeypatch.delenv("THIDUA_IMAP_HOST")
        ws = Workspace.from_env()
    else:
        imap_env.append([mail])
        # a mail not downloaded (too large) or with no file is named after its subject
        name = SUBJECT if case in ("too_large", "no_workbook") else name
    collect(ws, docs=False)
    assert _status_reason() == (name, _status_reason()[1])
    assert reason in _status_reason()[1]
    if channel == "mailbox":  # the folder has no sender to answer
        text = _ack_text(smtp_env, unit.email)
        assert f"“{name}”" in text and reason in text
        assert "imap-" not in text and "lưu cùng báo cáo" not in text


def _web_refusal(monkeypatch: pytest.MonkeyPatch, name: str, data: bytes) -> str:
    """The unit's page after uploading `data` as `name` through its link."""
    monkeypatch.setenv("THIDUA_WEB_SECRET_KEY", "test-secret-key-for-thidua-web")
    ws = Workspace.from_env()
    today = ws.config.settings.calendar.today()
    cycle = max(  # a cycle open today, as a unit's live link has it
        (c for c in ws.config.cycles if ws.config.calendar.opening_day(c.due, c.opens) <= today),
        key=lambda c: c.due,
    )
    unit = ws.config.expected_units(cycle)[0]
    token = make_link(ws, unit.code, cycle.id).rsplit("/u/", 1)[1]
    c = TestClient(create_app(ws), follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get(f"/u/{token}").text)
    r = c.post(
        f"/u/{token}/upload",
        data={"csrf": csrf.group(1) if csrf else ""},
        files={"file": (name, io.BytesIO(data), "application/octet-stream")},
    )
    assert r.status_code == (413 if len(data) > 2**20 * float(CAP_MB) else 415)
    return r.text
