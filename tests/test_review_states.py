"""The review state machine (thidua.review.check_decision), without the web: which
decision may follow which state, on which version, with or without a comment."""

from __future__ import annotations

import pytest

from thidua.review import DECISIONS, STATES, ReviewRefused, check_decision


@pytest.mark.parametrize("state", ["received", "has_issues", "returned", "rejected"])
@pytest.mark.parametrize("to_state", DECISIONS)
def test_an_open_latest_accepted_version_takes_every_decision(state, to_state):
    assert check_decision(state, to_state, "accepted", "  cần bổ sung  ", True) == "cần bổ sung"


def test_approval_needs_no_comment_and_an_empty_one_is_none():
    assert check_decision("received", "approved", "accepted_with_warnings", "   ", True) is None


@pytest.mark.parametrize("to_state", ["returned", "rejected"])
@pytest.mark.parametrize("comment", [None, "", "  \n "])
def test_returning_or_rejecting_needs_a_comment(to_state, comment):
    with pytest.raises(ReviewRefused, match="cần ghi ý kiến"):
        check_decision("received", to_state, "accepted", comment, True)


@pytest.mark.parametrize("outcome", ["rejected", "unreadable"])
def test_a_version_with_errors_cannot_be_approved_but_can_be_returned(outcome):
    with pytest.raises(ReviewRefused, match="không duyệt được"):
        check_decision("has_issues", "approved", outcome, None, True)
    assert check_decision("has_issues", "returned", outcome, "sửa ô D10", True) == "sửa ô D10"


@pytest.mark.parametrize("to_state", DECISIONS)
def test_an_approved_version_is_locked(to_state):
    with pytest.raises(ReviewRefused, match="đã được duyệt và khóa"):
        check_decision("approved", to_state, "accepted", "thay đổi", True)


@pytest.mark.parametrize("state", STATES)
def test_only_the_latest_version_is_reviewed(state):
    with pytest.raises(ReviewRefused, match="lần gửi mới nhất"):
        check_decision(state, "returned", "accepted", "cũ", False)


@pytest.mark.parametrize("to_state", ["received", "has_issues", "approve", ""])
def test_only_decisions_are_taken(to_state):
    with pytest.raises(ReviewRefused, match="không có quyết định"):
        check_decision("received", to_state, "accepted", "x", True)
