"""Helpers the test files share (pytest fixtures stay in `conftest.py`): files dropped
into an inbox, warehouse rows, a fresh home, a real SMTP recorder, what a clerk should
never read in an email, real workbooks and plans, and the web app's client."""

from __future__ import annotations

import io
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

import openpyxl
import pytest
from data.corpus import ON_TIME
from docx import Document
from fastapi.testclient import TestClient

from apps import synthetic
from apps.server import free_port  # noqa: F401 - the tests', one copy with the benches
from apps.web.app import create_app
from pipeline.collect import collect
from pipeline.init import init_workspace
from thidua.passwords import hash_password
from thidua.settings import REPO_CONFIG
from thidua.template import build_workbook
from thidua.workspace import Workspace
from warehouse.db import connect

VN = timezone(timedelta(hours=7))


def drop(inbox: Path, name: str, data: bytes, received=ON_TIME) -> Path:
    """Put a file into an inbox as a clerk would, received (its mtime) at `received`."""
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_bytes(data)
    os.utime(path, (received.timestamp(), received.timestamp()))
    return path


def taken(cfg, paths: list[Path], archive: Path, limits=None, **kw):
    """(arrivals, examined) of one take-in pass over `paths` (`take_and_examine`), the
    archive made first; `limits` default to the config's."""
    from thidua.examine import take_and_examine
    from thidua.parse import Limits

    archive.mkdir(parents=True, exist_ok=True)
    limits = limits or Limits.from_checks(cfg.settings.checks)
    return take_and_examine(cfg, paths, archive, limits, **kw)


def collect_cycle(ws: Workspace, setenv, cycle, files: dict[str, bytes], acks: bool = False):
    """Drop `files` (name → bytes) into the inbox three days before `cycle`'s due date,
    09:00 local, with THIDUA_NOW an hour later (`setenv`), and collect them."""
    tz = ws.config.settings.calendar.tz
    received = datetime.combine(cycle.due - timedelta(days=3), datetime.min.time(), tz)
    received += timedelta(hours=9)
    setenv("THIDUA_NOW", (received + timedelta(hours=1)).isoformat())
    for name, data in files.items():
        drop(ws.paths.inbox, name, data, received)
    return collect(Workspace.from_env(), docs=False, acks=acks)


def rows(ws: Workspace, sql: str, params=None) -> list[tuple]:
    """What a query returns from the workspace's warehouse, opened read-only."""
    with connect(ws.paths.warehouse, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def fresh_home(mp: pytest.MonkeyPatch, home: Path) -> Workspace:
    """`home` as THIDUA_HOME on the sample config, no mail server set, initialised (for
    module fixtures too, with a `pytest.MonkeyPatch.context()`)."""
    mp.setenv("THIDUA_HOME", str(home))
    mp.setenv("THIDUA_CONFIG", str(REPO_CONFIG))
    for var in (
        "THIDUA_SMTP_HOST",
        "THIDUA_INBOX",
        "THIDUA_IMAP_HOST",
        "THIDUA_IMAP_AUTHSERV_ID",
        "THIDUA_IMAP_FOLDER",
    ):
        mp.delenv(var, raising=False)
    ws = Workspace.from_env()
    init_workspace(ws)
    return ws


# -- a real SMTP server's recorder (aiosmtpd handler) --------------------------------------


@dataclass
class Received:
    """One message as the SMTP server received it: envelope and raw bytes."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class SmtpRecorder:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
            )
        )
        return "250 Message accepted for delivery"


# -- what a clerk reads: emails, workbooks, plans ------------------------------------------

MOVEMENTS = ("Cả nước thi đua đổi mới sáng tạo và chuyển đổi số", "Bình dân học vụ số")
ENGLISH = re.compile(r"\b(?:error|file|zip)\b|\b(?:None|nan|True|False)\b", re.IGNORECASE)
ENGLISH_CASED = re.compile(r"\b(?:None|nan|True|False)\b")
FLOAT_REPR = re.compile(r"e\+0|\d\.0(?:\s|$)")
DATE_LIKE = re.compile(r"\b\d{1,4}[/-]\d{1,2}[/-]\d{1,4}\b")
DDMMYYYY = re.compile(r"^\d{2}/\d{2}/\d{4}$")
BEFORE_DATE = re.compile(r"(?:trước hạn|chậm nhất trong)[^.;]*?(\d{2}/\d{2}/\d{4})")


def email_problems(subject: str, body: str, sent_on: date) -> list[str]:
    """What a clerk should never read in an email (issue 13); empty when all is well."""
    found = []
    if "Bình dân học vụ số" not in subject:
        found.append("subject names no movement")
    found += [f"body lacks movement {m!r}" for m in MOVEMENTS if m not in body]
    for text in (subject, body):
        words = [
            w
            for w in ENGLISH.findall(text)
            if w.lower() in ("error", "file", "zip") or ENGLISH_CASED.fullmatch(w)
        ]
        found += [f"English word {w!r}" for w in words]
        found += [f"float repr {m!r}" for m in FLOAT_REPR.findall(text)]
        found += [
            f"date not dd/mm/yyyy: {d!r}" for d in DATE_LIKE.findall(text) if not DDMMYYYY.match(d)
        ]
        for d in BEFORE_DATE.findall(text):
            if datetime.strptime(d, "%d/%m/%Y").date() < sent_on:
                found.append(f"'trước hạn' a past date {d}")
    return found


def check_email(msg) -> list[str]:
    """`email_problems` of a parsed message, its text and HTML parts."""
    sent_on = msg["Date"].datetime.astimezone(VN).date()
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",))
    body = text + ("\n" + re.sub(r"<[^>]+>", " ", html.get_content()) if html else "")
    return email_problems(str(msg["Subject"]), body, sent_on)


def excel_fill(data: bytes, fill) -> bytes:
    """Open a real template with openpyxl, type into it as Excel stores what is typed,
    save."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    fill(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def cell_of(book, code: str, column: str = "D"):
    ws = book["ChiTieu"]
    [row] = [r[0].row for r in ws.iter_rows(min_row=2) if r[0].value == code]
    return ws[f"{column}{row}"]


def plan_docx(unit_name: str) -> bytes:
    """A real Word document, as a unit's clerk saves its plan."""
    import docx

    doc = docx.Document()
    doc.add_heading(f"KẾ HOẠCH thực hiện phong trào thi đua năm 2025 – {unit_name}", 1)
    doc.add_paragraph("Phong trào thi đua “Bình dân học vụ số”.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# -- the web app through Starlette's TestClient --------------------------------------------

SECRET = "test-secret-key-for-thidua-web"
PASSWORD = "mat-khau-can-bo"
HASH = hash_password(PASSWORD)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def open_cycle(ws: Workspace):
    """A cycle already open today (its `mo` day has come), due soonest."""
    today = ws.config.settings.calendar.today()
    cycles = [c for c in ws.config.cycles if ws.config.calendar.stage_dates(c.due)["mo"] <= today]
    return max(cycles, key=lambda c: c.due)


def client(ws: Workspace) -> TestClient:
    return TestClient(create_app(ws), follow_redirects=False)


def token_of(url: str) -> str:
    return url.rsplit("/u/", 1)[1]


def post_file(
    c: TestClient, token: str, data: bytes, content_type: str = XLSX, csrf: str | None = None
):
    if csrf is None:
        page = c.get(f"/u/{token}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return c.post(
        f"/u/{token}/upload",
        data={"csrf": csrf},
        files={"file": ("bao-cao.xlsx", io.BytesIO(data), content_type)},
    )


def login(c: TestClient, password: str = PASSWORD):
    page = c.get("/officer/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return c.post("/officer/login", data={"csrf": csrf, "password": password})


def officer_csrf(c: TestClient, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', c.get(path).text).group(1)


# -- proposals (test_awards, test_council_e2e)

PROPOSALS = [
    ("Tập thể", "Tổ công nghệ số Thôn 3", "Thôn 3", "Giấy khen", "Hỗ trợ 120 hộ"),
    ("Cá nhân", "Nguyễn Thị Hoa", "Công chức văn hóa", "Giấy khen", "Tích cực"),
    ("Hộ gia đình", "Hộ bà Lê Thị Lan", "Thôn 3", "Giấy khen", "Thanh toán số"),
    ("Cá nhân", "Trần Văn Nam", "Trưởng thôn", "Bằng khen của Chủ tịch UBND tỉnh", "Xuất sắc"),
]


def send(ws, unit: str, cycle: str, proposals: list[tuple], at: datetime, name: str) -> None:
    """A unit's workbook with these proposals, dropped into the inbox and collected."""
    cfg = ws.config
    u, c = cfg.unit(unit), cfg.cycle(cycle)
    data = build_workbook(cfg, u, c, synthetic.values(cfg, u, c), proposals=proposals)
    path = ws.paths.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (at.timestamp(), at.timestamp()))
    collect(ws)


def docx_text(path) -> str:
    """Every paragraph and table cell of a docx, a line each."""
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


# -- many communes (test_tenants, test_multihost)

TENANT_PASSWORDS = {"xa-a": "mat-khau-xa-a", "xa-b": "mat-khau-xa-b"}
TENANT_HASHES = {name: hash_password(pw) for name, pw in TENANT_PASSWORDS.items()}


def write_tenants(
    root: Path,
    names: list[str],
    keys: dict[str, str] | None = None,
    configs: dict[str, Path] | None = None,
) -> Path:
    """Each tenant: a copy of the sample config (or of `configs[name]`: the province's)
    with its own secrets.toml, and a home."""
    lines = []
    for name in names:
        config = root / name / "config"
        shutil.copytree((configs or {}).get(name, REPO_CONFIG), config)
        key = (keys or {}).get(name, f"khoa-bi-mat-cua-{name}-0123456789")
        (config / "secrets.toml").write_text(
            f'[web]\nsecret_key = "{key}"\nofficer_password_hash = "{TENANT_HASHES.get(name, "")}"\n',
            "utf-8",
        )
        lines.append(f'[tenants.{name}]\nconfig = "{name}/config"\nhome = "{name}/home"\n')
    path = root / "tenants.toml"
    path.write_text("\n".join(lines), "utf-8")
    return path


# -- a collect killed and rerun (test_crash, test_multihost)

N_FILES = 1_000
WORKBOOKS_AT = datetime(2025, 12, 15, 10, tzinfo=timezone(timedelta(hours=7))).timestamp()


def counts(ws: Workspace) -> dict[str, object]:
    with connect(ws.paths.warehouse, read_only=True) as con:
        one = lambda sql: con.execute(sql).fetchone()[0]
        return {
            "files": one("SELECT count(*) FROM files"),
            "submissions": one("SELECT count(*) FROM submissions"),
            "distinct": one("SELECT count(DISTINCT submission_id) FROM submissions"),
            "outcomes": con.execute(
                "SELECT outcome, count(*) FROM submissions GROUP BY 1 ORDER BY 1"
            ).fetchall(),
            "values": one("SELECT count(*) FROM submission_values"),
            "value_sum": one("SELECT sum(value) FROM submission_values"),
            "acks_sent": one("SELECT count(*) FROM acknowledgments WHERE status = 'sent'"),
        }


def mails_per_recipient_subject(outbox: Path) -> dict[tuple[str, str], int]:
    seen: dict[tuple[str, str], int] = {}
    parser = BytesHeaderParser(policy=policy.default)
    for eml in outbox.glob("*.eml"):
        msg = parser.parsebytes(eml.read_bytes())
        key = (str(msg["To"]), str(msg["Subject"]))
        seen[key] = seen.get(key, 0) + 1
    return seen


# -- the browser tests (test_web_e2e, test_council_e2e)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
E2E_PASSWORD = "mat-khau-can-bo-e2e"
