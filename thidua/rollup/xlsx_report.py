"""The rollup workbook a clerk prints: TongHop, TheoKhoi, TheoDonVi, SangKien, KhenThuong,
ChuaNop.  Each sheet stacks titled tables; figures are numbers (not text) so they add up,
and every unit row carries the submission version it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from thidua import words
from thidua.rollup import contents as plan
from thidua.rollup import scoring
from thidua.rollup.model import (
    DRAFT_VI,
    STATUS_VI,
    TYPE_RULE_VI,
    criteria_groups,
    date_vi,
    number_vi,
    packaged_counts,
    ratio_names,
    year_label,
)

NONE_VI = "(không có)"  # an empty table


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    width: float = 12
    fmt: str = "text"  # text | int | dec | date


@dataclass(frozen=True)
class Section:
    title: str
    df: pd.DataFrame
    cols: tuple[Col, ...]
    empty: str = NONE_VI  # what an empty table says


def write(path: Path, tables: dict[str, pd.DataFrame], ctx: dict[str, Any]) -> Path:
    """The workbook sent with the report."""
    sheets = (_phase_sheets if ctx["kind"] == "phase" else _annual_sheets)(tables, ctx)
    return _write_book(path, sheets, ctx)


def write_worklist(path: Path, tables: dict[str, pd.DataFrame], ctx: dict[str, Any]) -> Path:
    """The officer's worklist of a phase: the review figures to verify with the units,
    a workbook of its own so that it never travels with the report."""
    sheet = (
        "ĐỐI CHIẾU SỐ LIỆU SƠ KẾT/TỔNG KẾT VỚI CÁC BÁO CÁO NĂM (DÀNH CHO CÁN BỘ THEO DÕI)",
        [
            Section(
                "Các số liệu cần xác minh với đơn vị",
                _review(tables["review_check"]),
                REVIEW_COLS,
            )
        ],
    )
    return _write_book(path, {"DoiChieu": sheet}, ctx)


def _write_book(path: Path, sheets: dict, ctx: dict[str, Any]) -> Path:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"remove_timezone": True, "nan_inf_to_errors": True})
    fmts = _formats(wb)
    cycle = ctx["cycle"]
    for name, (title, sections) in sheets.items():
        ws = wb.add_worksheet(name)
        _setup_page(ws)
        ncols = max(len(s.cols) for s in sections)
        for i in range(ncols):
            ws.set_column(
                i, i, max((s.cols[i].width for s in sections if i < len(s.cols)), default=10)
            )
        ws.merge_range(0, 0, 0, ncols - 1, title, fmts["title"])
        ws.merge_range(
            1,
            0,
            1,
            ncols - 1,
            f"{cycle.title} · số liệu từ {date_vi(cycle.period_start)} đến "
            f"{date_vi(cycle.period_end)} · {ctx['cfg'].settings.commune.authority}"
            f" · mã tổng hợp {ctx['rollup_id']}"
            + (f" · {DRAFT_VI}" if ctx["headline"].get("draft") else ""),
            fmts["subtitle"],
        )
        row = 3
        for section in sections:
            row = _write_section(ws, row, section, fmts) + 1
        ws.write(
            row,
            0,
            f"Nguồn: {ctx['headline']['sources']} bản báo cáo được tính "
            f"(danh sách: data/sources.csv, bảng rollup_sources).",
            fmts["note"],
        )
        ws.repeat_rows(0, 1)
    wb.close()
    return path


def _formats(wb: Any) -> dict:
    base = {"font_name": "Times New Roman", "font_size": 11, "border": 1, "valign": "vcenter"}
    return {
        "title": wb.add_format(
            {"font_name": "Times New Roman", "bold": True, "font_size": 14, "align": "center"}
        ),
        "subtitle": wb.add_format(
            {"font_name": "Times New Roman", "italic": True, "align": "center"}
        ),
        "section": wb.add_format({"font_name": "Times New Roman", "bold": True, "font_size": 12}),
        "note": wb.add_format({"font_name": "Times New Roman", "italic": True}),
        "header": wb.add_format(
            base | {"bold": True, "text_wrap": True, "align": "center", "bg_color": "#D9E1F2"}
        ),
        "text": wb.add_format(base | {"text_wrap": True}),
        "int": wb.add_format(base | {"num_format": "#,##0"}),
        "dec": wb.add_format(base | {"num_format": "#,##0.00"}),
        "date": wb.add_format(base | {"num_format": "dd/mm/yyyy hh:mm"}),
    }


def _setup_page(ws: Any) -> None:
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.6, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&CTrang &P/&N")


def _write_section(ws: Any, row: int, s: Section, fmts: dict) -> int:
    """Title, header, rows; returns the next free row.  Empty tables say so."""
    ws.write(row, 0, s.title, fmts["section"])
    row += 1
    for i, c in enumerate(s.cols):
        ws.write(row, i, c.header, fmts["header"])
    row += 1
    if s.df.empty:
        ws.write(row, 0, s.empty, fmts["note"])
        return row + 2
    for record in s.df.to_dict("records"):
        for i, c in enumerate(s.cols):
            _write_cell(ws, row, i, record.get(c.key), c.fmt, fmts)
        row += 1
    return row + 1


def _write_cell(ws: Any, row: int, col: int, value: Any, fmt: str, fmts: dict) -> None:
    if value is None or pd.isna(value):
        ws.write_blank(row, col, None, fmts[{"text": "text", "num": "dec"}.get(fmt, fmt)])
    elif fmt == "date":
        ws.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), fmts["date"])
    elif fmt == "num":  # counts as integers, other figures with decimals
        v = float(value)
        ws.write_number(row, col, v, fmts["int" if v == int(v) else "dec"])
    elif fmt in ("int", "dec"):
        ws.write_number(row, col, float(value), fmts[fmt])
    else:
        ws.write_string(row, col, str(value), fmts["text"])


# -- what each sheet holds ------------------------------------------------------------

COMPLETENESS_COLS = (
    Col("label", "Nhóm", 34),
    Col("expected", words.HEADER["expected"], 10, "int"),
    Col("submitted", words.HEADER["submitted"], 10, "int"),
    Col("on_time", words.HEADER["on_time"], 10, "int"),
    Col("late", words.HEADER["late"], 10, "int"),
    Col("missing", words.HEADER["missing"], 10, "int"),
    Col("reporting_rate", words.HEADER["reporting_rate"], 12, "dec"),
    Col("on_time_rate", words.HEADER["on_time_rate"], 12, "dec"),
)
INDICATOR_COLS = (
    Col("indicator_code", "Mã", 8),
    Col("name_vi", "Chỉ tiêu", 50),
    Col("unit_vi", "Đơn vị tính", 12),
    Col("expected", "Số đơn vị phải báo cáo", 12, "int"),
    Col("n_units", "Số đơn vị đã báo cáo", 12, "int"),
    Col("total", "Tổng hợp", 14, "num"),
    Col("rule", "Cách tổng hợp", 24),
)
RATIO_COLS = (
    Col("ratio", "Mã", 8),
    Col("name_vi", "Tỷ lệ", 50),
    Col("formula", "Công thức", 12),
    Col("n_units", "Số đơn vị", 12, "int"),
    Col("numerator", "Tử số", 12, "num"),
    Col("denominator", "Mẫu số", 12, "num"),
    Col("pct", "Tỷ lệ (%)", 12, "dec"),
    Col("population_vi", "Tính trên", 30),
)
UNIT_ID_COLS = (
    Col("block_vi", "Khối thi đua", 22),
    Col("rank_in_block", "Xếp hạng trong khối", 10, "int"),
    Col("code", "Mã đơn vị", 12),
    Col("name", "Tên đơn vị", 34),
    Col("status_vi", "Tình trạng", 12),
)
SCORE_COLS = (
    Col("score_time", "Điểm đúng hạn", 10, "dec"),
    Col("score_quality", "Điểm chất lượng số liệu", 10, "dec"),
    Col("score_performance", "Điểm kết quả thực hiện", 10, "dec"),
    Col("score", "Tổng điểm", 10, "dec"),
)
# how the performance part was measured: against registered targets, or by rank
METHOD_COL = Col("score_method_vi", "Kết quả thực hiện tính", 24)
VERSION_COLS = (
    Col("version", "Phiên bản báo cáo", 9, "int"),
    Col("received_at", "Thời điểm nhận", 17, "date"),
    Col("n_warnings", "Số cảnh báo", 9, "int"),
    Col("submission_id", "Mã bản báo cáo (sha256)", 30),
)
MISSING_COLS = (
    Col("code", "Mã đơn vị", 12),
    Col("name", "Tên đơn vị", 40),
    Col("kind_vi", "Loại đơn vị", 30),
    Col("block_vi", "Khối thi đua", 24),
    Col("status_vi", "Tình trạng", 12),
    Col("version", "Phiên bản", 9, "int"),
    Col("received_at", "Thời điểm nhận", 17, "date"),
)
INITIATIVE_COLS = (
    Col("code", "Mã đơn vị", 12),
    Col("name", "Đơn vị", 30),
    Col("row_no", "STT", 6, "int"),
    Col("title", "Tên sáng kiến, giải pháp", 40),
    Col("author", "Tác giả", 20),
    Col("field", "Lĩnh vực", 16),
    Col("applied_on", "Ngày áp dụng", 12),
    Col("effect", "Hiệu quả", 30),
    Col("recognition", "Cấp công nhận", 14),
    Col("version", "Phiên bản", 9, "int"),
    Col("cell", "Ô nguồn", 12),
)
TALLY_COLS = (
    Col("reward_form", "Mã hình thức", 20),
    Col("form_vi", "Hình thức khen thưởng", 44),
    Col("authority_vi", "Thẩm quyền, tuyến trình", 44),
    Col("collectives", "Tập thể", 10, "int"),
    Col("individuals", "Cá nhân", 10, "int"),
    Col("households", "Hộ gia đình", 10, "int"),
    Col("total", "Tổng", 10, "int"),
)
PROPOSAL_COLS = (
    Col("form_vi", "Hình thức", 30),
    Col("authority_vi", "Thẩm quyền, tuyến trình", 36),
    Col("code", "Mã đơn vị", 12),
    Col("unit_name", "Đơn vị đề nghị", 26),
    Col("subject_type", "Đối tượng", 12),
    Col("name", "Họ tên hoặc tên tập thể", 26),
    Col("position", "Chức vụ, đơn vị", 22),
    Col("summary", "Thành tích tóm tắt", 40),
    Col("version", "Phiên bản", 9, "int"),
    Col("cell", "Ô nguồn", 14),
)


def _labels(df: pd.DataFrame, ctx: dict) -> pd.DataFrame:
    """Vietnamese labels next to the codes: kinds, blocks, statuses, reward forms; times in
    local time (Asia/Ho_Chi_Minh), as the clerk reads them."""
    s = ctx["cfg"].settings
    df = df.copy()
    if "received_at" in df:
        df["received_at"] = (
            pd.to_datetime(df["received_at"], utc=True)
            .dt.tz_convert(s.calendar.timezone)
            .dt.tz_localize(None)
        )
    if "kind" in df:
        df["kind_vi"] = df["kind"].map(s.kinds)
    if "block" in df:
        df["block_vi"] = df["block"].map(s.blocks)
    if "status" in df:
        df["status_vi"] = df["status"].map(STATUS_VI)
    if "reward_form" in df:
        df["form_vi"] = df["reward_form"].map(ctx["cfg"].reward_forms)
        df["authority"] = df["reward_form"].map(ctx["cfg"].reward_authority)
        rules = ctx["cfg"].reward_rules
        df["authority_vi"] = df["reward_form"].map({c: r.decided_by for c, r in rules.items()})
        df = df.sort_values("reward_form", key=lambda c: c.map(ctx["cfg"].form_rank), kind="stable")
    return df


def _completeness(df: pd.DataFrame, ctx: dict, levels: tuple[str, ...]) -> pd.DataFrame:
    s = ctx["cfg"].settings
    whole = s.tier.whole.capitalize()
    names = {"commune": {"": f"{whole} ({s.commune.name})"}, "kind": s.kinds, "block": s.blocks}
    df = df[df["level"].isin(levels)].copy()
    df["label"] = [names[lv].get(g, g) for lv, g in zip(df["level"], df["grp"])]
    return df


def _ratio_cols(ctx: dict, width: int) -> tuple[Col, ...]:
    """One column per derived ratio of the config (`[rollup] ratios`)."""
    return tuple(
        Col(r.key, f"{r.name_vi} (%)", width, "dec") for r in ctx["cfg"].settings.rollup.ratios
    )


def _indicators(df: pd.DataFrame, ctx: dict) -> pd.DataFrame:
    weight = ctx["cfg"].settings.rollup.weight
    df = df.copy()
    df["rule"] = df["type"].map({k: v.format(weight=weight) for k, v in TYPE_RULE_VI.items()})
    return df


def _ratios(df: pd.DataFrame, ctx: dict) -> pd.DataFrame:
    ratios = ctx["cfg"].settings.rollup.ratios
    df = df.copy()
    df["name_vi"] = df["ratio"].map(ratio_names(ctx["cfg"]))
    df["formula"] = df["ratio"].map({r.key: f"{r.numerator}/{r.denominator}" for r in ratios})
    kinds = ctx["cfg"].settings.kinds
    df["population_vi"] = df["ratio"].map(
        {r.key: kinds.get(r.population, r.population) for r in ratios}
    )
    return df


def _units(tables: dict, ctx: dict) -> pd.DataFrame:
    wide = tables["unit_ratios"].pivot(index="code", columns="ratio", values="pct")
    units = tables["units"].merge(wide, how="left", left_on="code", right_index=True)
    for r in ctx["cfg"].settings.rollup.ratios:
        if r.key not in units:
            units[r.key] = None
    units["score_method_vi"] = [
        scoring.method_vi(t, n) if pd.notna(sc) else None
        for t, n, sc in zip(units["n_targets"], units["n_ratios"], units["score"], strict=True)
    ]
    return _labels(units, ctx)


def _block_ratios(tables: dict, ctx: dict) -> tuple[pd.DataFrame, tuple[Col, ...]]:
    r = tables["ratios"]
    wide = r[r["level"] == "block"].pivot(index="grp", columns="ratio", values="pct")
    wide = wide.reset_index().rename(columns={"grp": "block"})
    cols = (Col("block_vi", "Khối thi đua", 34), *_ratio_cols(ctx, 14))
    return _labels(wide, ctx), cols


def _common_sheets(tables: dict, ctx: dict) -> dict[str, tuple[str, list[Section]]]:
    units = _units(tables, ctx)
    missing = _labels(tables["missing"], ctx)
    block_ratios, block_ratio_cols = _block_ratios(tables, ctx)
    ranking_cols = (*UNIT_ID_COLS, *SCORE_COLS, METHOD_COL)
    return {
        "TheoKhoi": (
            "TỔNG HỢP THEO KHỐI THI ĐUA",
            [
                Section(
                    "I. Tình hình nộp báo cáo theo khối",
                    _completeness(tables["completeness"], ctx, ("block",)),
                    COMPLETENESS_COLS,
                ),
                Section("II. Các tỷ lệ chính theo khối", block_ratios, block_ratio_cols),
                Section(
                    "III. Điểm tiêu chí thực hiện Phong trào, thành phần bảng chấm điểm khối "
                    "(đúng hạn 20, chất lượng số liệu 10, "
                    "kết quả thực hiện 70)",
                    units,
                    ranking_cols,
                ),
            ],
        ),
        "TheoDonVi": (
            "TỔNG HỢP THEO ĐƠN VỊ",
            [
                Section(
                    "Tình trạng báo cáo, các tỷ lệ, điểm và bản báo cáo được tính",
                    units,
                    UNIT_ID_COLS + _ratio_cols(ctx, 12) + SCORE_COLS + VERSION_COLS + (METHOD_COL,),
                )
            ],
        ),
        "SangKien": (
            "SÁNG KIẾN, GIẢI PHÁP ĐỔI MỚI SÁNG TẠO, CHUYỂN ĐỔI SỐ",
            [
                Section(
                    "Danh sách sáng kiến do các đơn vị báo cáo",
                    tables["initiatives"],
                    INITIATIVE_COLS,
                    _no_initiatives(tables, ctx),
                )
            ],
        ),
        "KhenThuong": _awards_sheet(tables, ctx),
        "ChuaNop": (
            "ĐƠN VỊ CHƯA NỘP HOẶC NỘP MUỘN",
            [
                Section("Chưa nộp", missing[missing["status"] == "missing"], MISSING_COLS),
                Section("Nộp muộn", missing[missing["status"] == "late"], MISSING_COLS),
            ],
        ),
    }


def _no_initiatives(tables: dict, ctx: dict) -> str:
    """What an empty list of initiatives says: at a tier fed by packages, that the units
    sent their number, not the list."""
    counts = packaged_counts(tables, ctx["cfg"].settings)
    if counts is None:
        return NONE_VI
    noun = ctx["cfg"].settings.tier.unit_noun
    return (
        f"(các {noun} gửi số sáng kiến, giải pháp, không gửi danh sách: tổng cộng "
        f"{number_vi(counts[0])}; danh sách ở báo cáo của từng {noun})"
    )


def _awards_sheet(tables: dict, ctx: dict) -> tuple[str, list[Section]]:
    """The proposals the council approved: the chairman's own authority first, then those
    proposed upward, each highest form first (plan III.2.b)."""
    tally = _labels(tables["proposal_tally"], ctx)
    proposals = _labels(tables["proposals"], ctx)
    if len(proposals):
        proposals = proposals.sort_values(
            ["authority", "reward_form", "code", "row_no"],
            key=lambda c: (
                c.map({"xa": 0}).fillna(1)
                if c.name == "authority"
                else c.map(ctx["cfg"].form_rank)
                if c.name == "reward_form"
                else c
            ),
            kind="stable",
        )
    tier = ctx["cfg"].settings.tier
    return (
        "ĐỀ NGHỊ KHEN THƯỞNG",
        [
            Section(
                f"I. Khen thưởng theo thẩm quyền của Chủ tịch {tier.authority}",
                tally[tally["authority"] == "xa"],
                TALLY_COLS,
            ),
            Section(
                "II. Đề nghị cấp trên khen thưởng",
                tally[tally["authority"] != "xa"],
                TALLY_COLS,
            ),
            Section(
                f"III. Danh sách được {tier.council} đồng ý "
                "(theo thẩm quyền trước, đề nghị cấp trên sau)",
                proposals,
                PROPOSAL_COLS,
            ),
        ],
    )


REVIEW_COLS = (
    Col("code", "Mã đơn vị", 12),
    Col("name", "Tên đơn vị", 30),
    Col("indicator_code", "Mã chỉ tiêu", 8),
    Col("name_vi", "Chỉ tiêu", 40),
    Col("review", "Số liệu sơ kết/tổng kết", 14, "num"),
    Col("annual", "Theo các báo cáo năm", 14, "num"),
    Col("population", "Đối tượng (tử số không vượt quá)", 14, "num"),
    Col("n_years", "Số năm", 8, "int"),
    Col("finding_vi", "Cần xác minh", 40),
)
FINDINGS_VI = {
    "below_annual": "Số cộng dồn đến thời điểm chốt thấp hơn tổng các báo cáo năm",
    "decrease": "Số lũy kế giảm so với báo cáo năm gần nhất",
    "above_population": "Vượt quá số đối tượng của đơn vị",
}


def _review(df: pd.DataFrame) -> pd.DataFrame:
    """The officer's worklist: the flagged rows of the cross-check (the full table, with
    the change of each rate in percentage points, is data/review_check)."""
    df = df[df["flagged"].astype(bool)].copy()
    df["finding_vi"] = df["finding"].map(FINDINGS_VI)
    return df


PLAN_COLS = (
    Col("code", "Mã đơn vị", 12),
    Col("name", "Tên đơn vị", 40),
    Col("block_vi", "Khối thi đua", 24),
    Col("issued_vi", "Kế hoạch", 20),
    Col("received_at", "Thời điểm nhận", 17, "date"),
)


def _indicator_groups(tables: dict, ctx: dict) -> list[Section]:
    """The indicator totals per criteria group of the plan (III.1 a–d), in the plan's
    order, each over the units of one kind: no total mixes populations."""
    by_kind = _indicators(tables["indicators_by_kind"], ctx)
    position = {i.code: n for n, i in enumerate(ctx["cfg"].indicators)}  # indicators.csv
    by_kind = by_kind.iloc[by_kind["indicator_code"].map(position).argsort(kind="stable")]
    kinds = set(by_kind["kind"])
    return [
        Section(
            f"II.{n}. Kết quả các chỉ tiêu – {heading}",
            by_kind[by_kind["kind"] == kind],
            INDICATOR_COLS,
        )
        for n, (kind, heading) in enumerate(
            [g for g in criteria_groups(ctx["cfg"].settings.kinds) if g[0] in kinds], 1
        )
    ]


def _plans(tables: dict, ctx: dict) -> pd.DataFrame:
    plans = _labels(tables["plans"], ctx)
    documented = plans["documented"].fillna(False).astype(bool)
    plans["issued_vi"] = [
        "Đã ban hành kế hoạch (có văn bản)" if d else "Mới đăng ký chỉ tiêu" if i else "Chưa"
        for i, d in zip(plans["issued"].astype(bool), documented, strict=True)
    ]
    return plans.sort_values("issued", kind="stable")


def _annual_sheets(tables: dict, ctx: dict) -> dict[str, tuple[str, list[Section]]]:
    ratios = tables["ratios"]
    return {
        "TongHop": (
            f"BÁO CÁO TỔNG HỢP KẾT QUẢ NĂM {ctx['cycle'].year}",
            [
                Section(
                    "I. Tình hình nộp báo cáo (tỷ lệ trên số đơn vị phải nộp)",
                    _completeness(tables["completeness"], ctx, ("commune", "kind")),
                    COMPLETENESS_COLS,
                ),
                *_indicator_groups(tables, ctx),
                Section(
                    "III. Các tỷ lệ chính (mỗi tỷ lệ tính trên một loại đơn vị, chỉ các đơn "
                    "vị báo cáo tử số)",
                    _ratios(ratios[ratios["level"] == "commune"], ctx),
                    RATIO_COLS,
                ),
                *(
                    [
                        Section(
                            "IV. Xây dựng, ban hành kế hoạch thực hiện Phong trào thi đua",
                            _plans(tables, ctx),
                            PLAN_COLS,
                        )
                    ]
                    if len(tables["plans"])  # no plan cycle (the province): no section
                    else []
                ),
            ],
        ),
        **_common_sheets(tables, ctx),
    }


ACHIEVEMENT_COLS = (
    Col("annual", "Cộng các báo cáo năm (mức năm cuối với số lũy kế, tỷ lệ)", 14, "dec"),
    Col("review", "Số liệu đơn vị báo cáo đến thời điểm chốt", 14, "num"),
    Col("review_units", "Số đơn vị báo cáo", 10, "int"),
    Col("achieved", "Kết quả đạt được", 13, "num"),
    Col("target", "Chỉ tiêu đăng ký", 13, "dec"),
    Col("achieved_pct", "Đạt so với chỉ tiêu (%)", 12, "dec"),
)
UNIT_ACHIEVEMENT_COLS = (
    Col("code", "Mã đơn vị", 12),
    Col("name", "Tên đơn vị", 30),
    Col("indicator_code", "Mã chỉ tiêu", 8),
    Col("name_vi", "Chỉ tiêu", 40),
    Col("achieved", "Kết quả đạt được", 13, "num"),
    Col("target", "Chỉ tiêu đăng ký", 13, "dec"),
    Col("achieved_pct", "Đạt so với chỉ tiêu (%)", 12, "dec"),
)


def _phase_groups(tables: dict, ctx: dict) -> list[Section]:
    """Per criteria group (one kind, one population): each year, their fold, the review
    and the targets."""
    ach = tables["achievement"]
    labels = {c.year: year_label(c) for c in ctx["years"]}
    content = map(plan.content_label, ach["indicator_code"], ach["name_vi"])
    ach = ach.assign(content=list(content))
    cols = (
        Col("indicator_code", "Mã", 8),
        Col("content", "Nội dung (mục II Kế hoạch)", 12),
        Col("name_vi", "Chỉ tiêu", 44),
        Col("unit_vi", "Đơn vị tính", 10),
        *(Col(f"y{y}", f"Năm {v}", 12, "dec") for y, v in labels.items()),
        *ACHIEVEMENT_COLS,
    )
    kinds = set(ach["kind"])
    groups = [g for g in criteria_groups(ctx["cfg"].settings.kinds) if g[0] in kinds]
    return [
        Section(f"II.{n}. Kết quả các chỉ tiêu – {heading}", ach[ach["kind"] == kind], cols)
        for n, (kind, heading) in enumerate(groups, 1)
    ]


def _yearly_ratios(tables: dict, ctx: dict) -> Section:
    labels = {c.year: year_label(c) for c in ctx["years"]}
    yr = tables["yearly_ratios"].pivot(index="ratio", columns="year", values="pct")
    yr.columns = [f"y{y}" for y in yr.columns]
    yr = _ratios(yr.reset_index(), ctx)
    return Section(
        "III. Các tỷ lệ chính từng năm (%), mỗi tỷ lệ trên một đối tượng",
        yr,
        (
            Col("name_vi", "Tỷ lệ", 44),
            Col("population_vi", "Đối tượng", 30),
            *(Col(f"y{y}", f"Năm {v}", 12, "dec") for y, v in labels.items()),
        ),
    )


def _yearly_completeness(tables: dict, ctx: dict) -> Section:
    years = [c.year for c in ctx["years"]]
    yc = tables["yearly_completeness"]
    ycw = yc.pivot_table(
        index=["level", "grp"], columns="year", values=["reporting_rate", "on_time_rate"]
    ).reset_index()
    ycw.columns = ["level", "grp", *(f"{m}_{y}" for m, y in ycw.columns[2:])]
    cols = (
        Col("label", "Nhóm", 34),
        *(
            c
            for y in years
            for c in (
                Col(f"reporting_rate_{y}", f"Tỷ lệ nộp {y} (%)", 11, "dec"),
                Col(f"on_time_rate_{y}", f"Đúng hạn {y} (%)", 11, "dec"),
            )
        ),
    )
    return Section(
        "Tỷ lệ nộp và đúng hạn từng năm", _completeness(ycw, ctx, ("commune", "block")), cols
    )


def _phase_sheets(tables: dict, ctx: dict) -> dict[str, tuple[str, list[Section]]]:
    sheets = _common_sheets(tables, ctx)
    title, sections = sheets["TheoKhoi"]
    sheets["TheoKhoi"] = (title, [_yearly_completeness(tables, ctx), *sections])
    title, sections = sheets["TheoDonVi"]
    unit_ach = tables["unit_achievement"]
    inds = {i.code: i for i in ctx["cfg"].indicators}
    unit_ach = unit_ach[unit_ach["indicator_code"].isin([c for c, i in inds.items() if i.target])]
    unit_ach = unit_ach.assign(name_vi=unit_ach["indicator_code"].map(lambda c: inds[c].name_vi))
    sheets["TheoDonVi"] = (
        title,
        [
            *sections,
            Section("Kết quả so với chỉ tiêu đơn vị đã đăng ký", unit_ach, UNIT_ACHIEVEMENT_COLS),
        ],
    )
    return {
        "TongHop": (
            f"BÁO CÁO TỔNG HỢP KẾT QUẢ {ctx['cycle'].title.upper()}",
            [
                Section(
                    "I. Tình hình nộp báo cáo sơ kết/tổng kết",
                    _completeness(tables["completeness"], ctx, ("commune", "kind")),
                    COMPLETENESS_COLS,
                ),
                *_phase_groups(tables, ctx),
                _yearly_ratios(tables, ctx),
            ],
        ),
        **sheets,
    }
