"""The web app never answers 500 or English: every error is the site's Vietnamese page
(JSON only for a client that asks for JSON), a CSRF field of any text is just a wrong
token, and a hostile workbook uploaded through the page is an unreadable outcome while
the app goes on serving.  Starlette's TestClient on a real DuckDB home; the hostile
upload also against `thidua web` in a subprocess."""

from __future__ import annotations

import html
import io
import os
import re
import urllib.request
import uuid

import pytest
from data.hostile import SHEET, member, rezip
from helpers import (
    HASH,
    PASSWORD,
    SECRET,
    XLSX,
    client,
    login,
    officer_csrf,
    open_cycle,
    post_file,
    token_of,
)

from apps import synthetic
from pipeline.links import make_link
from pipeline.review import decide, unit_view
from pipeline.upload import upload
from thidua import words
from thidua.workspace import Workspace

VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
ENGLISH = ("Not Found", "Method Not Allowed", "Internal Server Error", "detail", "Bad Request")


@pytest.fixture
def setup(workspace, monkeypatch):
    """The initialised workspace with `[web]` set up, an open cycle, two of its units."""
    monkeypatch.setenv("THIDUA_WEB_SECRET_KEY", SECRET)
    monkeypatch.setenv("THIDUA_WEB_OFFICER_PASSWORD_HASH", HASH)
    ws = Workspace.from_env()
    cycle = open_cycle(ws)
    units = ws.config.expected_units(cycle)[:2]
    return ws, cycle, units


def hostile(book: bytes) -> bytes:
    """The workbook with a cell at XFD1048576 in its ChiTieu sheet's XML."""
    xml = member(book, SHEET).decode()
    return rezip(
        book,
        {SHEET: xml.replace('<c r="D2"', '<c r="XFD1048576"><v>1</v></c><c r="D2"', 1).encode()},
    )


def assert_page(r, status: int) -> None:
    """The site's page (its layout and contacts) in Vietnamese, with that status."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    assert '<html lang="vi">' in r.text and "Hỗ trợ:" in r.text
    assert VIETNAMESE.search(r.text) and not any(w in r.text for w in ENGLISH)


def test_hostile_workbook_is_unreadable_and_the_app_serves_on(setup):
    ws, cycle, (a, _) = setup
    c = client(ws)
    token = token_of(make_link(ws, a.code, cycle.id))
    r = post_file(c, token, hostile(synthetic.workbook(ws.config, a, cycle)))
    assert r.status_code == 200 and words.OUTCOME["unreadable"] in r.text
    assert "XFD1048576" in r.text  # the reason, from the examination
    r = post_file(c, token, synthetic.workbook(ws.config, a, cycle))
    assert r.status_code == 200 and "Phiên bản 1" in r.text and "chờ duyệt" in r.text


def test_non_ascii_csrf_is_a_wrong_token(setup):
    ws, cycle, (a, _) = setup
    upload(ws, a.code, cycle.id, synthetic.workbook(ws.config, a, cycle))
    c = client(ws)
    token = token_of(make_link(ws, a.code, cycle.id))
    book = synthetic.workbook(ws.config, a, cycle, initiatives=2)
    for forged in ("đ", "é" * 64, "\u202e"):
        assert_page(post_file(c, token, book, csrf=forged), 403)
        c.get("/officer/login")
        assert_page(c.post("/officer/login", data={"csrf": forged, "password": PASSWORD}), 403)
    login(c)
    path = f"/officer/{cycle.id}/{a.code}/decide"
    assert_page(c.post(path, data={"action": "approve", "csrf": "bảo mật"}), 403)
    assert unit_view(ws, a.code, cycle.id)["versions"][0]["version"] == 1


def test_every_error_is_a_vietnamese_page(setup, monkeypatch):
    ws, cycle, (a, b) = setup
    c = client(ws)
    token = token_of(make_link(ws, a.code, cycle.id))
    assert_page(c.get("/khong-co"), 404)
    assert_page(c.get("/u/"), 404)  # a cut link
    assert "Đường dẫn" in c.get("/u/").text
    assert_page(c.get(f"/u/{token[:-3]}"), 403)  # a tampered one
    assert_page(c.put("/officer/login"), 405)
    assert_page(c.delete(f"/u/{token}/upload"), 405)
    assert_page(c.get(f"/u/{token}/upload"), 405)
    r = c.head("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    # forms the parser refuses: no boundary, a broken body, too many fields
    bad = {"content-type": "multipart/form-data"}
    assert_page(c.post(f"/u/{token}/upload", content=b"x", headers=bad), 400)
    broken = {"content-type": "multipart/form-data; boundary=zz"}
    r = c.post(f"/u/{token}/upload", content=b"--zz\r\nnonsense\r\n\r\n", headers=broken)
    assert_page(r, 400)
    fields = {f"f{i}": "x" for i in range(20)}
    assert_page(c.post(f"/u/{token}/upload", data=fields, files={"x": ("a", b"b")}), 400)
    c.get("/officer/login")
    assert_page(c.post("/officer/login", data=fields), 400)
    # an unknown cycle or unit for the officer; a query that is not text
    login(c)
    assert_page(c.get("/officer?cycle=khong-co"), 404)
    assert_page(c.get(f"/officer/{cycle.id}/KHONG-CO"), 404)
    # the upload's own refusals stay on the unit's page
    assert_page(post_file(c, token, b"not a zip", XLSX), 415)
    assert_page(post_file(c, token, synthetic.workbook(ws.config, b, cycle)), 422)
    monkeypatch.setenv("THIDUA_WEB_MAX_UPLOAD_MB", "0.05")
    small = client(Workspace.from_env())
    assert_page(post_file(small, token, b"PK\x03\x04" + b"0" * 200_000), 413)
    # a client that asks for JSON gets JSON, with English keys and Vietnamese words
    r = c.get("/khong-co", headers={"accept": "application/json"})
    assert r.status_code == 404 and r.json()["title"] == "Không tìm thấy trang"
    assert set(r.json()) == {"status", "title", "message"}


def test_review_errors_show_the_refusal_on_the_page(setup):
    """The officer's page shows the decision's refusal as `thidua.review` words it."""
    from thidua.review import ReviewRefused

    ws, cycle, (a, _) = setup
    upload(ws, a.code, cycle.id, synthetic.workbook(ws.config, a, cycle))
    c = client(ws)
    login(c)
    path = f"/officer/{cycle.id}/{a.code}"
    csrf = officer_csrf(c, path)
    for action, comment in (("return", " "), ("khong-co", "")):
        r = c.post(path + "/decide", data={"action": action, "comment": comment, "csrf": csrf})
        assert r.status_code == 400 and 'id="refused"' in r.text
        shown = re.search(r'id="refused">Không thực hiện được: (.*?)</p>', r.text).group(1)
        with pytest.raises(ReviewRefused) as refused:
            decide(ws, a.code, cycle.id, action, "officer", comment)
        assert html.unescape(shown) == str(refused.value)


@pytest.mark.slow
def test_hostile_upload_leaves_thidua_web_serving(workspace, monkeypatch, tmp_path):
    """Against `thidua web` itself (batched uploads, the kept isolated worker): the
    hostile workbook's outcome is unreadable, and the same server takes the next."""
    from helpers import free_port

    from apps.server import web_process

    port = free_port()
    monkeypatch.setenv("THIDUA_WEB_SECRET_KEY", "errors-secret-key-for-thidua-web")
    monkeypatch.setenv("THIDUA_WEB_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    ws = Workspace.from_env()
    cycle = open_cycle(ws)
    a = ws.config.expected_units(cycle)[0]
    with web_process(port, os.environ, tmp_path / "web.log") as proc:
        url = make_link(ws, a.code, cycle.id)
        page = urllib.request.urlopen(url, timeout=30).read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        first = send(url + "/upload", csrf, hostile(synthetic.workbook(ws.config, a, cycle)))
        assert words.OUTCOME["unreadable"] in first and proc.poll() is None
        second = send(url + "/upload", csrf, synthetic.workbook(ws.config, a, cycle))
        assert "Phiên bản 1" in second and "chờ duyệt" in second and proc.poll() is None


def send(url: str, csrf: str, data: bytes) -> str:
    """POST the workbook as the page's form does; the answer page."""
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'.encode()
    )
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.xlsx"\r\n'
        f"Content-Type: {XLSX}\r\n\r\n".encode()
    )
    body.write(data + f"\r\n--{boundary}--\r\n".encode())
    request = urllib.request.Request(
        url, body.getvalue(), {"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=120) as r:
        return r.read().decode()
