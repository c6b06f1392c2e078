"""Hypothesis over every route and form of the web app (600 generated requests through
Starlette's TestClient, logged in or not, with valid and forged tokens, odd text, odd
bytes, odd methods): never a 5xx, and every error a page of the site in Vietnamese."""

from __future__ import annotations

import re
from urllib.parse import quote

from helpers import HASH, SECRET, XLSX, client, login, open_cycle, token_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps import synthetic
from apps.web.guards import TokenBucket
from pipeline.links import make_link
from pipeline.upload import upload
from thidua.workspace import Workspace

EXAMPLES = 600
text = st.text(max_size=40)
segment = st.one_of(text, st.sampled_from(["", ".", "..", "%00", "đ", "a" * 300]))
types = st.sampled_from([XLSX, "application/octet-stream", "text/plain", "application/pdf", ""])
files = st.one_of(st.binary(max_size=300), st.sampled_from([b"", b"%PDF-1.4", b"PK\x05\x06"]))


@st.composite
def requests(draw, token: str, cycle: str, unit: str) -> dict:
    """One request: a route (or a made-up path), a method, and its form or query."""
    tok = draw(st.sampled_from([token, token[:-4], "x"])) if draw(st.booleans()) else None
    tok = quote(tok if tok is not None else draw(segment), safe="")
    seg = quote(draw(segment), safe="")
    c, u = draw(st.sampled_from([cycle, seg])), draw(st.sampled_from([unit, seg]))
    path = draw(
        st.sampled_from(
            [
                "/",
                "/healthz",
                "/static/app.css",
                f"/u/{tok}",
                f"/u/{tok}/template",
                f"/u/{tok}/upload",
                "/u/",
                "/officer",
                "/officer/login",
                "/officer/logout",
                f"/officer/{c}/{u}",
                f"/officer/{c}/{u}/decide",
                f"/{seg}",
            ]
        )
    )
    method = draw(st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"]))
    fields = draw(
        st.dictionaries(
            st.sampled_from(["csrf", "password", "action", "comment", "x"]), text, max_size=5
        )
    )
    if draw(st.booleans()):
        fields["csrf"] = "<valid>"
    if "action" in fields and draw(st.booleans()):
        fields["action"] = draw(st.sampled_from(["approve", "return", "reject"]))
    parts = {}
    for name in draw(st.lists(st.sampled_from(["file", "plan", "other"]), max_size=3)):
        parts[name] = (draw(text) or "f", draw(files), draw(types))
    query = draw(st.dictionaries(st.sampled_from(["cycle", "filter", "done"]), text, max_size=2))
    accept = draw(st.sampled_from(["text/html", "application/json", "*/*", ""]))
    return {
        "method": method,
        "path": path,
        "fields": fields,
        "parts": parts,
        "query": query,
        "accept": accept,
        "officer": draw(st.booleans()),
    }


def csrf_of(c, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', c.get(path).text)
    return found.group(1) if found else ""


def test_no_route_or_form_answers_a_5xx(workspace, monkeypatch):
    monkeypatch.setenv("THIDUA_WEB_SECRET_KEY", SECRET)
    monkeypatch.setenv("THIDUA_WEB_OFFICER_PASSWORD_HASH", HASH)
    ws = Workspace.from_env()
    cycle = open_cycle(ws)
    a = ws.config.expected_units(cycle)[0]
    upload(ws, a.code, cycle.id, synthetic.workbook(ws.config, a, cycle))
    token = token_of(make_link(ws, a.code, cycle.id))
    guest, officer = client(ws), client(ws)
    for c in (guest, officer):  # no rate limit here: every request reaches its route
        c.app.state.buckets = c.app.state.login_bucket = TokenBucket(burst=10**9, every=1)
    for c in (guest, officer):
        c.raise_server_exceptions = False
    login(officer)
    unit_csrf = csrf_of(guest, f"/u/{token}")
    seen: list[int] = []
    logged_in = [True]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same 600 requests on every run: CI cannot flake
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(requests(token, cycle.id, a.code))
    def one(req: dict) -> None:
        c = officer if req["officer"] else guest
        if c is officer and not logged_in:
            login(officer)  # a generated logout ended the session
            logged_in.append(True)
        if req["fields"].get("csrf") == "<valid>":
            session = csrf_of(officer, "/officer/login") if c is officer else unit_csrf
            req["fields"]["csrf"] = unit_csrf if req["path"].startswith("/u/") else session
        r = c.request(
            req["method"],
            req["path"],
            params=req["query"],
            data=req["fields"] or None,
            files=req["parts"] or None,
            headers={"accept": req["accept"]},
        )
        seen.append(r.status_code)
        if c is officer and req["path"] == "/officer/logout" and r.status_code == 303:
            logged_in.clear()
        assert r.status_code < 500, (req, r.status_code, r.text[:500])
        html = r.headers.get("content-type", "").startswith("text/html")
        if r.status_code >= 400 and html and req["method"] != "HEAD":
            assert '<html lang="vi">' in r.text, (req, r.text[:300])

    one()
    assert len(seen) >= 500 and len(set(seen)) >= 6, sorted(set(seen))
