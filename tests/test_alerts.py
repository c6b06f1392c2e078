"""A flow that fails emails the admin; the alert arrives at a real SMTP server."""

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
