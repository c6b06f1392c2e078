"""Issue 24 item 3: many communes on one deployment.  The tenants list, the deployments
made from it, and the isolation of the web sites: a link or a login of commune A gets
403 on commune B's pages and data (TestClient on real DuckDB files, real configs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from helpers import TENANT_PASSWORDS as PASSWORDS
from helpers import write_tenants

from apps.server import Server
from apps.web.app import SESSION_COOKIE, create_tenants_app
from pipeline.init import init_workspace
from pipeline.links import make_link
from thidua.errors import ConfigError
from thidua.tenants import load_tenants, tenant, writer_limit


@pytest.fixture
def hosted(tmp_path, monkeypatch):
    """Two initialised communes; the process's own web key must not leak into them."""
    monkeypatch.setenv("THIDUA_WEB_SECRET_KEY", "khoa-chung-khong-duoc-dung")
    monkeypatch.delenv("THIDUA_SMTP_HOST", raising=False)
    tenants = load_tenants(write_tenants(tmp_path, ["xa-a", "xa-b"]))
    for t in tenants.values():
        init_workspace(t.workspace())
    return tenants


def test_tenants_file_names_homes_and_problems(tmp_path, monkeypatch):
    path = write_tenants(tmp_path, ["xa-a"])
    (t,) = load_tenants(path).values()
    assert (t.name, t.config, t.home) == ("xa-a", tmp_path / "xa-a/config", tmp_path / "xa-a/home")
    monkeypatch.setenv("THIDUA_TENANTS", str(path))
    monkeypatch.setenv("THIDUA_INBOX", "/chung")
    ws = tenant("xa-a").workspace()
    assert ws.paths.home == tmp_path / "xa-a/home" and ws.paths.inbox_dir is None
    with pytest.raises(ConfigError, match="no tenant 'xa-z'"):
        tenant("xa-z")
    bad = tmp_path / "bad.toml"
    bad.write_text('[tenants."Xã A"]\nconfig = "c"\nhome = "h"\n[tenants.b]\nconfig = "c"\n')
    with pytest.raises(ConfigError) as err:
        load_tenants(bad)
    assert len(err.value.problems) == 2


def test_one_set_of_deployments_per_tenant_tagged_and_parametrised(tmp_path):
    path = write_tenants(tmp_path, ["xa-a", "xa-b"])
    server = Server(tmp_path / "server", tenants=path)
    doc = yaml.safe_load(Path(server._deployments(load_tenants(path))).read_text("utf-8"))
    plain = yaml.safe_load(Path(server._deployments({})).read_text("utf-8"))
    deployments = {(d["entrypoint"], d["name"]): d for d in doc["deployments"]}
    assert len(deployments) == 2 * len(plain["deployments"])
    for d in plain["deployments"]:
        for name in ("xa-a", "xa-b"):
            mine = deployments[(d["entrypoint"], name)]
            assert mine["tags"] == [f"tenant:{name}"]
            assert mine["parameters"] == {**(d.get("parameters") or {}), "tenant": name}
            assert mine.get("schedules") == d.get("schedules")
    assert server.env()["THIDUA_TENANTS"] == str(path)
    assert (writer_limit("xa-a"), writer_limit(None)) == ("duckdb-writer-xa-a", "duckdb-writer")


def test_tenants_sharing_a_web_key_are_refused(tmp_path):
    path = write_tenants(tmp_path, ["xa-a", "xa-b"], {"xa-a": "k" * 32, "xa-b": "k" * 32})
    with pytest.raises(ConfigError, match="secret_key"):
        create_tenants_app(load_tenants(path))


def login(c: TestClient, name: str) -> str:
    """Log in to `name`'s site; the value of its session cookie."""
    page = c.get(f"/t/{name}/officer/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = c.post(f"/t/{name}/officer/login", data={"csrf": csrf, "password": PASSWORDS[name]})
    assert r.status_code == 303 and r.headers["location"] == f"/t/{name}/officer"
    return c.cookies[f"{SESSION_COOKIE}_{name}"]


def test_a_link_and_a_login_of_commune_a_get_403_on_commune_b(hosted):
    app = create_tenants_app(hosted)
    ws_a, ws_b = hosted["xa-a"].workspace(), hosted["xa-b"].workspace()
    today = ws_a.config.settings.calendar.today()  # a cycle whose links are live today
    cycle = max(
        (c for c in ws_a.config.cycles if ws_a.config.calendar.stage_dates(c.due)["mo"] <= today),
        key=lambda c: c.due,
    )
    unit = ws_a.config.expected_units(cycle)[0]
    token_a = make_link(ws_a, unit.code, cycle.id).rsplit("/u/", 1)[1]
    token_b = make_link(ws_b, unit.code, cycle.id).rsplit("/u/", 1)[1]
    c = TestClient(app, follow_redirects=False)
    # each commune's own link and login work, under its prefix
    assert "đăng nhập tại /t/xa-a/officer" in c.get("/t/xa-a/").text
    assert c.get(f"/t/xa-a/u/{token_a}").status_code == 200
    assert f'action="/t/xa-a/u/{token_a}/upload"' in c.get(f"/t/xa-a/u/{token_a}").text
    assert c.get(f"/t/xa-b/u/{token_b}/template").status_code == 200
    session_a = login(c, "xa-a")
    assert c.get(f"/t/xa-a/officer?cycle={cycle.id}").status_code == 200
    assert c.get(f"/t/xa-a/officer/{cycle.id}/{unit.code}").status_code == 200
    # A's link on B's pages and data: its signature is not B's
    for path in (f"/t/xa-b/u/{token_a}", f"/t/xa-b/u/{token_a}/template"):
        assert TestClient(app).get(path).status_code == 403, path
    # A's login on B's pages and data (the cookie sent there on purpose: a browser
    # scopes it to /t/xa-a)
    stranger = TestClient(app, follow_redirects=False)
    cookie = {"Cookie": f"{SESSION_COOKIE}_xa-a={session_a}"}
    for path in (
        "/t/xa-b/officer",
        f"/t/xa-b/officer?cycle={cycle.id}",
        f"/t/xa-b/officer/{cycle.id}/{unit.code}",
        f"/t/xa-b/u/{token_b}/template",
    ):
        r = stranger.get(path, headers=cookie)
        assert r.status_code == 403 and "xã khác" in r.text, path
    r = stranger.post(
        f"/t/xa-b/officer/{cycle.id}/{unit.code}/decide",
        headers=cookie,
        data={"csrf": "x", "action": "approve"},
    )
    assert r.status_code == 403
    # A's session presented as B's: B's key does not verify it, so B asks for a login
    r = stranger.get("/t/xa-b/officer", headers={"Cookie": f"{SESSION_COOKIE}_xa-b={session_a}"})
    assert r.status_code == 303 and r.headers["location"] == "/t/xa-b/officer/login"
    # and A's password is not B's
    page = stranger.get("/t/xa-b/officer/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = stranger.post("/t/xa-b/officer/login", data={"csrf": csrf, "password": PASSWORDS["xa-a"]})
    assert r.status_code == 401
    assert c.cookies.jar and all(k.path == "/t/xa-a" for k in c.cookies.jar)
