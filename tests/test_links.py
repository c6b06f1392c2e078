"""Upload links (thidua.links), without the web: a signed token carries its claim, any
change or another key makes it tampered, and when a link stops working by default."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from thidua import links
from thidua.settings import WebSettings

VN = ZoneInfo("Asia/Ho_Chi_Minh")
KEY = "k" * 32


def web(**kw) -> WebSettings:
    return WebSettings(secret_key=KEY, **kw)


def test_a_signed_token_verifies_to_its_claim():
    claim = links.LinkClaim("CQ-VP", "nam-2025", links.new_link_id())
    token = links.sign(web(), claim)
    assert links.verify(web(), token) == claim
    assert links.url(web(base_url="https://thidua.example.vn/"), token) == (
        f"https://thidua.example.vn/u/{token}"
    )


def test_link_ids_are_new_each_time():
    assert len({links.new_link_id() for _ in range(100)}) == 100


@pytest.mark.parametrize(
    "tamper",
    [
        # the signature (not its last character, whose low bits are base64 padding: A
        # and B there decode to the same bytes, so the token would still verify)
        lambda t: t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1],
        lambda t: "x" + t,  # the payload
        lambda t: "",
        lambda t: "not.a.token",
    ],
)
def test_a_changed_token_is_tampered(tamper):
    token = links.sign(web(), links.LinkClaim("CQ-VP", "nam-2025", "abc"))
    with pytest.raises(links.Tampered):
        links.verify(web(), tamper(token))


def test_another_key_or_salt_does_not_verify():
    token = links.sign(web(), links.LinkClaim("CQ-VP", "nam-2025", "abc"))
    with pytest.raises(links.Tampered):
        links.verify(WebSettings(secret_key="o" * 32), token)
    other = links.serializer(web(), salt="thidua-officer").dumps(["CQ-VP", "nam-2025", "abc"])
    with pytest.raises(links.Tampered):
        links.verify(web(), other)


def test_no_secret_key_means_no_links():
    with pytest.raises(links.WebNotConfigured):
        links.sign(WebSettings(), links.LinkClaim("CQ-VP", "nam-2025", "abc"))


def test_expiry_by_default_the_end_of_due_plus_60_days(cfg):
    cycle = cfg.cycle("nam-2025")
    now = datetime(2025, 12, 1, 9, tzinfo=VN)
    end = links.expires_at(web(), cycle, now, VN)
    assert end == datetime.combine(cycle.due + timedelta(days=61), datetime.min.time(), VN)
    assert links.expires_at(web(link_valid_days=7), cycle, now, VN) == now + timedelta(days=7)
