"""Review states of a submission version, and which decisions an officer may take.

Every version gets an automatic state when it is loaded: `has_issues` when the checks
found an error (outcome rejected or unreadable), else `received` (warnings, lateness
included, leave it `received`: the officer sees them).  The officer then decides:
`approved`, `returned` (to the unit, to fix; comment required, the unit is emailed) or
`rejected` (comment required).  Approval locks the version: no later decision on it,
and a later upload is a new version waiting for review.  A decision is taken on the
latest version of a (unit, cycle) only, and an approval needs an accepted version.
States are rows of the append-only `review_log`; the automatic state is written once
per version, so a rerun of the checks never overwrites a decision.
"""

from __future__ import annotations

from thidua import words
from thidua.errors import ThiduaError

STATES = ("received", "has_issues", "approved", "returned", "rejected")
DECISIONS = ("approved", "returned", "rejected")
NEEDS_COMMENT = ("returned", "rejected")
LOCKED = ("approved",)
ACCEPTED = ("accepted", "accepted_with_warnings")

VERB = {"approve": "approved", "return": "returned", "reject": "rejected"}


class ReviewRefused(ThiduaError):
    "The decision is not allowed on this version (the message is for the officer)"


def check_decision(
    state: str, to_state: str, outcome: str, comment: str | None, latest: bool
) -> str | None:
    """The comment, stripped (None when empty), if `to_state` may follow `state` on a
    version of this outcome; ReviewRefused otherwise."""
    comment = (comment or "").strip() or None
    if to_state not in DECISIONS:
        raise ReviewRefused(
            f"không có quyết định “{to_state}”: chỉ duyệt, trả lại hoặc không chấp nhận"
        )
    if not latest:
        raise ReviewRefused("chỉ quyết định được trên lần gửi mới nhất của đơn vị")
    if state in LOCKED:
        raise ReviewRefused(
            "lần gửi này đã được duyệt và khóa; đơn vị gửi lại thì thành một lần gửi mới"
        )
    if to_state in NEEDS_COMMENT and not comment:
        raise ReviewRefused(f"cần ghi ý kiến khi chọn “{words.REVIEW_STATE[to_state]}”")
    if to_state == "approved" and outcome not in ACCEPTED:
        raise ReviewRefused(f"không duyệt được lần gửi “{words.OUTCOME[outcome]}”: báo cáo còn lỗi")
    return comment
