"""The mailer against a real aiosmtpd server on 127.0.0.1, and into the outbox."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from helpers import free_port
from hypothesis import given, settings
from hypothesis import strategies as st

from thidua.errors import ConfigError
from thidua.mailer import Email, SmtpConfigError, SmtpSettings, build_message, open_mailer
from thidua.settings import REPO_CONFIG, resolve_settings

SUBJECT = "[Thi đua] Nhắc hạn: còn 7 ngày làm việc – hạn Thứ Hai, 22/12/2025"
TEXT = "Kính gửi: Phòng Văn hoá – Xã hội\n\nĐề nghị quý đơn vị gửi báo cáo đúng hạn."
HTML = "<p>Kính gửi: <strong>Phòng Văn hoá – Xã hội</strong></p>"


def email(**kw) -> Email:
    return Email(
        **{
            "to": ["vanphong@phongdoanh.example"],
            "subject": SUBJECT,
            "text": TEXT,
            "html": HTML,
            **kw,
        }
    )


def smtp_settings(env: dict[str, str]) -> SmtpSettings:
    """The SMTP settings a run resolves from the sample config and this environment."""
    return SmtpSettings.from_settings(resolve_settings(REPO_CONFIG, env))


def body(msg, subtype: str) -> str:
    return msg.get_body((subtype,)).get_content().replace("\r\n", "\n").rstrip("\n")


@pytest.mark.slow
def test_smtp_message_decodes_to_vietnamese_subject_body_and_addresses(smtp_env, cfg, tmp_path):
    with open_mailer(resolve_settings(REPO_CONFIG), tmp_path) as mailer:
        result = mailer.send(
            email(
                cc=["truong.vanphong@phongdoanh.example"],
                attachments=[("nam-2025_CQ-VP.xlsx", b"PK\x03\x04xlsx")],
            )
        )
    assert result.ok and result.refused == {} and result.error is None
    [got] = smtp_env.received
    header_block = got.data.split(b"\r\n\r\n", 1)[0]
    assert header_block.isascii() and b"=?utf-8?" in header_block  # RFC 2047
    msg = got.message
    assert msg["Subject"] == SUBJECT
    assert msg["Message-ID"] == result.message_id
    assert msg["From"].addresses[0].display_name == cfg.settings.sender.name
    assert msg["From"].addresses[0].addr_spec == cfg.settings.sender.email
    assert msg["To"] == "vanphong@phongdoanh.example"
    assert msg["Cc"] == "truong.vanphong@phongdoanh.example"
    assert got.mail_from == cfg.settings.sender.email
    assert got.rcpt_tos == ["vanphong@phongdoanh.example", "truong.vanphong@phongdoanh.example"]
    assert body(msg, "plain") == TEXT and body(msg, "html") == HTML
    assert msg["Auto-Submitted"] == "auto-generated"  # RFC 3834: nobody auto-answers it
    [attachment] = msg.iter_attachments()
    assert attachment.get_filename() == "nam-2025_CQ-VP.xlsx"
    assert attachment.get_content() == b"PK\x03\x04xlsx"


@pytest.mark.slow
def test_one_refused_recipient_does_not_stop_the_others(smtp_env, cfg, tmp_path):
    smtp_env.refuse = {"bad@phongdoanh.example"}
    with open_mailer(resolve_settings(REPO_CONFIG), tmp_path) as mailer:
        partly = mailer.send(email(cc=["bad@phongdoanh.example"]))
        refused = mailer.send(email(to=["bad@phongdoanh.example"]))
        after = mailer.send(email(to=["kinhte@phongdoanh.example"]))
    assert partly.ok and partly.refused == {
        "bad@phongdoanh.example": "550 5.1.1 mailbox unavailable"
    }
    assert not refused.ok and refused.error == "all recipients refused"
    assert after.ok
    assert [r.rcpt_tos for r in smtp_env.received] == [
        ["vanphong@phongdoanh.example"],
        ["kinhte@phongdoanh.example"],
    ]
    assert len({partly.message_id, refused.message_id, after.message_id}) == 3


@pytest.mark.slow
def test_send_one_records_every_send_the_same_way(smtp_env, cfg, tmp_path):
    """What the sent logs keep: accepted recipients, the refused ones in the error, the
    time only when sent; a message of its own goes over a mailer of its own."""
    from thidua.mailer import send_one

    smtp_env.refuse = {"bad@phongdoanh.example"}
    settings = resolve_settings(REPO_CONFIG)
    with open_mailer(settings, tmp_path) as mailer:
        partly = mailer.send_one(email(cc=["bad@phongdoanh.example"]))
        refused = mailer.send_one(email(to=["bad@phongdoanh.example"]))
    alone = send_one(settings, tmp_path, email())
    assert (partly.status, partly.recipients) == ("sent", "vanphong@phongdoanh.example")
    assert partly.error == "refused bad@phongdoanh.example: 550 5.1.1 mailbox unavailable"
    assert partly.sent_at is not None and partly.note == "sent"
    assert (refused.status, refused.recipients, refused.sent_at) == (
        "failed",
        "bad@phongdoanh.example",
        None,
    )
    assert refused.note.startswith("failed: all recipients refused; refused bad@")
    assert alone.status == "sent" and len(smtp_env.received) == 2


def test_server_down_fails_every_message_after_retries(cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("THIDUA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("THIDUA_SMTP_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("THIDUA_SMTP_RETRY_DELAYS", "0,0")
    with open_mailer(resolve_settings(REPO_CONFIG), tmp_path) as mailer:
        results = [mailer.send(email()) for _ in range(3)]
    assert [r.ok for r in results] == [False, False, False]
    assert all("ConnectionRefusedError" in r.error for r in results)
    assert not list(tmp_path.iterdir())


def test_outbox_gets_one_eml_per_message_named_by_message_id(cfg, tmp_path, monkeypatch):
    monkeypatch.delenv("THIDUA_SMTP_HOST", raising=False)
    with open_mailer(resolve_settings(REPO_CONFIG), tmp_path / "outbox") as mailer:
        first, second = mailer.send(email()), mailer.send(email())
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 2 and first.message_id != second.message_id
    msg = message_from_bytes(
        (tmp_path / "outbox" / f"{first.message_id.strip('<>')}.eml").read_bytes(),
        policy=policy.default,
    )
    assert msg["Subject"] == SUBJECT and msg["Message-ID"] == first.message_id


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"THIDUA_SMTP_HOST": "smtp.example.vn", "THIDUA_SMTP_PORT": "465"}, ("ssl", 465)),
        ({"THIDUA_SMTP_HOST": "smtp.example.vn"}, ("starttls", 587)),
        ({"THIDUA_SMTP_HOST": "127.0.0.1", "THIDUA_SMTP_PORT": "1025"}, ("none", 1025)),
        ({"THIDUA_SMTP_HOST": "mail.lan", "THIDUA_SMTP_SECURITY": "none"}, ("none", 25)),
    ],
)
def test_security_and_port_defaults(cfg, env, expected):
    smtp = smtp_settings(env)
    assert (smtp.security, smtp.port) == expected
    assert smtp.sender == cfg.settings.sender.email


def test_password_never_in_repr_and_unsafe_setups_refused(cfg):
    env = {
        "THIDUA_SMTP_HOST": "smtp.example.vn",
        "THIDUA_SMTP_USER": "vhxh",
        "THIDUA_SMTP_PASSWORD": "s3cret-pw",
        "THIDUA_SMTP_SENDER": "thidua@example.vn",
    }
    smtp = smtp_settings(env)
    assert "s3cret-pw" not in repr(smtp) and smtp.sender == "thidua@example.vn"
    with pytest.raises(SmtpConfigError, match="THIDUA_SMTP_PASSWORD is not"):
        smtp_settings({**env, "THIDUA_SMTP_PASSWORD": ""})
    with pytest.raises(SmtpConfigError, match="without TLS"):
        smtp_settings({**env, "THIDUA_SMTP_SECURITY": "none"})
    with pytest.raises(ConfigError, match="THIDUA_SMTP_SECURITY") as refused:
        smtp_settings({**env, "THIDUA_SMTP_SECURITY": "tls"})
    assert "s3cret-pw" not in str(refused.value)


WORDS = [
    "Nhắc",
    "hạn:",
    "còn",
    "7",
    "ngày",
    "làm",
    "việc",
    "–",
    "Thứ",
    "Hai,",
    "22/12/2025",
    "Đôn",
    "đốc",
    "Văn",
    "hoá",
    "Xã",
    "hội",
    "(hạn)",
    "[Thi",
    "đua]",
    "báo",
    "cáo",
    "x",
]


@settings(max_examples=300, deadline=None)
@given(
    subject=st.lists(st.sampled_from(WORDS), min_size=1, max_size=40).map(" ".join),
    name=st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join),
)
def test_any_vietnamese_subject_and_sender_name_survive_encoding(subject, name):
    data = build_message(
        Email(to=["a@x.example"], subject=subject, text="x"), "vhxh@phongdoanh.example", name
    ).as_bytes()
    msg = message_from_bytes(data, policy=policy.default)
    assert data.isascii()
    assert msg["Subject"] == subject
    assert msg["From"].addresses[0].display_name == name
    assert msg["From"].addresses[0].addr_spec == "vhxh@phongdoanh.example"
