"""The units' upload links: made for reminders and `thidua link`, revoked by the
officer, opened by the web app (`thidua.links` signs and verifies the tokens; the
warehouse's `upload_links` holds each link's expiry and revocation)."""

from __future__ import annotations

from datetime import UTC

from thidua import clock, links
from thidua.workspace import Workspace
from warehouse.db import connect
from warehouse.queries import live_links, upload_link
from warehouse.writer import add_upload_links, revoke_upload_links


def make_link(ws: Workspace, unit: str, cycle: str) -> str:
    """The unit's upload address for the cycle: its live link, or a new one."""
    ws.config.unit(unit)
    ws.config.cycle(cycle)
    links.secret(ws.config.settings.web)  # WebNotConfigured before anything is written
    return unit_links(ws, [(unit, cycle)])[(unit, cycle)]


def unit_links(ws: Workspace, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The upload address of each (unit, cycle): its live link, or a new one, in one
    write transaction per call.  Empty when the web is not set up (no secret key), so
    reminders then go out without a link."""
    web = ws.config.settings.web
    if not web.links_enabled or not pairs:
        return {}
    pairs = list(dict.fromkeys(pairs))
    now, tz = clock.now(UTC), ws.config.settings.calendar.tz
    with connect(ws.paths.warehouse) as con:
        ids = live_links(con, pairs, now)
        new = [
            (links.new_link_id(), u, c, links.expires_at(web, ws.config.cycle(c), now, tz))
            for u, c in pairs
            if (u, c) not in ids
        ]
        if new:
            add_upload_links(con, new)
            ids |= {(u, c): i for i, u, c, _ in new}
    return {
        (u, c): links.url(web, links.sign(web, links.LinkClaim(u, c, ids[(u, c)])))
        for u, c in pairs
    }


def revoke_links(ws: Workspace, unit: str, cycle: str) -> int:
    ws.config.unit(unit)
    ws.config.cycle(cycle)
    with connect(ws.paths.warehouse) as con:
        return revoke_upload_links(con, unit, cycle)


def open_link(ws: Workspace, token: str) -> links.LinkClaim:
    """The (unit, cycle, link id) of a live token; Tampered, Revoked or Expired.  Expiry
    follows `thidua.clock` (THIDUA_NOW when set), as the making of the link does."""
    claim = links.verify(ws.config.settings.web, token)
    with connect(ws.paths.warehouse, read_only=True) as con:
        row = upload_link(con, claim.link_id)
    if row is None or (row["unit_code"], row["cycle_id"]) != (claim.unit, claim.cycle):
        raise links.Tampered()
    if row["revoked_at"] is not None:
        raise links.Revoked()
    if row["expires_at"] <= clock.now(UTC):
        raise links.Expired()
    return claim
