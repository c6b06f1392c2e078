"""The time thidua acts at: now, or the simulated moment of the demo.

`THIDUA_NOW` (an ISO date-time with its offset, e.g. 2025-12-15T10:15:00+07:00) stands
for the present when set: the demo sets it at each step of its story, so every email's
`Date:` header and every time stamp follows the simulated clock.  Unset, it is the real
clock.  Times are given in the commune's time zone (Asia/Ho_Chi_Minh by default).
"""

from __future__ import annotations

import os
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def now(tz: tzinfo = LOCAL) -> datetime:
    """The present (or the simulated moment of `THIDUA_NOW`), aware, in `tz`."""
    text = os.environ.get("THIDUA_NOW")
    if text:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LOCAL)
        return moment.astimezone(tz)
    return datetime.now(tz)
