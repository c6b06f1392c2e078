"""Each unit's upload link for a cycle: a token signed with `[web] secret_key`.

The token carries (unit, cycle, link id) and is signed with itsdangerous
(`URLSafeTimedSerializer`, salt `thidua-upload`); the link id is a row of the
warehouse's `upload_links`, which holds the expiry and the revocation, so the officer
can revoke a link and a link's validity can change without re-signing.  A token that
does not verify is *tampered* (403); the expiry and the revocation are checked against
the warehouse (410).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeTimedSerializer

from thidua.config import Cycle
from thidua.errors import ThiduaError
from thidua.settings import WebSettings

SALT = "thidua-upload"
GRACE_DAYS = 60  # default validity: until the cycle's due date + 60 days


class WebNotConfigured(ThiduaError):
    "[web] secret_key is not set (THIDUA_WEB_SECRET_KEY or secrets.toml)"


class BadToken(ThiduaError):
    "The link's signature does not verify: tampered with, or signed with another key"


@dataclass(frozen=True)
class LinkClaim:
    unit: str
    cycle: str
    link_id: str


def secret(web: WebSettings) -> str:
    if web.secret_key is None:
        raise WebNotConfigured(
            "[web] secret_key is not set: put it in config/secrets.toml or THIDUA_WEB_SECRET_KEY"
        )
    return web.secret_key.get_secret_value()


def serializer(web: WebSettings, salt: str = SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret(web), salt=salt)


def new_link_id() -> str:
    return secrets.token_hex(8)


def sign(web: WebSettings, claim: LinkClaim) -> str:
    return serializer(web).dumps([claim.unit, claim.cycle, claim.link_id])


def verify(web: WebSettings, token: str) -> LinkClaim:
    """The claim of a token whose signature verifies; BadToken otherwise."""
    try:
        unit, cycle, link_id = serializer(web).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise BadToken("invalid link") from None
    return LinkClaim(str(unit), str(cycle), str(link_id))


def url(web: WebSettings, token: str) -> str:
    return f"{web.base_url.rstrip('/')}/u/{token}"


def expires_at(web: WebSettings, cycle: Cycle, now: datetime, tz: ZoneInfo) -> datetime:
    """When a link made `now` stops working: `link_valid_days` after now, else the end
    of the cycle's (moved) due date + 60 days, local time."""
    if web.link_valid_days:
        return now + timedelta(days=web.link_valid_days)
    last: date = cycle.due + timedelta(days=GRACE_DAYS)
    return datetime.combine(last + timedelta(days=1), time(0), tz)
