"""Issue 15: the unit's upload page and the officer's review, through Starlette's
TestClient on a real DuckDB file; the returned-report email through a real SMTP server."""

from __future__ import annotations

import io
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from helpers import (
    DOCX,
    HASH,
    PASSWORD,
    SECRET,
    XLSX,
    client,
    login,
    officer_csrf,
    open_cycle,
    plan_docx,
    post_file,
    token_of,
)
from typer.testing import CliRunner

from apps import synthetic
from apps.cli import app as cli
from apps.web.app import create_app
from apps.web.guards import CSP, TokenBucket
from pipeline import upload as uploads
from pipeline.links import make_link, open_link
from pipeline.review import decide, unit_view
from pipeline.upload import UploadQueue, upload
from thidua import links
from thidua.errors import ConfigError
from thidua.passwords import verify_password
from thidua.settings import REPO_CONFIG, resolve_settings
from thidua.workspace import Workspace
from warehouse.db import WAREHOUSE_LOCK


@pytest.fixture
def ws(workspace, monkeypatch) -> Workspace:
    """The initialised workspace with `[web]` set up from the environment."""
    monkeypatch.setenv("THIDUA_WEB_SECRET_KEY", SECRET)
    monkeypatch.setenv("THIDUA_WEB_OFFICER_PASSWORD_HASH", HASH)
    return Workspace.from_env()


@pytest.fixture
def setup(ws):
    cycle = open_cycle(ws)
    units = ws.config.expected_units(cycle)[:3]
    return ws, cycle, units


# -- settings, passwords, links -----------------------------------------------------------


def test_web_settings_defaults_and_secrets(tmp_path):
    s = resolve_settings(REPO_CONFIG, {})
    assert (s.web.host, s.web.port, s.web.base_url) == ("127.0.0.1", 8000, "http://127.0.0.1:8000")
    assert s.web.secret_key is None and s.web.rollup_counts == "accepted"
    assert s.web.max_upload_mb == 10 and s.web.link_valid_days is None
    s = resolve_settings(
        REPO_CONFIG, {"THIDUA_WEB_SECRET_KEY": SECRET, "THIDUA_WEB_ROLLUP_COUNTS": "approved"}
    )
    assert s.web.secret_key.get_secret_value() == SECRET and SECRET not in repr(s)
    assert s.web.rollup_counts == "approved"
    # a secret in the committed settings.toml is refused, naming the line
    (tmp_path / "settings.toml").write_text(
        (REPO_CONFIG / "settings.toml").read_text("utf-8") + 'secret_key = "abcdefghijklmnopq"\n',
        "utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        resolve_settings(tmp_path, {})
    assert "[web] secret_key: a secret" in exc.value.problems[0]
    assert "abcdefghijklmnopq" not in str(exc.value.problems)
    # from secrets.toml beside it, it is fine
    (tmp_path / "settings.toml").write_text(
        (REPO_CONFIG / "settings.toml").read_text("utf-8"), "utf-8"
    )
    (tmp_path / "secrets.toml").write_text('[web]\nsecret_key = "abcdefghijklmnopq"\n', "utf-8")
    assert resolve_settings(tmp_path, {}).web.secret_key.get_secret_value() == "abcdefghijklmnopq"


def test_password_hash():
    assert HASH.startswith("scrypt$") and PASSWORD not in HASH
    assert verify_password(PASSWORD, HASH)
    assert not verify_password("wrong", HASH)
    assert not verify_password(PASSWORD, "garbage")


def test_web_refuses_to_start_without_a_secret_key(workspace):
    with pytest.raises(links.WebNotConfigured):
        create_app(workspace)
    result = CliRunner().invoke(cli, ["web"])
    assert result.exit_code == 1 and "secret_key" in result.output


def test_link_cli_and_states(setup):
    ws, cycle, (a, b, _) = setup
    out = CliRunner().invoke(cli, ["link", a.code, cycle.id])
    assert out.exit_code == 0, out.output
    url = out.stdout.strip()
    assert url.startswith("http://127.0.0.1:8000/u/")
    again = CliRunner().invoke(cli, ["link", a.code, cycle.id]).stdout.strip()
    web = ws.config.settings.web  # the same link id (the signature's timestamp differs)
    assert links.verify(web, token_of(again)) == links.verify(web, token_of(url))
    c = client(ws)
    token = token_of(url)
    ok = c.get(f"/u/{token}")
    assert ok.status_code == 200 and a.name in ok.text
    # tampered: one character changed, or signed with another key
    bad = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for t in (bad, "nonsense"):
        r = c.get(f"/u/{t}")
        assert r.status_code == 403 and "không hợp lệ" in r.text
        assert (
            ws.config.settings.sender.phone in r.text and ws.config.settings.sender.email in r.text
        )
    # expired
    claim = links.verify(ws.config.settings.web, token)
    with duckdb.connect(str(ws.paths.warehouse)) as con:
        con.execute(
            "UPDATE upload_links SET expires_at = ? WHERE id = ?",
            [datetime.now(UTC) - timedelta(seconds=1), claim.link_id],
        )
    r = c.get(f"/u/{token}")
    assert (
        r.status_code == 410 and "hết hạn" in r.text and ws.config.settings.sender.phone in r.text
    )
    # revoked
    url_b = make_link(ws, b.code, cycle.id)
    out = CliRunner().invoke(cli, ["link", b.code, cycle.id, "--revoke"])
    assert out.exit_code == 0 and "đã thu hồi 1 đường dẫn" in out.stdout
    r = c.get(f"/u/{token_of(url_b)}")
    assert r.status_code == 410 and "thu hồi" in r.text
    new_b = make_link(ws, b.code, cycle.id)  # a new link id
    assert links.verify(web, token_of(new_b)) != links.verify(web, token_of(url_b))
    assert c.get(f"/u/{token_of(new_b)}").status_code == 200


def test_a_link_made_on_the_simulated_clock_opens_on_it(setup, monkeypatch):
    """THIDUA_NOW moves making, reusing and opening a link alike: a link of nam-2025
    made on 01/12/2025 (the demo's clock) lives to due + 60 days, whatever the real date."""
    ws, _, (a, *_) = setup
    monkeypatch.setenv("THIDUA_NOW", "2025-12-01T09:00:00+07:00")
    url = make_link(ws, a.code, "nam-2025")
    assert open_link(ws, token_of(url)).unit == a.code
    assert make_link(ws, a.code, "nam-2025") == url  # the live link, not a new one
    monkeypatch.setenv("THIDUA_NOW", "2026-03-01T09:00:00+07:00")  # past due + 60 days
    with pytest.raises(links.Expired):
        open_link(ws, token_of(url))


def test_every_response_has_the_security_headers(setup):
    ws, cycle, (a, *_) = setup
    c = client(ws)
    token = token_of(make_link(ws, a.code, cycle.id))
    for r in (
        c.get("/"),
        c.get(f"/u/{token}"),
        c.get("/u/x"),
        c.get("/officer"),
        c.get("/officer/login"),
        c.get("/static/app.css"),
        c.get("/healthz"),
        c.get(f"/u/{token}/template"),
    ):
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["referrer-policy"] == "no-referrer"


# -- the unit's page ----------------------------------------------------------------------


@pytest.mark.slow
def test_unit_page_template_and_upload(setup):
    from thidua.parse import parse_file

    ws, cycle, (a, *_) = setup
    c = client(ws)
    token = token_of(make_link(ws, a.code, cycle.id))
    page = c.get(f"/u/{token}")
    assert cycle.title in page.text and cycle.due.strftime("%d/%m/%Y") in page.text
    assert "chưa nộp" in page.text
    tpl = c.get(f"/u/{token}/template")
    assert tpl.status_code == 200 and tpl.headers["content-type"] == XLSX
    assert f"{cycle.id}_{a.code}.xlsx" in tpl.headers["content-disposition"]
    assert parse_file("t.xlsx", tpl.content).info["ma_don_vi"][0] == a.code
    # a good workbook: accepted at once, waiting for review
    first = synthetic.workbook(ws.config, a, cycle)
    r = post_file(c, token, first)
    assert r.status_code == 200, r.text
    assert 'id="result"' in r.text and "Phiên bản 1" in r.text and "chờ duyệt" in r.text
    # a broken one: each problem with its cell, the value read and what to do
    ind = next(i for i in ws.config.indicators_for(a.kind) if i.type == "percent")
    r = post_file(c, token, synthetic.workbook(ws.config, a, cycle, overrides={ind.code: 150}))
    assert r.status_code == 200 and "Phiên bản 2" in r.text
    assert "có lỗi" in r.text and "150" in r.text
    # the sheet by its tab's title, as the acknowledgment names it
    assert "<th>Trang</th>" in r.text and '<td class="code">Chỉ tiêu</td>' in r.text
    problems = unit_view(ws, a.code, cycle.id)["problems"]
    assert problems and problems[0]["fix_vi"] and problems[0]["fix_vi"] in r.text
    [on_value] = [p for p in problems if p["indicator"] == ind.code]
    assert on_value["indicator_name"] == ind.name_vi and ind.name_vi in r.text
    assert on_value["cell"].startswith("ChiTieu!") and on_value["value"] == "150"
    # the history: both versions, newest first, with their review states
    view = unit_view(ws, a.code, cycle.id)
    assert [(v["version"], v["review"]) for v in view["versions"]] == [
        (2, "has_issues"),
        (1, "received"),
    ]
    # the same bytes again: a duplicate, no new version
    r = post_file(c, token, first)
    assert "giống hệt" in r.text
    assert len(unit_view(ws, a.code, cycle.id)["versions"]) == 2
    # stored under its sha256, never under the client's name; the upload dir is gone
    names = {p.name for p in ws.paths.archive.iterdir()}
    assert all(re.fullmatch(r"[0-9a-f]{64}", n) for n in names)
    assert not any((ws.paths.home / "uploads").iterdir())


def test_upload_limits(setup, monkeypatch):
    ws, cycle, (a, b, _) = setup
    token = token_of(make_link(ws, a.code, cycle.id))
    c = client(ws)
    # not a workbook: refused by type or by content
    assert post_file(c, token, b"ma_don_vi,ky\n", "text/csv").status_code == 415
    assert post_file(c, token, b"not a zip at all", XLSX).status_code == 415
    # another unit's workbook through this unit's link
    r = post_file(c, token, synthetic.workbook(ws.config, b, cycle))
    assert r.status_code == 422 and b.code in r.text
    # wrong CSRF field
    assert post_file(c, token, synthetic.workbook(ws.config, a, cycle), csrf="x").status_code == 403
    # beyond the cap: 413, whether or not the client declares its length
    monkeypatch.setenv("THIDUA_WEB_MAX_UPLOAD_MB", "0.05")
    small = Workspace.from_env()
    c2 = client(small)
    big = b"PK\x03\x04" + b"0" * 200_000
    r = post_file(c2, token, big)
    assert r.status_code == 413 and "MB" in r.text

    def chunks():
        yield b"--b\r\n"
        for _ in range(20):
            yield b"0" * 10_000

    r = c2.post(
        f"/u/{token}/upload",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 413
    assert unit_view(ws, a.code, cycle.id)["versions"] == []


def test_a_unit_token_reads_only_its_own_unit(setup):
    ws, cycle, (a, b, _) = setup
    upload(ws, b.code, cycle.id, synthetic.workbook(ws.config, b, cycle))
    c = client(ws)
    token_a = token_of(make_link(ws, a.code, cycle.id))
    page = c.get(f"/u/{token_a}")
    assert a.name in page.text and b.name not in page.text and b.code not in page.text
    assert "Chưa có phiên bản nào" in page.text
    # a token's claims cannot be switched: a payload signed for b with a's link id fails
    claim = links.verify(ws.config.settings.web, token_a)
    forged = links.sign(ws.config.settings.web, links.LinkClaim(b.code, cycle.id, claim.link_id))
    assert c.get(f"/u/{forged}").status_code == 403
    # officer pages stay closed to a unit
    assert c.get(f"/officer/{cycle.id}/{b.code}").status_code == 303


def test_rate_limit_per_token(setup):
    ws, cycle, (a, b, _) = setup
    bucket = TokenBucket(burst=3, every=60)
    assert [bucket.allow("t") for _ in range(4)] == [True, True, True, False]
    assert bucket.allow("other")
    application = create_app(ws)
    application.state.buckets = TokenBucket(burst=2, every=60)
    c = TestClient(application)
    token = token_of(make_link(ws, a.code, cycle.id))
    assert [c.get(f"/u/{token}").status_code for _ in range(3)] == [200, 200, 429]
    assert c.get(f"/u/{token_of(make_link(ws, b.code, cycle.id))}").status_code == 200


# -- the officer ----------------------------------------------------------------------------


def test_officer_pages_need_a_login(setup):
    ws, cycle, (a, *_) = setup
    c = client(ws)
    for path in ("/officer", f"/officer?cycle={cycle.id}", f"/officer/{cycle.id}/{a.code}"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/officer/login"
    r = c.post(f"/officer/{cycle.id}/{a.code}/decide", data={"action": "approve"})
    assert r.status_code == 303 and r.headers["location"] == "/officer/login"
    assert login(c, "wrong").status_code == 401
    assert c.get("/officer").status_code == 303
    assert login(c).status_code == 303
    assert c.get("/officer").status_code == 200


def test_csrf_is_refused(setup):
    ws, cycle, (a, *_) = setup
    upload(ws, a.code, cycle.id, synthetic.workbook(ws.config, a, cycle))
    c = client(ws)
    c.get("/officer/login")
    r = c.post("/officer/login", data={"password": PASSWORD})  # no token
    assert r.status_code == 403
    r = c.post("/officer/login", data={"password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403
    login(c)
    r = c.post(f"/officer/{cycle.id}/{a.code}/decide", data={"action": "approve", "csrf": "forged"})
    assert r.status_code == 403
    r = c.post("/officer/logout", data={"csrf": "forged"})
    assert r.status_code == 403
    assert unit_view(ws, a.code, cycle.id)["review"] == "received"


@pytest.mark.slow
def test_officer_review_flow_and_returned_email(setup, smtp_env):
    ws, cycle, (a, b, _) = setup
    ws = Workspace.from_env()  # with THIDUA_SMTP_* of the test server
    upload(ws, a.code, cycle.id, synthetic.workbook(ws.config, a, cycle))
    ind = next(i for i in ws.config.indicators_for(b.kind) if i.type == "percent")
    upload(ws, b.code, cycle.id, synthetic.workbook(ws.config, b, cycle, overrides={ind.code: 150}))
    smtp_env.received.clear()  # the acknowledgments
    c = client(ws)
    login(c)
    page = c.get(f"/officer?cycle={cycle.id}")
    assert page.status_code == 200 and "Prefect UI" in page.text
    counts = dict(re.findall(r'id="count-([a-z-]+)">(\d+)<', page.text))
    expected = len(ws.config.expected_units(cycle))
    assert counts["cho-duyet"] == "1" and counts["co-loi"] == "1"
    assert counts["chua-nop"] == str(expected - 2)
    waiting = c.get(f"/officer?cycle={cycle.id}&filter=cho-duyet").text
    assert a.code in waiting and b.code not in waiting
    # a's page: versions, problems, log; return needs a comment
    path = f"/officer/{cycle.id}/{a.code}"
    assert a.name in c.get(path).text
    csrf = officer_csrf(c, path)
    r = c.post(path + "/decide", data={"action": "return", "comment": " ", "csrf": csrf})
    assert r.status_code == 400 and "cần ghi ý kiến" in r.text
    comment = "Đề nghị bổ sung số liệu dân số của xã ở sheet ChiTieu."
    r = c.post(path + "/decide", data={"action": "return", "comment": comment, "csrf": csrf})
    assert r.status_code == 303
    [mail] = smtp_env.received
    assert mail.rcpt_tos == [a.email]
    body = mail.message.get_body(("plain",)).get_content()
    assert comment in body
    token = re.search(r"/u/(\S+?)\.?\s", body).group(1)
    assert open_link(ws, token).unit == a.code
    log = unit_view(ws, a.code, cycle.id)["log"]
    assert [(r["from_state"], r["to_state"], r["actor"]) for r in log] == [
        (None, "received", "system"),
        ("received", "returned", "officer"),
    ]
    assert log[-1]["comment"] == comment
    # the unit sends a new version: received again; approve it; it is locked
    upload(ws, a.code, cycle.id, synthetic.workbook(ws.config, a, cycle, initiatives=2))
    assert unit_view(ws, a.code, cycle.id)["review"] == "received"
    r = c.post(path + "/decide", data={"action": "approve", "csrf": csrf})
    assert r.status_code == 303
    r = c.post(path + "/decide", data={"action": "reject", "comment": "x", "csrf": csrf})
    assert r.status_code == 400 and "đã được duyệt và khóa" in r.text
    # approve then a new upload: a new version waiting for review, v2 stays approved
    upload(ws, a.code, cycle.id, synthetic.workbook(ws.config, a, cycle, initiatives=3))
    vs = unit_view(ws, a.code, cycle.id)["versions"]
    assert [(v["version"], v["review"]) for v in vs] == [
        (3, "received"),
        (2, "approved"),
        (1, "returned"),
    ]
    # b has errors: cannot be approved, can be rejected with a comment
    pb = f"/officer/{cycle.id}/{b.code}"
    r = c.post(pb + "/decide", data={"action": "approve", "csrf": csrf})
    assert r.status_code == 400 and "không duyệt được" in r.text
    r = c.post(pb + "/decide", data={"action": "reject", "comment": "Sai mẫu", "csrf": csrf})
    assert r.status_code == 303
    assert c.get(f"/officer?cycle={cycle.id}&filter=khong-chap-nhan").text.count(b.code) >= 1
    # logout closes the pages again
    assert c.post("/officer/logout", data={"csrf": csrf}).status_code == 303
    assert c.get("/officer").status_code == 303


@pytest.mark.slow
def test_review_cli_and_status_json(setup, smtp_env):
    import json

    ws, cycle, (a, b, third) = setup
    ws = Workspace.from_env()
    upload(ws, a.code, cycle.id, synthetic.workbook(ws.config, a, cycle))
    upload(ws, b.code, cycle.id, synthetic.workbook(ws.config, b, cycle))
    smtp_env.received.clear()
    run = CliRunner().invoke
    assert run(cli, ["review", "approve", a.code, cycle.id]).exit_code == 0
    r = run(cli, ["review", "return", b.code, cycle.id])
    assert r.exit_code == 1 and "cần ghi ý kiến" in r.output
    r = run(cli, ["review", "return", b.code, cycle.id, "--comment", "Thiếu chữ ký"])
    assert r.exit_code == 0 and "(thư báo cho đơn vị: Đã gửi)" in r.stdout
    assert len(smtp_env.received) == 1
    r = run(cli, ["review", "reject", third.code, cycle.id, "--comment", "x"])
    assert r.exit_code == 1 and "chưa gửi báo cáo nào" in r.output
    r = run(cli, ["review", "list", a.code, cycle.id, "--json"])
    assert json.loads(r.stdout)["log"][-1]["to_state"] == "approved"
    status = json.loads(run(cli, ["status", "--cycle", cycle.id, "--json"]).stdout)
    review_of = {u["unit"]: u["review"] for u in status["units"]}
    assert (review_of[a.code], review_of[b.code], review_of[third.code]) == (
        "approved",
        "returned",
        None,
    )


@pytest.mark.slow
def test_reminders_carry_the_units_link(ws):
    from pipeline.remind import remind

    cycle = open_cycle(ws)
    mo = ws.config.calendar.stage_dates(cycle.due)["mo"]
    out = remind(ws, mo, cycle.id)
    assert out.reminders
    from email import message_from_bytes, policy

    found = 0
    for path in ws.paths.outbox.glob("*.eml"):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        token = re.search(r"NỘP TRỰC TUYẾN: http://127.0.0.1:8000/u/(\S+)", text).group(1)
        claim = open_link(ws, token)
        assert claim.cycle == cycle.id and f"Mã đơn vị: {claim.unit}" in text
        assert f'href="http://127.0.0.1:8000/u/{token}"' in html
        found += 1
    assert found == len(out.reminders)


def test_reminders_without_a_key_have_no_link(workspace):
    from thidua.reminders import reminder_email

    cycle = open_cycle(workspace)
    unit = workspace.config.expected_units(cycle)[0]
    email = reminder_email(workspace.config, unit, cycle, "t7")
    assert "NỘP TRỰC TUYẾN" not in email.text and "/u/" not in email.text


@pytest.mark.slow
def test_rollup_counts_accepted_or_approved(setup, monkeypatch):
    from pipeline.rollup import rollup

    ws, cycle, (a, b, _) = setup
    if cycle.kind != "nam":
        pytest.skip("the open cycle is not annual")
    for u in (a, b):
        upload(ws, u.code, cycle.id, synthetic.workbook(ws.config, u, cycle))
    decide(ws, a.code, cycle.id, "approve", "test")
    accepted = rollup(ws, "annual", cycle.year)[0].headline
    assert accepted["counts"] == "accepted" and accepted["sources"] == 2
    monkeypatch.setenv("THIDUA_WEB_ROLLUP_COUNTS", "approved")
    approved = rollup(Workspace.from_env(), "annual", cycle.year)[0].headline
    assert approved["counts"] == "approved" and approved["sources"] == 1
    assert approved["missing"] == accepted["missing"] + 1


def test_plan_document_upload_in_the_plan_cycle(setup, monkeypatch):
    """The plan cycle's page has a second, optional field for the plan (docx or pdf):
    same cap, type and magic checks; stored under its sha256 and linked to the same
    submission (sent again with a workbook already in, it joins that version); other
    cycles' pages have no such field."""
    import hashlib

    ws, cycle, (a, *_) = setup
    monkeypatch.setenv("THIDUA_WEB_LINK_VALID_DAYS", "30")  # the 2025 plan cycle is past
    ws = Workspace.from_env()
    plan = ws.config.cycle("ke-hoach-2025")
    c = client(ws)
    token = token_of(make_link(ws, a.code, plan.id))
    page = c.get(f"/u/{token}")
    assert 'name="plan"' in page.text and "Văn bản kế hoạch" in page.text
    assert re.search(r'id="document">chưa nhận<', page.text)
    other = c.get(f"/u/{token_of(make_link(ws, a.code, cycle.id))}")
    assert cycle.kind != "ke_hoach" and 'name="plan"' not in other.text

    def post(workbook: bytes, plan_file=None):
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get(f"/u/{token}").text).group(1)
        files = {"file": ("bao-cao.xlsx", io.BytesIO(workbook), XLSX)}
        if plan_file:
            files["plan"] = plan_file
        return c.post(f"/u/{token}/upload", data={"csrf": csrf}, files=files)

    book = synthetic.workbook(ws.config, a, plan)
    pdf = synthetic.plan_pdf(ws.config, a, plan)
    word = plan_docx(a.name)
    # refused by declared type or by content; nothing is collected
    assert post(book, ("kh.pdf", io.BytesIO(word), "application/pdf")).status_code == 415
    assert post(book, ("kh.txt", io.BytesIO(b"ke hoach"), "text/plain")).status_code == 415
    assert post(book, ("kh.docx", io.BytesIO(b"%PDF-1.4"), DOCX)).status_code == 415
    assert unit_view(ws, a.code, plan.id)["versions"] == []
    # the workbook alone, then the same workbook with its plan: one version, plan linked
    assert post(book).status_code == 200
    r = post(book, ("ke hoach.pdf", io.BytesIO(pdf), "application/pdf"))
    assert r.status_code == 200 and "giống hệt" in r.text
    name = f"{plan.id}_{a.code}_web_000.pdf"
    assert re.search(rf'id="document">đã nhận “{name}” \(lần gửi 1\)<', r.text)
    # a new version with a Word plan (declared as octet-stream, told by its bytes)
    book2 = synthetic.workbook(ws.config, a, plan, initiatives=2)
    r = post(book2, ("kh.docx", io.BytesIO(word), "application/octet-stream"))
    assert r.status_code == 200 and "Phiên bản 2" in r.text
    with duckdb.connect(str(ws.paths.warehouse), read_only=True) as con:
        linked = con.execute(
            "SELECT s.version, a.name, a.sha256, f.archived_path FROM attachments a "
            "JOIN submissions s USING (submission_id) JOIN files f USING (sha256) "
            "WHERE a.role = 'document' ORDER BY 1"
        ).fetchall()
    assert [(v, n) for v, n, *_ in linked] == [(1, name), (2, f"{plan.id}_{a.code}_web_000.docx")]
    for (*_, sha, path), data in zip(linked, (pdf, word), strict=True):
        assert sha == hashlib.sha256(data).hexdigest()
        assert Path(path).read_bytes() == data
    # each file under the same cap
    monkeypatch.setenv("THIDUA_WEB_MAX_UPLOAD_MB", "0.05")
    c = client(Workspace.from_env())
    big = b"%PDF-1.4\n" + b"0" * 60_000
    r = post(book, ("kh.pdf", io.BytesIO(big), "application/pdf"))
    assert r.status_code == 413 and "Văn bản kế hoạch vượt quá" in r.text
    assert not any((ws.paths.home / "uploads").iterdir())


# -- batched uploads (group commit) ------------------------------------------------------


@pytest.mark.slow
def test_upload_queue_collects_waiting_uploads_as_one_batch(setup, monkeypatch):
    """Uploads that arrive while the queue's thread is busy are collected together, as
    one batch through the inbox sequence; each request gets its own outcome and page;
    the parsing worker is kept between batches; a failing batch fails its requests."""
    import threading

    import duckdb

    ws, cycle, _ = setup
    units = ws.config.expected_units(cycle)[:5]
    q = UploadQueue(ws)
    warm = q.start()
    try:
        assert set(warm) == {"imports", "dry_run"}
        [key] = q.keep._idle
        [worker] = q.keep._idle[key]
        # hold the queue's thread, let five uploads queue behind it, then release it
        gate = threading.Event()
        holder = threading.Thread(target=q._call, args=(gate.wait,))
        holder.start()
        ind = next(i for i in ws.config.indicators_for(units[1].kind) if i.type == "percent")
        books = {
            u.code: synthetic.workbook(
                ws.config, u, cycle, overrides=({ind.code: 150} if u is units[1] else None)
            )
            for u in units
        }
        results: dict = {}

        def send(code):
            results[code] = q.upload(code, cycle.id, books[code])

        threads = [threading.Thread(target=send, args=(u.code,)) for u in units]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while q._queue.qsize() < len(units) and time.monotonic() < deadline:
            time.sleep(0.05)
        gate.set()
        for t in [holder, *threads]:
            t.join(120)
        assert q.batches == [5]
        for u in units:
            r = results[u.code]
            assert r.version == 1 and r.view["versions"][0]["version"] == 1
            assert r.outcome == ("rejected" if u is units[1] else "accepted")
            assert r.view["review"] == ("has_issues" if u is units[1] else "received")
        assert any(p["value"] == "150" for p in results[units[1].code].problems)
        # in this process, as every reader here: under the lock (the queue's thread may
        # be sending the acknowledgments on its connection)
        with WAREHOUSE_LOCK, duckdb.connect(str(ws.paths.warehouse), read_only=True) as con:
            rows = con.execute(
                "SELECT count(*), count(DISTINCT batch_id) FROM submissions WHERE cycle_id = ?",
                [cycle.id],
            ).fetchone()
        assert rows == (5, 1)
        # the same worker process parsed it and waits for the next batch
        assert q.keep._idle[key] == [worker] and worker.proc.is_alive()
        again = q.upload(
            units[0].code, cycle.id, synthetic.workbook(ws.config, units[0], cycle, initiatives=2)
        )
        assert again.version == 2 and q.batches == [5, 1]
        # a batch that fails fails each of its requests, and the queue goes on
        with monkeypatch.context() as m, pytest.raises(ZeroDivisionError):
            m.setattr(uploads, "_collect_staged", lambda *a, **k: 1 / 0)
            q.upload(
                units[0].code,
                cycle.id,
                synthetic.workbook(ws.config, units[0], cycle, initiatives=3),
            )
        assert q.batches == [5, 1, 1]
    finally:
        q.stop()
    assert not worker.proc.is_alive()
    assert not any((ws.paths.home / "uploads").iterdir())
