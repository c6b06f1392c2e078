"""Collection against real outside parts: an aiosmtpd server, the Prefect flow, the CLI."""

from __future__ import annotations

import json
import shutil

import pytest
from data.corpus import DIR
from helpers import rows
from typer.testing import CliRunner

from apps.cli import app
from pipeline.collect import acknowledge, collect
from thidua.workspace import Workspace


@pytest.mark.slow
def test_acknowledgment_over_smtp_lists_problems_by_cell(workspace, smtp_env, cfg):
    ws = Workspace.from_env()  # a run resolves settings at its start: smtp_env's included
    shutil.copy(DIR / "percent_150.xlsx", ws.paths.inbox)
    shutil.copy(DIR / "hc02_gt_hc01.xlsx", ws.paths.inbox)
    smtp_env.refuse.add(cfg.unit("CQ-HCC").email)
    collect(ws, docs=False)

    [got] = smtp_env.received
    assert got.rcpt_tos == [cfg.unit("CQ-YT").email]
    msg = got.message
    assert msg["Subject"].startswith(
        "[Thi đua đổi mới sáng tạo, chuyển đổi số và Bình dân học vụ số] Chưa đạt"
    )
    assert msg["Auto-Submitted"] == "auto-replied"
    text = msg.get_body(("plain",)).get_content()
    assert (
        "1. [Lỗi] ô D9, trang Chỉ tiêu – chỉ tiêu: Tỷ lệ văn bản đi, đến trao đổi dưới "
        "dạng điện tử (mã HC04) – giá trị đã đọc: “150”"
    ) in text
    assert "HC04 = 150: không được lớn hơn 100." in text
    assert "Cách sửa: Kiểm tra lại số liệu; tỷ lệ tính theo phần trăm, từ 0 đến 100." in text
    assert "ô D9, trang Chỉ tiêu" in msg.get_body(("html",)).get_content()
    acks = {
        r[0]: r[1:]
        for r in rows(
            ws,
            """
        SELECT s.unit_code, a.status, a.attempts, a.message_id FROM acknowledgments a
        JOIN submissions s USING (submission_id)""",
        )
    }
    assert acks["CQ-YT"] == ("sent", 1, msg["Message-ID"])
    assert acks["CQ-HCC"][:2] == ("failed", 1)

    # the refused one goes out on the next run; the sent one is never mailed again
    smtp_env.refuse.clear()
    results = acknowledge(ws)
    assert list(results["status"]) == ["sent"]
    assert [r.rcpt_tos for r in smtp_env.received] == [
        [cfg.unit("CQ-YT").email],
        [cfg.unit("CQ-HCC").email],
    ]
    assert (
        "ô D10, trang Chỉ tiêu" in smtp_env.received[1].message.get_body(("plain",)).get_content()
    )
    assert acknowledge(ws).empty
    assert rows(
        ws,
        "SELECT status, attempts FROM acknowledgments a JOIN submissions s "
        "USING (submission_id) WHERE s.unit_code = 'CQ-HCC'",
    ) == [("sent", 2)]


@pytest.mark.slow
def test_flow_and_cli(workspace, prefect_harness, monkeypatch):
    from prefect.settings import PREFECT_API_URL

    ws = workspace
    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())  # the CLI runs the flow
    for name in ("good.xlsx", "percent_150.xlsx", "corrupt_zip.xlsx", "bom.csv"):
        shutil.copy(DIR / name, ws.paths.inbox)
    runner = CliRunner()
    result = runner.invoke(app, ["collect", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["loaded"] == 4
    # copied now, long after the due date: the readable good ones are late
    assert sorted(f["outcome"] for f in out["files"]) == [
        "accepted_with_warnings",
        "accepted_with_warnings",
        "rejected",
        "unreadable",
    ]
    assert {f["ack"] for f in out["files"]} == {"sent", "skipped"}
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:  # the newest: the server is the session's
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["collect-outcomes"])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert artifact.type == "table" and "CQ-YT" in str(artifact.data)

    result = runner.invoke(app, ["status", "--cycle", "nam-2025", "--json"])
    assert result.exit_code == 0, result.output
    units = {u["unit"]: u for u in json.loads(result.stdout)["units"]}
    assert len(units) == 39
    assert (units["CQ-YT"]["outcome"], units["CQ-YT"]["errors"]) == ("rejected", 1)
    assert units["CQ-VP"]["counted_version"] == 1 and units["CQ-VP"]["late"] is True
    assert units["TX-01"]["outcome"] == "accepted_with_warnings"
    assert units["DN-01"]["outcome"] == "missing"

    result = runner.invoke(app, ["problems", "CQ-YT", "nam-2025", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [(p["rule_id"], p["cell"], p["value"], p["severity"]) for p in found] == [
        ("max", "ChiTieu!D9", "150", "error"),
        ("late", None, None, "warning"),
    ]
    result = runner.invoke(app, ["problems", "CQ-ZZ", "nam-2025"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no unit 'CQ-ZZ'")
