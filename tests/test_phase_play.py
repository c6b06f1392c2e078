"""Issue 21, "Must show": the whole movement played 2025–2030 through collect and rollup.

The 39 units of the sample registry send the plan (targets 2027, 2030), every annual
report and both reviews as real workbooks, collected from an inbox (tests/phase_play.py
tells the story: TX-03 under-reports its sơ kết flows, CQ-KT's multi-year TT02 is near
the scaled bound).  The sơ kết and tổng kết are then read back from their docx and xlsx and checked against sums
and levels computed here, independently, from the warehouse rows."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers import fresh_home, rows
from phase_play import NEAR, UNDER, play

from thidua.rollup.model import number_vi, percent_vi, phase_years
from warehouse.db import connect


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        ws = fresh_home(mp, tmp_path_factory.mktemp("play") / "home")
        results = play(ws, mp.setenv)
        mp.delenv("THIDUA_NOW")
        yield ws, results


def _values(ws, cycles: list[str], measure: str = "value") -> pd.DataFrame:
    """Every accepted value of the cycles (each unit sent one version), with the unit's
    kind and the indicator's type and aggregate: the rows the rollup reads."""
    with connect(ws.paths.warehouse, read_only=True) as con:
        return con.execute(
            """
            SELECT s.cycle_id, s.unit_code, u.kind, v.indicator_code, v.value,
                   i.type, i.aggregate, c.year
            FROM submissions s JOIN units u ON u.code = s.unit_code
            JOIN submission_values v USING (submission_id)
            JOIN indicators i ON i.code = v.indicator_code JOIN cycles c ON c.id = s.cycle_id
            WHERE list_contains(?, s.cycle_id) AND v.measure = ? AND v.value IS NOT NULL
              AND s.outcome IN ('accepted', 'accepted_with_warnings')""",
            [cycles, measure],
        ).df()


def _kind_totals(df: pd.DataFrame) -> pd.DataFrame:
    """Per (kind, indicator, year): sum, units answering 1 for yes/no, and rates weighted
    by the unit's TS01 of the same report."""
    ts = df[df["indicator_code"] == "TS01"][["cycle_id", "unit_code", "value"]]
    df = df.merge(ts.rename(columns={"value": "ts01"}), on=["cycle_id", "unit_code"])
    df["weighted"] = df["value"] * df["ts01"]
    g = df.groupby(["kind", "indicator_code", "year"])
    out = g.agg(
        total=("value", "sum"), ones=("value", lambda v: (v == 1).sum()), w=("weighted", "sum")
    )
    out["weight"] = g["ts01"].sum()
    kinds = g["type"].first()
    out.loc[kinds == "percent", "total"] = (out["w"] / out["weight"]).round(2)
    out.loc[kinds == "bool", "total"] = out["ones"]
    return out["total"].reset_index()


def _expected(ws, phase) -> pd.DataFrame:
    """Per (kind, indicator): each year, the fold (sum of years for flows, the latest
    year for stocks and rates), and the review's own total."""
    cfg = ws.config
    years = phase_years(cfg, phase)
    yearly = _kind_totals(_values(ws, [c.id for c in years]))
    aggregate = {i.code: i.aggregate for i in cfg.indicators}
    wide = yearly.pivot_table(
        index=["kind", "indicator_code"], columns="year", values="total", aggfunc="first"
    )
    last = wide[max(c.year for c in years)]
    summed = wide.sum(axis=1)
    codes = wide.index.get_level_values("indicator_code")
    wide["annual"] = [
        s if aggregate[c] == "sum" else v for c, s, v in zip(codes, summed, last, strict=True)
    ]
    review = _kind_totals(_values(ws, [phase.id])).set_index(["kind", "indicator_code"])
    wide["review"] = review["total"]
    return wide


def _sections(book, ws_name: str = "TongHop") -> dict[str, tuple[dict, dict]]:
    """TongHop's per-kind tables: heading → (header → column, indicator code → row)."""
    out, current = {}, None
    for r in book[ws_name].iter_rows(values_only=True):
        first = str(r[0] or "")
        if first.startswith("II.") and "Kết quả các chỉ tiêu" in first:
            current = first
        elif current and first == "Mã":
            out[current] = ({h: i for i, h in enumerate(r)}, {})
        elif current and current in out and first and first[:2].isalpha() and len(first) == 4:
            out[current][1][first] = r
        elif first.startswith("III."):
            current = None
    return out


@pytest.mark.slow
@pytest.mark.parametrize("number", [1, 2])
def test_phase_tables_are_per_kind_sums_and_levels(played, number):
    from openpyxl import load_workbook

    ws, results = played
    cfg = ws.config
    result = results[number]
    phase = cfg.cycle(result.cycle_id)
    expected = _expected(ws, phase)
    years = [c.year for c in phase_years(cfg, phase)]
    book = load_workbook(result.files["xlsx"])
    sections = _sections(book)
    heading_of = dict(cfg.settings.kinds.items())
    kinds = sorted(set(expected.index.get_level_values("kind")))
    assert len(sections) == len(kinds) == 4
    checked = 0
    for title, (col, body) in sections.items():
        kind = next(k for k in kinds if _group_heading(k, heading_of) in title)
        for code, row in body.items():
            exp = expected.loc[(kind, code)]
            for y in years:
                label = next(h for h in col if str(h).startswith(f"Năm {y}"))
                assert row[col[label]] == pytest.approx(exp[y]), (kind, code, y)
            annual = next(h for h in col if str(h).startswith("Cộng các báo cáo năm"))
            assert row[col[annual]] == pytest.approx(exp["annual"]), (kind, code)
            review = col["Số liệu đơn vị báo cáo đến thời điểm chốt"]
            assert row[review] == pytest.approx(exp["review"]), (kind, code)
            checked += 1
    assert checked == len(expected)  # every (kind, indicator) the units hold
    # rates are the level at the cut-off: HC04 of the offices is the last year's
    col, body = next(v for k, v in sections.items() if "cơ quan" in k)
    annual = next(h for h in col if str(h).startswith("Cộng các báo cáo năm"))
    assert body["HC04"][col[annual]] == pytest.approx(expected.loc[("co_quan", "HC04")][years[-1]])
    _check_docx(result, expected, cfg, years)


def _group_heading(kind: str, names: dict[str, str]) -> str:
    from thidua.rollup.model import criteria_groups

    return dict(criteria_groups(names))[kind]


def _check_docx(result, expected, cfg, years) -> None:
    """The docx's years tables, in the plan's order of kinds, print the same figures."""
    from docx import Document

    from thidua.rollup.model import criteria_groups

    doc = Document(result.files["docx"])
    tables = [
        t
        for t in doc.tables
        if [c.text for c in t.rows[0].cells][:3] == ["STT", "Chỉ tiêu", "Đơn vị tính"]
    ]
    kinds = [k for k, _ in criteria_groups(cfg.settings.kinds)]
    assert len(tables) == len(kinds)
    names = {i.name_vi: i.code for i in cfg.indicators}
    types = {i.code: i.type for i in cfg.indicators}
    for kind, table in zip(kinds, tables, strict=True):
        for r in table.rows[1:]:
            cells = [c.text for c in r.cells]
            exp = expected.loc[(kind, names[cells[1]])]
            shown = percent_vi if types[names[cells[1]]] == "percent" else number_vi
            assert cells[3:] == [shown(exp[y]) for y in years], (kind, cells[1])
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "DỰ THẢO" not in text and "xác minh" not in text
    # section II by the plan's contents 1.1–1.7, and no indicator code anywhere
    subpoints = [p.text[:4] for p in doc.paragraphs if re.match(r"1\.[1-7]\. ", p.text)]
    assert subpoints == [f"1.{k}." for k in range(1, 8)]
    text += "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert not {i.code for i in cfg.indicators} & set(re.findall(r"\b[A-Z]{2}\d{2}\b", text))


@pytest.mark.slow
def test_review_below_the_annual_sums_is_on_the_worklist_not_in_the_report(played):
    from docx import Document
    from openpyxl import load_workbook

    ws, results = played
    result = results[1]
    sheet = load_workbook(result.files["worklist"])["DoiChieu"]
    flagged = {(r[0], r[2]) for r in sheet.iter_rows(values_only=True) if r[0] and r[2]}
    flows = {i.code for i in ws.config.indicators if i.aggregate == "sum" and i.type == "int"}
    under = {code for unit, code in flagged if unit == UNDER}
    assert {"TT01", "TT02"} <= under <= flows
    assert {unit for unit, _ in flagged if unit != "Mã đơn vị"} == {UNDER}
    docx = Document(result.files["docx"])
    text = "\n".join(p.text for p in docx.paragraphs)
    text += "\n".join(c.text for t in docx.tables for r in t.rows for c in r.cells)
    assert "xác minh" not in text and "chênh lệch" not in text.lower()
    # the tổng kết: every unit's cumulative figures rose as they should: nothing to verify
    sheet = load_workbook(results[2].files["worklist"])["DoiChieu"]
    codes = {u.code for u in ws.config.units}
    assert not [r for r in sheet.iter_rows(values_only=True) if r[0] in codes]


@pytest.mark.slow
def test_no_warn_at_most_from_a_multi_year_total_within_the_scaled_bound(played):
    ws, _ = played
    warned = rows(
        ws,
        """
        SELECT s.cycle_id, s.unit_code, r.message_vi FROM validation_results r
        JOIN submissions s USING (submission_id) WHERE r.rule_id = 'warn_at_most'""",
    )
    assert warned == []
    near = rows(
        ws,
        """
        SELECT s.cycle_id, v.value FROM submission_values v JOIN submissions s
        USING (submission_id) WHERE s.unit_code = ? AND v.indicator_code = 'TT02'
          AND s.cycle_id IN ('so-ket-2027', 'tong-ket-2030') ORDER BY 1""",
        [NEAR],
    )
    assert len(near) == 2  # CQ-KT's reviews were collected, TT02 and all


@pytest.mark.slow
@pytest.mark.parametrize("number", [1, 2])
def test_scored_units_are_measured_against_the_targets_they_registered(played, number):
    """Every unit of the play registered its targets at the plan cycle: each scored unit
    that reported its ratios is measured against them (n_targets = its ratios), not by
    rank, and the report says so for every kind."""
    _, results = played
    result = results[number]
    units = pd.read_parquet(result.output_dir / "data" / "units.parquet")
    scored = units[units["score"].notna() & (units["n_ratios"] > 0)]
    assert len(scored) and (scored["n_targets"] == scored["n_ratios"]).all()
    from docx import Document

    text = "\n".join(p.text for p in Document(result.files["docx"]).paragraphs)
    assert "theo thứ hạng các tỷ lệ so với các đơn vị cùng khối (" not in text
    assert text.count("so với chỉ tiêu đơn vị đã đăng ký (") == scored["kind"].nunique()


@pytest.mark.slow
def test_review_template_shows_the_played_years_and_the_report_the_units_texts(played):
    """After the play, TX-03's sơ kết template shows its accepted 2025 and 2026 figures
    (read-only); the sơ kết docx quotes the review texts every unit copied once."""
    import io

    from docx import Document
    from openpyxl import load_workbook

    from apps.synthetic import REVIEW_NARRATIVES
    from pipeline.templates import workbook

    ws, results = played
    cfg = ws.config
    accepted = _values(ws, ["nam-2025", "nam-2026"])
    mine = accepted[accepted["unit_code"] == UNDER]
    data = workbook(ws, cfg.unit(UNDER), cfg.cycle("so-ket-2027"))
    sheet = load_workbook(io.BytesIO(data))["ChiTieu"]
    col = {c.value: c.column - 1 for c in sheet[1]}
    for label, cycle_id in (("2025 (từ 21/08)", "nam-2025"), ("2026", "nam-2026")):
        shown = {r[0].value: r[col[label]].value for r in sheet.iter_rows(min_row=2)}
        sent = mine[mine["cycle_id"] == cycle_id].set_index("indicator_code")["value"]
        assert shown == sent.to_dict()
        assert all(r[col[label]].protection.locked for r in sheet.iter_rows(min_row=2))
    text = "\n".join(p.text for p in Document(results[1].files["docx"]).paragraphs)
    for key in ("uu_diem", "han_che", "nguyen_nhan", "bai_hoc", "phuong_huong"):
        assert text.count(REVIEW_NARRATIVES[key]) == 1, key
