"""Every channel shows a code in the words of `thidua.words`, and only those.

Each channel is a function (cfg, code) → the text it shows for that code, read from
its real output: the unit's acknowledgment, a CLI table, the collect and remind
artifacts' rows, the demo's narration, the admin's mail-failure alert.  A channel is
one more entry of CHANNELS.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from thidua import words

OUTCOMES = ("accepted", "accepted_with_warnings", "rejected", "unreadable")


def ack(cfg, code: str) -> str:
    """The verdict of the unit's acknowledgment: the same in its subject, its HTML and
    (upper-cased) its text."""
    from thidua.acknowledge import ack_email

    unit = cfg.units[0]
    row = {
        "submission_id": "a" * 64,
        "unit_email": unit.email,
        "unit_name": unit.name,
        "cycle_id": "nam-2025",
        "outcome": code,
        "received_at": datetime(2025, 12, 15, 3, tzinfo=UTC),
        "version": 1,
        "original_name": "nam-2025_X.xlsx",
        "n_errors": 0,
        "n_warnings": 0,
        "problems": [],
    }
    email = ack_email(cfg, row, cfg.settings.calendar.tz)
    shown = re.search(r"Kết quả kiểm tra: <strong>(.+?)</strong>", email.html)[1]
    assert f"] {shown}: " in email.subject
    assert f"KẾT QUẢ KIỂM TRA: {shown.upper()}\n" in email.text
    return shown


def cli_table(column: str):
    """The one cell of a CLI table of one row whose `column` holds the code."""

    def shown(cfg, code: str) -> str:
        from apps.cli import _print_table

        out = io.StringIO()
        with redirect_stdout(out):
            _print_table("t", [{column: code}])
        lines = [ln for ln in out.getvalue().splitlines() if "│" in ln]
        return lines[-1].strip("│ ")

    shown.__qualname__ = f"cli_{column}"
    return shown


def collect_artifact(cfg, code: str) -> str:
    """The `Kết quả` cell of the collect flow's table artifact."""
    from flows.collect import artifact_rows

    row = {"submission_id": "b" * 64, "unit": "CQ-VP", "cycle": "nam-2025", "late": False}
    row |= {"outcome": code, "errors": 0, "warnings": 0, "ack": "sent", "file": "x.xlsx"}
    done = SimpleNamespace(files=lambda: [row], batch=SimpleNamespace(examined=[]))
    [shown] = artifact_rows(done)
    return shown[words.HEADER["outcome"]]


def collect_artifact_ack(cfg, code: str) -> str:
    from flows.collect import artifact_rows

    row = {"submission_id": "b" * 64, "unit": "CQ-VP", "cycle": "nam-2025", "late": False}
    row |= {"outcome": "accepted", "errors": 0, "warnings": 0, "ack": code, "file": "x.xlsx"}
    done = SimpleNamespace(files=lambda: [row], batch=SimpleNamespace(examined=[]))
    [shown] = artifact_rows(done)
    return shown[words.HEADER["ack"]]


def demo(cfg, code: str) -> str:
    """The demo's line after a collection: "<word>: <n>; …"."""
    from apps.demo import outcomes_line

    return outcomes_line([{"outcome": code}]).split(": 1;")[0]


def mail_failures(cfg, code: str) -> str:
    """The stage of a reminder in the admin's alert of mail that keeps failing."""
    from thidua.alerts import mail_failure_alert

    failing = [{"kind": "reminder", "stage": code, "unit_code": "CQ-VP", "cycle_id": "nam-2025"}]
    failing[0] |= {"recipients": "a@b.vn", "attempts": 6, "status": "failed", "error": "x"}
    text = mail_failure_alert(cfg.settings, failing, datetime(2025, 12, 15, tzinfo=UTC)).text
    return re.search(r"Thư nhắc hạn \((.+?)\) –", text)[1]


def review_refused(cfg, code: str) -> str:
    """The state named by the officer's error when a comment is missing."""
    from thidua.review import ReviewRefused, check_decision

    with pytest.raises(ReviewRefused) as refused:
        check_decision("received", code, "accepted", "", latest=True)
    return re.search(r"“(.+)”", str(refused.value))[1]


def web_versions(column: int):
    """One cell of the versions table the unit's and the officer's pages show."""

    def shown(cfg, code: str) -> str:
        from apps.web.site import templates

        env = templates(SimpleNamespace(config=cfg)).env
        v = {"version": 1, "received_at": None, "outcome": "accepted", "review": "received"}
        v |= {"outcome": code} if column == 2 else {"review": code}
        html = env.get_template("_versions.html").render(versions=[v])
        return re.findall(r"<td>(.*?)</td>", html)[column]

    shown.__qualname__ = f"web_{'outcome' if column == 2 else 'review'}"
    return shown


# concept → (the module's map, the codes, the channels that show them)
CHANNELS = {
    "outcome": (
        words.OUTCOME,
        OUTCOMES,
        [ack, cli_table("outcome"), collect_artifact, demo, web_versions(2)],
    ),
    "review_state": (
        words.REVIEW_STATE,
        ("received", "has_issues", "approved", "returned", "rejected"),
        [cli_table("review"), cli_table("to_state"), web_versions(5)],
    ),
    "review_decision": (words.REVIEW_STATE, ("returned", "rejected"), [review_refused]),
    "send_status": (
        words.SEND_STATUS,
        ("sent", "failed", "skipped"),
        [cli_table("ack"), collect_artifact_ack],
    ),
    "stage": (words.STAGE, tuple(words.STAGE), [cli_table("stage"), mail_failures]),
}
CASES = [
    pytest.param(concept, channel, code, id=f"{concept}-{channel.__qualname__}-{code}")
    for concept, (_, codes, channels) in CHANNELS.items()
    for channel in channels
    for code in codes
]


@pytest.mark.parametrize(("concept", "channel", "code"), CASES)
def test_each_channel_shows_the_words_of_the_module(concept, channel, code, cfg):
    assert channel(cfg, code) == CHANNELS[concept][0][code]


def test_one_wording_per_outcome():
    """The outcomes read apart from one another, with diacritics, and no code shows raw."""
    assert len(set(words.OUTCOME.values())) == len(words.OUTCOME)
    assert all(not w.isascii() for w in words.OUTCOME.values())
