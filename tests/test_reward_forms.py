"""The reward proposals of a workbook (DeNghiKhenThuong): forms written as their labels
are read, and one unknown form is an error on its row alone."""

from __future__ import annotations

from helpers import drop, rows

from apps import synthetic
from pipeline.collect import collect
from thidua.template import build_workbook


def test_reward_form_labels_and_one_bad_row(workspace, cfg):
    """ "Giấy khen" is Giấy khen của Chủ tịch UBND xã; "Huy chương vàng" is an error on
    its row alone: the report is still taken and its figures count."""
    ws = workspace
    unit, cycle = cfg.unit("TX-01"), cfg.cycle("nam-2025")
    proposals = [
        ("Cá nhân", "Nguyễn Văn Hùng", "Trưởng thôn", "Giấy khen", "Tốt"),
        ("Tập thể", "Tổ chuyển đổi số", "Thôn 1", "Huy chương vàng", "Tốt"),
        ("Cá nhân", "Lê Thị Mai", "Thôn 1", "giay khen cua chu tich ubnd xa", "Tốt"),
    ]
    data = build_workbook(
        cfg,
        unit,
        cycle,
        synthetic.values(cfg, unit, cycle),
        info=synthetic.narrative(unit),
        initiatives=synthetic.initiative_rows(unit, 1, cycle),
        proposals=proposals,
    )
    drop(ws.paths.inbox, "tx01.xlsx", data)
    collect(ws, docs=False, acks=False)
    assert rows(ws, "SELECT outcome, n_errors FROM submissions") == [("accepted_with_warnings", 1)]
    assert rows(ws, "SELECT name, reward_form FROM proposals ORDER BY row_no") == [
        ("Nguyễn Văn Hùng", "giay-khen-xa"),
        ("Lê Thị Mai", "giay-khen-xa"),
    ]
    [(rule, cell, message)] = rows(ws, "SELECT rule_id, cell, message_vi FROM validation_results")
    assert (rule, cell) == ("reward_form", "DeNghiKhenThuong!E3")
    assert "Huy chương vàng" in message and "riêng dòng" in message
    # the figures are loaded and count for the unit
    assert rows(ws, "SELECT count(*) FROM current_submissions WHERE unit_code = 'TX-01'") == [(1,)]
    assert rows(ws, "SELECT count(*) FROM submission_values")[0][0] > 0
