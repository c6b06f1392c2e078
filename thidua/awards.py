"""The states of a commendation proposal, and which changes are allowed (issue 22).

A proposal row of an accepted submission starts `de-xuat` (the unit proposes).  The Hội
đồng Thi đua – Khen thưởng xã decides at a meeting, with its vote: `hoi-dong-dong-y` or
`hoi-dong-khong-dong-y`.  An approved form within the Chủ tịch UBND xã's authority is
then awarded by his Quyết định (`da-khen-thuong`); a higher form goes up in a Tờ trình
(`da-trinh`), and the answer received is recorded: `cap-tren-quyet-dinh` or
`cap-tren-khong-dong-y`.  Only approved proposals reach reports, lists and documents.
Rows refused for their form or subject are `khong-hop-le`: shown, never decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from thidua.errors import ThiduaError

STATE_VI = {
    "khong-hop-le": "Đề nghị không hợp lệ",
    "de-xuat": "Đơn vị đề xuất",
    "hoi-dong-dong-y": "Hội đồng đồng ý",
    "hoi-dong-khong-dong-y": "Hội đồng không đồng ý",
    "da-khen-thuong": "Đã khen thưởng",
    "da-trinh": "Đã trình cấp trên",
    "cap-tren-quyet-dinh": "Cấp trên đã quyết định khen thưởng",
    "cap-tren-khong-dong-y": "Cấp trên không đồng ý",
}
# The council approved these: they count in reports, lists and documents.
APPROVED = ("hoi-dong-dong-y", "da-khen-thuong", "da-trinh", "cap-tren-quyet-dinh")
COUNCIL = ("hoi-dong-dong-y", "hoi-dong-khong-dong-y")
# to-state → (states it may follow, authority of the form it applies to: None = any)
TRANSITIONS = {
    "hoi-dong-dong-y": (("de-xuat", "hoi-dong-khong-dong-y"), None),
    "hoi-dong-khong-dong-y": (("de-xuat", "hoi-dong-dong-y"), None),
    "da-khen-thuong": (("hoi-dong-dong-y",), "xa"),
    "da-trinh": (("hoi-dong-dong-y",), "cap_tren"),
    "cap-tren-quyet-dinh": (("da-trinh",), "cap_tren"),
    "cap-tren-khong-dong-y": (("da-trinh",), "cap_tren"),
}
CHANGE_VI = {
    "changed": "Đơn vị đã sửa đề nghị sau khi Hội đồng xét",
    "removed": "Đơn vị đã bỏ đề nghị này ở lần gửi mới",
}


class AwardRefused(ThiduaError):
    "The change of state is not allowed (the message is for the officer)"


@dataclass(frozen=True)
class Vote:
    votes_for: int  # số phiếu đồng ý
    members: int  # tổng số thành viên Hội đồng
    note: str | None = None


def check_change(
    state: str,
    to_state: str,
    authority: str,
    vote: Vote | None,
    doc_no: str | None,
    chairman: str,
) -> None:
    """AwardRefused, in Vietnamese, unless a proposal in `state` of a form of `authority`
    may become `to_state` with this vote (council decisions) or document number.
    `chairman`: who decides the tier's own forms (`[tier] authority`)."""
    if to_state not in TRANSITIONS:
        raise AwardRefused(f"không có trạng thái “{to_state}”")
    follows, needs = TRANSITIONS[to_state]
    if state not in follows:
        raise AwardRefused(
            f"đề nghị đang ở trạng thái “{STATE_VI.get(state, state)}”, không chuyển được "
            f"sang “{STATE_VI[to_state]}”"
        )
    if needs and authority != needs:
        where = f"thuộc thẩm quyền {chairman}" if authority == "xa" else "do cấp trên quyết định"
        raise AwardRefused(f"hình thức này {where}: không chuyển sang “{STATE_VI[to_state]}”")
    if to_state in COUNCIL:
        _check_vote(to_state, vote)
    elif not (doc_no or "").strip():
        raise AwardRefused("cần ghi số và ngày của văn bản (Quyết định, Tờ trình)")


def _check_vote(to_state: str, vote: Vote | None) -> None:
    """A council decision carries its vote; approval needs more than half of the members
    (Hội đồng làm việc theo nguyên tắc đa số; to be confirmed by the thi đua officer)."""
    if vote is None or not 0 <= vote.votes_for <= vote.members or vote.members < 1:
        raise AwardRefused("cần ghi số phiếu đồng ý (từ 0 đến tổng số thành viên Hội đồng)")
    if to_state == "hoi-dong-dong-y" and vote.votes_for * 2 <= vote.members:
        raise AwardRefused(
            f"{vote.votes_for}/{vote.members} phiếu đồng ý chưa quá nửa số thành viên Hội "
            "đồng: không ghi được “Hội đồng đồng ý”"
        )


@dataclass(frozen=True)
class Member:
    name: str
    role: str  # "Chủ tịch UBND xã – Chủ tịch Hội đồng"


def council_members(config_dir: Path) -> list[Member]:
    """The Hội đồng Thi đua – Khen thưởng xã as `config/council.yaml` lists it."""
    raw = yaml.safe_load((config_dir / "council.yaml").read_text(encoding="utf-8")) or {}
    return [Member(str(m["name"]), str(m.get("role") or "")) for m in raw.get("members") or []]
