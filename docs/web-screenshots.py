"""Re-takes docs/web-unit-problems.png and docs/web-officer-matrix.png.

A throwaway THIDUA_HOME on the sample commune; a dozen units of the open annual cycle
upload workbooks (some with errors) and the officer approves, returns and rejects some,
so the matrix shows every state; then `thidua web` (uvicorn subprocess, loopback) and
Debian's headless Chromium driven by Playwright: one unit uploads a workbook with
errors through its page (shot of the answer), the officer logs in (shot of the matrix).
Needs Debian's chromium (apt-get install chromium); never downloads a browser.

    .venv/bin/python docs/web-screenshots.py
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PASSWORD = "mat-khau-anh-chup"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    from apps import synthetic
    from apps.server import web_process
    from pipeline.init import init_workspace
    from pipeline.links import make_link
    from pipeline.review import decide
    from pipeline.upload import upload
    from thidua.passwords import hash_password
    from thidua.workspace import Workspace

    home = Path(tempfile.mkdtemp(prefix="thidua-web-shots-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "PREFECT_API"))}
    env |= {
        "THIDUA_HOME": str(home / "home"),
        "THIDUA_CONFIG": str(REPO / "config"),
        "THIDUA_WEB_SECRET_KEY": "screenshots-secret-key-0123456789",
        "THIDUA_WEB_OFFICER_PASSWORD_HASH": hash_password(PASSWORD),
        "THIDUA_WEB_BASE_URL": base,
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "GX_ANALYTICS_ENABLED": "false",
    }
    ws = Workspace.from_env(env)
    init_workspace(ws)
    cfg = ws.config
    today = cfg.settings.calendar.today()
    cycle = max(
        (
            c
            for c in cfg.cycles
            if cfg.calendar.stage_dates(c.due)["mo"] <= today and c.kind == "nam"
        ),
        key=lambda c: c.due,
    )
    units = cfg.expected_units(cycle)

    def percent(u):
        return next(i.code for i in cfg.indicators_for(u.kind) if i.type == "percent")

    # Several states: approved, returned, rejected, has issues, waiting, missing
    shown, others = units[0], units[1:13]
    for i, u in enumerate(others):
        bad = i in (2, 6, 9)
        upload(
            ws,
            u.code,
            cycle.id,
            synthetic.workbook(cfg, u, cycle, overrides={percent(u): 150} if bad else None),
            acks=False,
        )
        if i in (0, 3, 7):
            decide(ws, u.code, cycle.id, "approve", "officer")
        elif i == 4:
            decide(
                ws, u.code, cycle.id, "return", "officer", "Đề nghị bổ sung danh sách sáng kiến."
            )
        elif i == 9:
            decide(ws, u.code, cycle.id, "reject", "officer", "Gửi nhầm biểu mẫu.")
    link = make_link(ws, shown.code, cycle.id)
    ind = next(i for i in cfg.indicators_for(shown.kind) if i.type == "int")
    broken = synthetic.workbook(
        cfg, shown, cycle, overrides={percent(shown): 150, ind.code: "12.5"}
    )

    with web_process(port, env, home / "web.log"):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800})
            ctx.set_default_timeout(120_000)  # an upload's answer on a busy machine
            page = ctx.new_page()
            page.goto(link)
            page.set_input_files(
                'input[name="file"]',
                files=[{"name": "bao-cao.xlsx", "mimeType": XLSX, "buffer": broken}],
            )
            with page.expect_navigation(timeout=120_000):
                page.get_by_role("button", name="Nộp báo cáo").click()
            # down to the answer's box: below it the browser's own file control speaks
            # the browser's language (this Chromium has no Vietnamese locale pack)
            box = page.locator("#result").bounding_box()
            page.screenshot(
                path=str(REPO / "docs" / "web-unit-problems.png"),
                clip={"x": 0, "y": 0, "width": 1280, "height": box["y"] + box["height"] + 20},
            )
            off = browser.new_context(
                locale="vi-VN", viewport={"width": 1280, "height": 800}
            ).new_page()
            off.goto(f"{base}/officer/login")
            off.get_by_label("Mật khẩu").fill(PASSWORD)
            with off.expect_navigation():
                off.get_by_role("button", name="Đăng nhập").click()
            off.goto(f"{base}/officer?cycle={cycle.id}")
            off.screenshot(path=str(REPO / "docs" / "web-officer-matrix.png"), full_page=True)
            browser.close()
        shutil.rmtree(home, ignore_errors=True)
    print("docs/web-unit-problems.png, docs/web-officer-matrix.png")


if __name__ == "__main__":
    main()
