"""A flow that fails emails the admin; the alert arrives at a real SMTP server, in
Vietnamese only."""

import re
from datetime import UTC, datetime

import pytest
from prefect import flow

from flows.hooks import ALERT_HOOKS


@flow(name="always-fails", **ALERT_HOOKS)
def always_fails(reason: str) -> None:
    raise RuntimeError(reason)


@pytest.mark.slow
def test_failed_flow_alerts_the_admin(prefect_harness, workspace, smtp_env):
    state = always_fails("ổ đĩa đầy", return_state=True)
    assert state.is_failed()

    assert len(smtp_env.received) == 1
    got = smtp_env.received[0]
    msg = got.message
    admin = workspace.config.settings.admin.email
    assert got.rcpt_tos == [admin] and msg["To"] == admin
    assert msg["Subject"].startswith("[thidua] Luồng always-fails thất bại: ")
    body = msg.get_content()
    assert "RuntimeError" in body or "ổ đĩa đầy" in body
    assert "ổ đĩa đầy" in body
    assert "Trạng thái:  Failed" in body


def test_admin_failure_alert_is_in_vietnamese_only(cfg):
    from thidua.alerts import failure_alert

    at = datetime(2025, 12, 26, 3, 5, tzinfo=UTC)
    for url in ("http://127.0.0.1:4200/runs/flow-run/1", None):
        mail = failure_alert(
            cfg.settings, "collect", "brave-lion", "Crashed", "RuntimeError: ổ đĩa đầy", url, at
        )
        assert mail.subject == "[thidua] Luồng collect dừng đột ngột: brave-lion"
        prose = mail.text.replace("RuntimeError", "").replace("brave-lion", "")
        assert "Thời điểm:   10 giờ 05 ngày 26/12/2025" in mail.text
        assert not re.search(
            r"\b(?:The|flow run|state|error|open in|This run|Loaded|at)\b",
            prose.replace("Crashed", ""),
        ), mail.text
        assert "Trạng thái:  Crashed" in mail.text and "ổ đĩa đầy" in mail.text
