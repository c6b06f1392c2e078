"""The report to Sở Nội vụ as a docx in the layout of Decree 30/2020/NĐ-CP
(see docs: /spec/document-layout.md): header table, tên loại, trích yếu, kính gửi,
body with the key figures and tables, nơi nhận and signature block."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from thidua import layout
from thidua.calendar import format_date_vi
from thidua.config import Config, Cycle
from thidua.rollup import contents as plan
from thidua.rollup import scoring
from thidua.rollup.model import (
    DRAFT_VI,
    INDIVIDUALS_GROUP,
    criteria_groups,
    date_line_vi,
    date_vi,
    number_vi,
    packaged_counts,
    percent_vi,
    period_of,
    ratio_names,
    year_label,
)
from thidua.settings import Settings

Tables = dict[str, pd.DataFrame]

FONT = "Times New Roman"
MOVEMENTS = (
    "Phong trào thi đua \u201cCả nước thi đua đổi mới sáng tạo và chuyển đổi số\u201d "
    "và Phong trào thi đua \u201cBình dân học vụ số\u201d"
)
LEGAL_BASES = (
    "Căn cứ Luật Thi đua, khen thưởng số 06/2022/QH15 ngày 15 tháng 6 năm 2022 của Quốc hội;",
    (
        "Căn cứ Nghị định số 152/2025/NĐ-CP của Chính phủ quy định chi tiết một số điều của "
        "Luật Thi đua, khen thưởng;"
    ),
)
MAX_LISTED = 12  # units' narratives and initiatives quoted per section
NARRATIVE = {
    "tom_tat": "Kết quả nổi bật",
    "mo_hinh": "Mô hình, cách làm hay",
    "kho_khan": "Khó khăn, vướng mắc",
    "de_xuat": "Đề xuất, kiến nghị",
}
# The figures a group's sentence quotes, when the group reports them (flows first).
HEADLINE_CODES = (
    "TT01",
    "TT02",
    "BD01",
    "BD02",
    "HC01",
    "HC02",
    "DL01",
    "MT01",
    "MT02",
    "DN03",
    "DN04",
    "TX02",
    "TX04",
    "AN01",
)


DIRECTIONS = (
    (
        "Tiếp tục đẩy mạnh tuyên truyền, phổ biến kiến thức số, kỹ năng số cho cán bộ, công "
        "chức, viên chức và Nhân dân; duy trì phong trào \u201cBình dân học vụ số\u201d thường "
        "xuyên, liên tục."
    ),
    (
        "Đôn đốc các {unit_noun} chưa ban hành kế hoạch, chưa nộp hoặc nộp báo cáo muộn; nâng "
        "cao "
        "chất lượng số liệu báo cáo."
    ),
    (
        "Kịp thời phát hiện, biểu dương, khen thưởng và nhân rộng các mô hình, cách làm hay, "
        "các tập thể, cá nhân tiêu biểu trong Phong trào thi đua."
    ),
)


DIRECTIONS_WHEN = {
    "so_ket": " giai đoạn 2 (2028 - 2030)",
    "tong_ket": " thời gian tới",
}
# The phase review's own sections (plan VI.3), each an editable paragraph: the officer
# writes the assessment in reports/<cycle>/sua-doan-van.yaml; these are the defaults
# (DIRECTIONS and LESSONS name the tier's units: `_tier_text`).
LESSONS = (
    (
        "Sự lãnh đạo, chỉ đạo sát sao của cấp ủy, chính quyền và sự vào cuộc của người đứng "
        "đầu {members} là yếu tố quyết định kết quả Phong trào thi đua."
    ),
    (
        "Gắn Phong trào thi đua với nhiệm vụ chính trị của từng {unit_noun}; chỉ tiêu cụ thể, "
        "theo dõi, đôn đốc thường xuyên và số liệu báo cáo định kỳ, minh bạch."
    ),
    (
        "Kịp thời phát hiện, biểu dương, nhân rộng các mô hình, cách làm hay và khen thưởng "
        "đúng người, đúng việc."
    ),
)


# One sentence saying which versions the figures count ([web] rollup_counts)
COUNTS_VI = {
    "accepted": "Số liệu tổng hợp tính theo bản báo cáo hợp lệ mới nhất của mỗi {unit_noun}.",
    "approved": "Số liệu tổng hợp chỉ tính các bản báo cáo đã được {lead_office} "
    "duyệt (bản được duyệt mới nhất của mỗi {unit_noun}).",
}


def _tier_text(text: str, s: Settings) -> str:
    """A default text with the tier's words (`[tier]`) put in: {unit_noun}, {members}…"""
    t = s.tier
    return text.format(
        level=t.level,
        lead_office=t.lead_office,
        unit_noun=t.unit_noun,
        members=t.members,
        whole=t.whole,
    )


def write(
    path: Path, tables: dict[str, pd.DataFrame], ctx: dict[str, Any], charts: dict[str, Path]
) -> Path:
    """The report in the plan's structure (plan VI.1, VI.3): I. organisation, II. results
    by criteria group, III. model practices, IV. commendations (within the chairman's
    authority / proposed upward), V. difficulties, VI. directions and proposals."""
    cfg, cycle, h = ctx["cfg"], ctx["cycle"], ctx["headline"]
    s = cfg.settings
    doc = Document()
    _page(doc)
    _header(doc, s, ctx["today"])
    if h.get("draft"):
        _draft_mark(doc)
    _para(doc, "BÁO CÁO", bold=True, size=14, align="center", space_before=12, space_after=0)
    subject = _subject(ctx)
    _para(doc, subject, bold=True, size=14, align="center", space_after=0)
    _rule(doc, short=True)
    _para(doc, f"Kính gửi: {s.province_office.name}", size=14, align="center", space_after=12)
    for basis in (
        *LEGAL_BASES,
        (
            f"Căn cứ {s.commune.plan_ref} của {s.commune.authority_short} "
            f"triển khai thực hiện {MOVEMENTS} trên địa bàn {s.tier.level};"
        ),
    ):
        _para(doc, basis, italic=True, indent=True)
    _para(doc, f"{s.commune.authority} báo cáo {_period(cycle)} như sau:", indent=True)
    _para(doc, period_sentence(cycle, s.tier.unit_noun), italic=True, indent=True)

    _para(doc, _tier_text(COUNTS_VI[h.get("counts", "accepted")], s), italic=True, indent=True)
    _section_organisation(doc, tables, ctx, charts)
    _section_results(doc, tables, ctx, charts)
    _section_models(doc, tables, ctx)
    _section_awards(doc, tables, ctx)
    if ctx["kind"] == "phase":
        _section_assessment(doc, tables, ctx)
        _section_lessons(doc, tables, ctx)
        _section_directions(doc, tables, ctx, "VII.")
    else:
        _section_difficulties(doc, tables, ctx)
        _section_directions(doc, tables, ctx, "VI.")
    _para(
        doc,
        f"Trên đây là báo cáo {_period(cycle)} của {s.commune.authority}, "
        f"kính gửi {s.province_office.name} tổng hợp./.",
        indent=True,
    )
    if not h["accepted_in_cycle"]:
        _para(
            doc,
            f"(Chưa có báo cáo nào của {s.tier.unit_noun} được tiếp nhận trong kỳ.)",
            italic=True,
            indent=True,
        )
    _closing(doc, s, report_recipients(s))
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def _subject(ctx: dict[str, Any]) -> str:
    """The trích yếu: the annual result, or the sơ kết / tổng kết of a phase of the plan."""
    cycle = ctx["cycle"]
    if cycle.kind == "so_ket":
        first = period_of(cycle)[0].year
        return f"Sơ kết giai đoạn {cycle.phase} ({first} - {cycle.year}) thực hiện {MOVEMENTS}"
    if cycle.kind == "tong_ket":
        return f"Tổng kết {MOVEMENTS} giai đoạn {period_of(cycle)[0].year} - {cycle.year}"
    return f"Kết quả thực hiện {MOVEMENTS} năm {cycle.year}"


def _period(cycle: Cycle) -> str:
    """What the body says it reports on, short: the movements are named in the title."""
    if cycle.kind == "so_ket":
        return f"kết quả sơ kết giai đoạn {cycle.phase} ({period_of(cycle)[0].year} - {cycle.year})"
    if cycle.kind == "tong_ket":
        return f"kết quả tổng kết giai đoạn {period_of(cycle)[0].year} - {cycle.year}"
    return f"kết quả thực hiện năm {cycle.year}"


def _draft_mark(doc: Any) -> None:
    """ "DỰ THẢO – số liệu tạm tính" on every page: in both page headers and under the
    national header of page 1."""
    sec = doc.sections[0]
    for header in (sec.header, sec.first_page_header):
        _para(header, DRAFT_VI, bold=True, size=12, align="center", space_after=0)
    _para(doc, DRAFT_VI, bold=True, size=14, align="center", space_after=0)


def period_sentence(cycle: Cycle, noun: str) -> str:
    """The data period and cut-off, as the body states them."""
    return (
        f"Số liệu tính từ ngày {date_vi(period_of(cycle)[0])} đến ngày "
        f"{date_vi(period_of(cycle)[1])}; hạn gửi báo cáo của các {noun}: ngày "
        f"{date_vi(cycle.due)}."
    )


def period_range(cycle: Cycle) -> str:
    """ "21/08/2025 – 14/12/2025": the data period as the charts and their captions say it."""
    return f"{date_vi(period_of(cycle)[0])} – {date_vi(period_of(cycle)[1])}"


def _figure(doc: Any, path: Path, caption: str) -> None:
    """A chart, centred, numbered and captioned below ("Hình 1. …")."""
    doc.add_picture(str(path), width=Cm(15))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, f"Hình {len(doc.inline_shapes)}. {caption}", italic=True, size=12, align="center")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _names(df: pd.DataFrame) -> str:
    return "; ".join(df["name"])


def _section_organisation(
    doc: Any, tables: Tables, ctx: dict[str, Any], charts: dict[str, Path]
) -> None:
    h, s = ctx["headline"], ctx["cfg"].settings
    _heading(doc, "I. CÔNG TÁC CHỈ ĐẠO, TỔ CHỨC TRIỂN KHAI")
    generated = (
        f"{s.commune.authority} ban hành {s.commune.plan_ref} triển khai thực hiện "
        f"{MOVEMENTS} trên địa bàn {s.tier.level}; giao {s.tier.lead_office} hướng dẫn, "
        f"đôn đốc {s.tier.members} xây dựng kế hoạch, đăng ký chỉ tiêu và báo cáo kết quả "
        "định kỳ."
    )
    _para(doc, ctx["texts"].text("chi_dao", generated), indent=True)
    plans = tables.get("plans", pd.DataFrame(columns=["issued", "name"]))
    if len(plans):
        _para(doc, _plans_sentence(plans, s), indent=True)
    _para(
        doc,
        f"Về báo cáo kết quả: số {s.tier.unit_noun} phải báo cáo {h['expected']}; đã nộp "
        f"{h['submitted']} (tỷ lệ {number_vi(h['reporting_rate'])}%); nộp đúng hạn "
        f"{h['on_time']} (tỷ lệ {number_vi(h['on_time_rate'])}%); nộp muộn: {h['late']}; "
        f"chưa nộp: {h['missing']}.",
        indent=True,
    )
    comp = tables["completeness"]
    _invited(doc, comp[comp["level"] == "kind"].set_index("grp"), s)
    comp = comp[comp["level"] == "block"]
    _table(
        doc,
        ["Khối thi đua", "Phải nộp", "Đã nộp", "Đúng hạn", "Tỷ lệ nộp (%)", "Tỷ lệ đúng hạn (%)"],
        [
            [
                s.blocks.get(r.grp, r.grp),
                r.expected,
                r.submitted,
                r.on_time,
                number_vi(r.reporting_rate),
                number_vi(r.on_time_rate),
            ]
            for r in comp.itertuples()
        ],
        (4.6, 2.0, 2.0, 2.2, 2.4, 2.8),
    )
    if "completeness" in charts:
        _figure(
            doc,
            charts["completeness"],
            f"Tỷ lệ nộp báo cáo theo khối thi đua ({period_range(ctx['cycle'])})",
        )


def _plans_sentence(plans: pd.DataFrame, s: Settings) -> str:
    """Issued (the plan document came), only targets registered (a workbook without
    its document), or nothing yet."""
    noun = s.tier.unit_noun
    issued = plans["issued"].astype(bool)
    documented = issued & plans.get("documented", issued).fillna(False).astype(bool)
    targets_only, missing = plans[issued & ~documented], plans[~issued]
    text = (
        f"Trong {len(plans)} {s.tier.members.removeprefix('các ')}: "
        f"{int(documented.sum())} {noun} đã ban hành kế hoạch thực hiện Phong trào thi đua "
        f"(có văn bản) và đăng ký chỉ tiêu; {len(targets_only)} {noun} mới đăng ký chỉ tiêu"
    )
    text += _listed(targets_only) + f"; {len(missing)} {noun} chưa đăng ký"
    return text + _listed(missing) + "."


def _listed(units: pd.DataFrame) -> str:
    """ " (Thôn 2; Thôn 5)": the units named when a few, else pointed to the xlsx."""
    if not len(units):
        return ""
    if len(units) > MAX_LISTED:
        return " (danh sách tại bảng tổng hợp kèm theo)"
    return f" ({_names(units)})"


def _invited(doc: Any, kinds: pd.DataFrame, s: Settings) -> None:
    """The kinds the plan only invites, as participation (out of the commune's rates)."""
    for kind in s.rollup.invited_kinds:
        if kind in kinds.index and kinds.loc[kind, "expected"]:
            name = _lower_first(s.kinds.get(kind, kind))
            _para(
                doc,
                f"Các {name} được mời tham gia Phong trào: {kinds.loc[kind, 'submitted']}/"
                f"{kinds.loc[kind, 'expected']} {name} tham gia báo cáo (không tính vào tỷ lệ "
                f"nộp báo cáo của {s.tier.level} nêu trên).",
                indent=True,
            )


def _group_sentence(rows: pd.DataFrame, ratios: pd.DataFrame, expected: int, noun: str) -> str:
    """One generated sentence: who reported, the headline figures, the group's ratios."""
    reported = int(rows["n_units"].max()) if len(rows) else 0
    parts = []
    for code in HEADLINE_CODES:
        r = rows[rows["indicator_code"] == code]
        if len(r) and pd.notna(r["total"].iloc[0]):
            parts.append(
                f"{_lower_first(r['name_vi'].iloc[0])}: "
                f"{number_vi(r['total'].iloc[0])} {r['unit_vi'].iloc[0]}"
            )
        if len(parts) == 3:
            break
    text = f"{reported}/{expected} {noun} báo cáo số liệu"
    if parts:
        text += "; " + "; ".join(parts)
    for r in ratios.itertuples():
        text += f"; {_ratio_vi(r)}"
    return text + "."


def _ratio_vi(r: Any) -> str:
    """ "tỷ lệ … đạt 65,5% (trên tổng số nhân khẩu từ 15 tuổi trở lên)": a ratio with its base."""
    return f"{_lower_first(r.name_vi)} đạt {percent_vi(r.pct)} ({r.base})"


def _section_results(
    doc: Any, tables: Tables, ctx: dict[str, Any], charts: dict[str, Path]
) -> None:
    cfg = ctx["cfg"]
    s = cfg.settings
    _heading(doc, "II. KẾT QUẢ THỰC HIỆN")
    by_kind = tables["indicators_by_kind"]
    ratios = tables["ratios"]
    ratios = ratios[ratios["level"] == "commune"].copy()
    ratios["population"] = ratios["ratio"].map({r.key: r.population for r in s.rollup.ratios})
    ratios["name_vi"] = ratios["ratio"].map(ratio_names(cfg))
    ratios["base"] = [
        plan.ratio_base(
            d, s.rollup.weight, _population(ctx, k), _indicator_names(cfg), s.tier.unit_noun
        )
        for d, k in zip(
            ratios["ratio"].map({r.key: r.denominator for r in s.rollup.ratios}),
            ratios["population"],
            strict=True,
        )
    ]
    comp = tables["completeness"]
    comp = comp[comp["level"] == "kind"]
    expected = dict(zip(comp["grp"], comp["expected"], strict=True))
    annual = ctx["kind"] != "phase"
    _section_contents(doc, tables, ctx, ratios, comp)
    _heading(doc, "2. Kết quả theo tiêu chí thi đua (mục III.1 của Kế hoạch)", level=2)
    position = {i.code: n for n, i in enumerate(cfg.indicators)}  # indicators.csv order
    for kind, heading in criteria_groups(s.kinds):
        rows = by_kind[by_kind["kind"] == kind]
        rows = rows.iloc[rows["indicator_code"].map(position).argsort(kind="stable")]
        if not expected.get(kind):
            continue
        _heading(doc, heading, level=2)
        sentence = _group_sentence(
            rows, ratios[ratios["population"] == kind], expected[kind], s.tier.unit_noun
        )
        _para(doc, ctx["texts"].text(f"ket_qua_{kind}", sentence), indent=True)
        if annual:
            _annual_table(doc, rows, s.rollup.weight, _population(ctx, kind))
        else:
            _phase_tables(doc, tables, ctx, kind)
    _section_individuals(doc, tables, s)
    for key in ("ratios", "trends"):
        if key in charts:
            _figure(
                doc,
                charts[key],
                f"Các tỷ lệ chính {s.tier.whole} ({period_range(ctx['cycle'])})"
                if key == "ratios"
                else "Xu hướng các tỷ lệ chính qua các năm",
            )


def _population(ctx: dict[str, Any], kind: str) -> str:
    s = ctx["cfg"].settings
    return plan.population(kind, s.rollup.populations, s.kinds)


def _indicator_names(cfg: Config) -> dict[str, str]:
    return {i.code: i.name_vi for i in cfg.indicators}


def _section_contents(
    doc: Any, tables: Tables, ctx: dict[str, Any], ratios: pd.DataFrame, comp: pd.DataFrame
) -> None:
    """II.1: one sub-point per content II.1–7 of the plan: each kind's figures (over the
    phase in a sơ kết, tổng kết) and ratios of the content, then the units' highlights
    placed under it (each distinct text once), or "không phát sinh"."""
    s = ctx["cfg"].settings
    _heading(doc, "1. Kết quả thực hiện các nội dung thi đua (mục II của Kế hoạch)", level=2)
    by_kind = _content_figures(tables, ctx)
    kinds = [k for k, _ in criteria_groups(s.kinds)]
    nar = tables.get("narratives")
    limit = ctx["cfg"].settings.checks.narrative_max_chars
    found = plan.highlights(nar if nar is not None else pd.DataFrame(), kinds, limit)
    numerators = {r.key: r.numerator for r in s.rollup.ratios}
    comp = comp.set_index("grp")
    for n, content in enumerate(plan.PLAN_CONTENTS):
        _heading(doc, f"1.{n + 1}. {content.title}", level=2)
        lines = []
        for kind in kinds:
            figures = plan.kind_figures(by_kind[by_kind["kind"] == kind], content)
            mine = ratios[
                (ratios["population"] == kind) & ratios["ratio"].map(numerators).isin(content.codes)
            ]
            figures += [_ratio_vi(r) for r in mine.itertuples()]
            if figures:
                lines.append(f"- {_kind_vi(s, kind, comp)}: " + "; ".join(figures) + ".")
        lines += [f"- {'; '.join(names)}: {text}." for text, names in found.get(n, [])]
        for line in lines or [_tier_text(plan.NOTHING_VI, s)]:
            _para(doc, line, indent=True)


def _content_figures(tables: Tables, ctx: dict[str, Any]) -> pd.DataFrame:
    """Each kind's figure of every indicator: the year's total, or in a phase the phase
    value (the units' review, else the years folded by the indicator's aggregate); at the
    province, the package's totals as the commune indicators they sum."""
    if ctx["kind"] != "phase":
        return plan.package_sources(tables["indicators_by_kind"])
    ach = tables["achievement"]
    ach = ach.assign(total=ach["achieved"], n_units=ach["achieved_units"].fillna(0).astype(int))
    return plan.package_sources(ach)


def _kind_vi(s: Settings, kind: str, comp: pd.DataFrame) -> str:
    """The kind as a content's line names it; an invited kind with its participation."""
    name = s.kinds.get(kind, kind).split(" (")[0]
    if kind in s.rollup.invited_kinds and kind in comp.index:
        return (
            f"{name} (được mời tham gia; {comp.loc[kind, 'submitted']}/"
            f"{comp.loc[kind, 'expected']} đơn vị tham gia báo cáo)"
        )
    return name


def _annual_table(doc: Any, rows: pd.DataFrame, weight: str, population: str) -> None:
    """The kind's figures, numbered (no indicator code in the signed report); the weight
    (TS01) named by the kind's own population."""
    _table(
        doc,
        ["STT", "Chỉ tiêu", "Đơn vị tính", "Số đơn vị báo cáo", "Kết quả"],
        [
            [
                n,
                f"Tổng số {population}" if r.indicator_code == weight else r.name_vi,
                r.unit_vi,
                f"{r.n_units}/{r.expected}",
                f"{number_vi(r.total)}/{r.n_units} có"
                if r.type == "bool" and r.n_units
                else _value_vi(r.total, r.type),
            ]
            for n, r in enumerate(rows.itertuples(), 1)
        ],
        (1.3, 7.5, 2.4, 2.4, 2.4),
    )


def _value_vi(v: float | None, type_: str) -> str:
    """A figure as the report prints it: rates with "%"."""
    return percent_vi(v) if type_ == "percent" else number_vi(v)


def _phase_tables(doc: Any, tables: Tables, ctx: dict[str, Any], kind: str) -> None:
    """Two tables over the units of one kind: the years side by side, then the phase value
    (sum of the years for flows, level at the cut-off for stocks and rates) beside the
    units' review figures and the targets they registered."""
    ach = tables["achievement"]
    ach = ach[ach["kind"] == kind]
    labels = {c.year: year_label(c) for c in ctx["years"]}
    _table(
        doc,
        ["STT", "Chỉ tiêu", "Đơn vị tính", *(f"Năm {v}" for v in labels.values())],
        [
            [n, r["name_vi"], r["unit_vi"], *(_value_vi(r.get(f"y{y}"), r["type"]) for y in labels)]
            for n, (_, r) in enumerate(ach.iterrows(), 1)
        ],
        (1.3, 12.7 - 1.8 * len(labels), 2.0, *(1.8,) * len(labels)),
    )
    _table(
        doc,
        [
            "STT",
            "Chỉ tiêu",
            "Cộng các báo cáo năm (mức năm cuối với tỷ lệ, số lũy kế)",
            "Kết quả đến thời điểm chốt",
            "Chỉ tiêu đăng ký",
            "Đạt (%)",
        ],
        [
            [
                n,
                r.name_vi,
                _value_vi(r.annual, r.type),
                _value_vi(r.achieved, r.type),
                _value_vi(r.target, r.type),
                percent_vi(r.achieved_pct),
            ]
            for n, r in enumerate(ach.itertuples(), 1)
        ],
        (1.3, 5.7, 2.6, 2.6, 2.2, 1.6),
    )


def _section_individuals(doc: Any, tables: Tables, s: Settings) -> None:
    if (counts := packaged_counts(tables, s)) is not None:  # a tier fed by the packages
        _section_packaged_counts(doc, counts, s)
        return
    _heading(doc, INDIVIDUALS_GROUP, level=2)
    props = tables["proposals"]
    n_people = int((props["subject_type"] == "Cá nhân").sum()) if len(props) else 0
    inits = tables["initiatives"]
    authors = inits["author"].dropna().nunique() if len(inits) else 0
    _para(
        doc,
        f"Cán bộ, công chức, viên chức, người lao động và Nhân dân tích cực tham gia "
        f"Phong trào thi đua: {len(inits)} sáng kiến, giải pháp của {authors} tác giả "
        f"được các {s.tier.unit_noun} báo cáo; {n_people} cá nhân được các "
        f"{s.tier.unit_noun} đề nghị khen thưởng.",
        indent=True,
    )


def _section_packaged_counts(doc: Any, counts: tuple[float, float], s: Settings) -> None:
    """The tier above a commune has no initiative or proposal rows, only the sums of each
    commune's counts (`packaged_counts`), under a heading of their own (the commune
    plan's d) has no a) to c) here)."""
    initiatives, proposals = (number_vi(n) for n in counts)
    _heading(doc, "Sáng kiến, giải pháp và đề nghị khen thưởng", level=2)
    _para(
        doc,
        f"Các {s.tier.unit_noun} đã tổng hợp {initiatives} sáng kiến, giải pháp và "
        f"{proposals} đề nghị khen thưởng (tập thể và cá nhân) được Hội đồng Thi đua – "
        "Khen thưởng cấp xã thông qua.",
        indent=True,
    )


def _has_narrative(tables: Tables, key: str) -> bool:
    df = tables.get("narratives")
    return df is not None and bool((df["key"] == key).any())


def _narratives(doc: Any, tables: Tables, key: str, ctx: dict[str, Any]) -> int:
    """The units' own words for one narrative field, a paragraph per unit; a text over
    `[checks] narrative_max_chars` (a warning at collection) is quoted up to the limit."""
    df = tables.get("narratives")
    if df is None or df.empty:
        return 0
    df = df[df["key"] == key]
    s = ctx["cfg"].settings
    limit = s.checks.narrative_max_chars
    # units that wrote the same words (spacing and case aside) are named together, once
    groups: dict[str, tuple[str, list[str]]] = {}
    for r in df.itertuples():
        text = r.text if len(r.text) <= limit else r.text[:limit].rstrip() + "…"
        groups.setdefault(layout.same_text(text), (text, []))[1].append(r.name)
    for text, names in list(groups.values())[:MAX_LISTED]:
        _para(doc, f"- {'; '.join(names)}: {text}", indent=True)
    if len(groups) > MAX_LISTED:
        rest = sum(len(n) for _, n in list(groups.values())[MAX_LISTED:])
        _para(
            doc,
            f"(Và {rest} {s.tier.unit_noun} khác, chi tiết tại bảng tổng hợp kèm theo.)",
            italic=True,
            indent=True,
        )
    return len(df)


def _section_models(doc: Any, tables: Tables, ctx: dict[str, Any]) -> None:
    _heading(doc, "III. MÔ HÌNH, CÁCH LÀM HAY")
    noun = ctx["cfg"].settings.tier.unit_noun
    n = _narratives(doc, tables, "mo_hinh", ctx)
    inits = tables["initiatives"]
    if len(inits):
        _para(
            doc,
            f"Các {noun} báo cáo {len(inits)} sáng kiến, giải pháp đổi mới sáng tạo, "
            "chuyển đổi số được áp dụng, tiêu biểu:",
            indent=True,
        )
        for r in plan.initiative_order(inits).head(MAX_LISTED).itertuples():
            _para(doc, f"- {plan.initiative_vi(r)}.", indent=True)
    elif not n:
        _para(doc, f"Các {noun} chưa báo cáo mô hình, cách làm hay trong kỳ.", indent=True)


def council_not_met(s: Settings) -> str:
    return f"{s.tier.council} chưa xét các đề nghị khen thưởng của kỳ"


def _section_awards(doc: Any, tables: Tables, ctx: dict[str, Any]) -> None:
    """What the tier's Hội đồng Thi đua – Khen thưởng approved (never the units' own
    proposals): what the Chủ tịch UBND awarded, by his Quyết định, and what the
    commune proposed upward, by its Tờ trình; before the council met, that it has not."""
    cfg = ctx["cfg"]
    s = cfg.settings
    _heading(doc, "IV. CÔNG TÁC KHEN THƯỞNG")
    tally = tables["proposal_tally"].copy()
    tally["authority"] = tally["reward_form"].map(cfg.reward_authority).fillna("cap_tren")
    tally = tally.sort_values("reward_form", key=lambda c: c.map(cfg.form_rank))
    docs = tables["award_documents"]
    met = int(tables["council"]["meetings"].iloc[0]) if len(tables["council"]) else 0
    for level, heading, state in (
        ("xa", "1. Khen thưởng theo thẩm quyền", "da-khen-thuong"),
        ("cap_tren", "2. Đề nghị cấp trên khen thưởng", "da-trinh"),
    ):
        _heading(doc, heading, level=2)
        if met:
            _awards_part(doc, cfg, tally[tally["authority"] == level], docs, level, state)
        else:
            _para(doc, f"{council_not_met(s)}.", indent=True)
    _section_scores(doc, tables["units"], s, ctx["kind"] == "phase")
    if ctx["kind"] == "phase":
        _section_awarded_in_phase(doc, tables["register"], ctx)


def _section_awarded_in_phase(doc: Any, register: pd.DataFrame, ctx: dict[str, Any]) -> None:
    """IV.4: what was awarded from the phase's start to the report's date, from the
    register of awards decided (never from proposals), by form (highest first) and
    subject; the tổng kết adds the awarded individuals by gender."""
    cfg, cycle = ctx["cfg"], ctx["cycle"]
    _heading(doc, "4. Khen thưởng đã thực hiện trong giai đoạn", level=2)
    since = f"từ {format_date_vi(cycle.period_start)} đến {format_date_vi(ctx['today'])}"
    if register.empty:
        done = f"Sổ theo dõi khen thưởng chưa có khen thưởng nào {since}."
        _para(doc, ctx["texts"].text("khen_thuong_giai_doan", done), indent=True)
        return
    rows = register.sort_values("reward_form", key=lambda c: c.map(cfg.form_rank))
    sums = rows[["collectives", "individuals", "households", "total"]].sum()
    done = (
        f"Theo sổ theo dõi khen thưởng, {since} đã khen thưởng {int(sums['total'])} lượt "
        f"({_award_counts(sums)}):"
    )
    _para(doc, ctx["texts"].text("khen_thuong_giai_doan", done), indent=True)
    _table(
        doc,
        ["Hình thức khen thưởng", "Tập thể", "Cá nhân", "Hộ gia đình", "Tổng"],
        [
            [cfg.reward_forms.get(r.reward_form, r.reward_form), *r[1:5]]
            for r in rows.itertuples(index=False)
        ]
        + [
            ["Cộng", *(int(sums[k]) for k in ("collectives", "individuals", "households", "total"))]
        ],
        (7.0, 2.2, 2.2, 2.4, 2.2),
    )
    if cycle.kind == "tong_ket":
        men, women = int(rows["men"].sum()), int(rows["women"].sum())
        unknown = int(sums["individuals"]) - men - women
        _para(
            doc,
            f"Trong {int(sums['individuals'])} cá nhân được khen thưởng: {men} nam, {women} nữ"
            + (f", {unknown} chưa ghi giới tính" if unknown else "")
            + ".",
            indent=True,
        )


def _award_counts(r: Any) -> str:
    parts = [
        (int(r["collectives"]), "tập thể"),
        (int(r["individuals"]), "cá nhân"),
        (int(r["households"]), "hộ gia đình"),
    ]
    return ", ".join(f"{n} {what}" for n, what in parts if n) or "0"


def _document_names(docs: pd.DataFrame, state: str, kind: str) -> str:
    """ "Quyết định số 12/QĐ-UBND ngày 20/12/2025" for each document recorded, or ""."""
    rows = docs[docs["to_state"] == state] if len(docs) else docs
    return "; ".join(
        f"{kind} số {r.doc_no}"
        + (f" ngày {format_date_vi(r.doc_date)}" if pd.notna(r.doc_date) else "")
        for r in rows.itertuples()
    )


def _awards_part(
    doc: Any, cfg: Config, part: pd.DataFrame, docs: pd.DataFrame, level: str, state: str
) -> None:
    """One part of section IV: a sentence per form approved, naming who decides, then
    the table by subject (total = tập thể + cá nhân + hộ gia đình)."""
    tier = cfg.settings.tier
    if part.empty:
        _para(doc, f"{tier.council} không đề nghị hình thức nào.", indent=True)
        return
    kind = "Quyết định" if level == "xa" else "Tờ trình"
    named = _document_names(docs, state, kind)
    for r in part.itertuples():
        rule = cfg.reward_rules.get(r.reward_form)
        form = rule.name if rule else r.reward_form
        if level == "xa":
            verb = f"Chủ tịch {tier.authority} tặng"
            verb = verb if named else f"Hội đồng đề nghị {verb}"
            _para(doc, f"- {verb} {form} cho {_award_counts(r._asdict())}.", indent=True)
        else:
            how = f" ({rule.decided_by})" if rule else ""
            _para(doc, f"- Đề nghị tặng {form} cho {_award_counts(r._asdict())}{how}.", indent=True)
    _para(
        doc,
        f"Văn bản: {named}." if named else f"{kind} chưa ban hành (chờ số, ngày của văn thư).",
        indent=True,
    )
    _table(
        doc,
        ["Hình thức khen thưởng", "Tập thể", "Cá nhân", "Hộ gia đình", "Tổng"],
        [
            [
                cfg.reward_forms.get(r.reward_form, r.reward_form),
                r.collectives,
                r.individuals,
                r.households,
                r.total,
            ]
            for r in part.itertuples()
        ],
        (7.0, 2.2, 2.2, 2.4, 2.2),
    )


def _section_scores(doc: Any, units: pd.DataFrame, s: Settings, phase: bool) -> None:
    # one criterion of the khối's own score table (plan VI.5), not the khối's result
    _heading(doc, "3. Điểm tiêu chí thực hiện Phong trào (thành phần bảng chấm điểm khối)", level=2)
    noun = s.tier.unit_noun
    rule = scoring.rule_vi(s.scoring.target_cap, noun) if phase else scoring.annual_rule_vi(noun)
    _para(
        doc,
        f"Điểm gồm: nộp báo cáo đúng hạn, chất lượng số liệu và kết quả thực hiện. {rule}",
        indent=True,
    )
    for kind, _ in criteria_groups(s.kinds):
        mine = units[(units["kind"] == kind) & units["score"].notna() & (units["n_ratios"] > 0)]
        if phase and len(mine):
            name = s.kinds[kind].split(" (")[0]
            _para(doc, f"- {name}: {scoring.kind_method_vi(mine, noun)}.", indent=True)
    unscored = [k for k in s.kinds if k not in {r.population for r in s.rollup.ratios}]
    if unscored and units["kind"].isin(unscored).any():
        names = ", ".join(_lower_first(s.kinds[k].split(" (")[0]) for k in unscored)
        _para(
            doc,
            f"Các {names} chưa có tỷ lệ chỉ tiêu để đánh giá kết quả thực hiện nên không "
            "chấm điểm, xếp hạng tiêu chí này.",
            indent=True,
        )
    _table(
        doc, ["Khối thi đua", "Đơn vị xếp thứ nhất", "Điểm"], _leaders(units, s), (5.0, 8.5, 2.5)
    )


def _leaders(units: pd.DataFrame, s: Settings) -> list[list[str]]:
    """Each block's first among the units that reported (all of them if tied): a unit
    that sent nothing scores 0 and would otherwise share first place in a block where
    nobody reported; such a block says so."""
    rows = []
    scored = units[units["rank_in_block"].notna()]  # a block of unscored kinds has no row
    for block in scored["block"].drop_duplicates():
        mine = scored[(scored["block"] == block) & (scored["status"] != "missing")]
        name = s.blocks.get(block, block)
        if mine.empty:
            rows.append([name, f"Chưa có {s.tier.unit_noun} nộp báo cáo", "—"])
            continue
        first = mine[mine["rank_in_block"] == mine["rank_in_block"].min()]
        rows += [[name, r.name, number_vi(r.score)] for r in first.itertuples()]
    return rows


def _section_difficulties(
    doc: Any,
    tables: Tables,
    ctx: dict[str, Any],
    heading: tuple[str, int] = ("V. KHÓ KHĂN, VƯỚNG MẮC VÀ NGUYÊN NHÂN", 1),
    key: str = "kho_khan",
) -> None:
    """The units' difficulties (a review's hạn chế: `key`), who did not report or was
    late, who has no plan."""
    _heading(doc, *heading)
    noun = ctx["cfg"].settings.tier.unit_noun
    n = _narratives(doc, tables, key, ctx)
    missing = tables["missing"]
    absent, late = missing[missing["status"] == "missing"], missing[missing["status"] == "late"]
    if len(absent):
        _para(doc, f"- {len(absent)} {noun} chưa nộp báo cáo: {_names(absent)}.", indent=True)
    if len(late):
        _para(doc, f"- {len(late)} {noun} nộp báo cáo muộn: {_names(late)}.", indent=True)
    plans = tables.get("plans")
    if plans is not None and len(plans) and (~plans["issued"].astype(bool)).any():
        _para(
            doc,
            f"- {int((~plans['issued'].astype(bool)).sum())} {noun} chưa xây dựng kế "
            "hoạch thực hiện Phong trào thi đua.",
            indent=True,
        )
    if not (n or len(absent) or len(late)):
        _para(doc, f"Các {noun} không báo cáo khó khăn, vướng mắc trong kỳ.", indent=True)
    # Causes are the units' own words above; nothing is invented for them.


def _section_assessment(doc: Any, tables: Tables, ctx: dict[str, Any]) -> None:
    """Đánh giá chung (plan VI.3): strengths from the figures, limits and causes from the
    units' own words, each paragraph editable by the officer."""
    h, texts, t = ctx["headline"], ctx["texts"], ctx["cfg"].settings.tier
    _heading(doc, "V. ĐÁNH GIÁ CHUNG")
    _heading(doc, "1. Ưu điểm", level=2)
    rate = percent_vi(h["reporting_rate"])
    strengths = (
        f"Phong trào thi đua được {t.members} hưởng ứng: {h['submitted']}/{h['expected']} "
        f"{t.unit_noun} gửi báo cáo {_period(ctx['cycle'])} ({rate}); {h['initiatives']} "
        f"sáng kiến, giải pháp được các {t.unit_noun} báo cáo; các chỉ tiêu chủ yếu tăng qua "
        "từng năm (mục II)."
    )
    _para(doc, texts.text("uu_diem", strengths), indent=True)
    _narratives(doc, tables, "uu_diem", ctx)
    _section_difficulties(doc, tables, ctx, ("2. Hạn chế, khó khăn", 2), "han_che")
    _heading(doc, "3. Nguyên nhân", level=2)
    if not _narratives(doc, tables, "nguyen_nhan", ctx):  # no unit named its causes
        causes = (
            f"Nguyên nhân của những hạn chế chủ yếu do các khó khăn, vướng mắc các "
            f"{t.unit_noun} nêu trên; một số {t.unit_noun} chưa bố trí người theo dõi, tổng "
            "hợp số liệu thường xuyên."
        )
        _para(doc, texts.text("nguyen_nhan", causes), indent=True)


def _section_lessons(doc: Any, tables: Tables, ctx: dict[str, Any]) -> None:
    """The units' own lessons (ThongTin bai_hoc of the review); the general lessons of
    the plan's experience only when no unit wrote one."""
    _heading(doc, "VI. BÀI HỌC KINH NGHIỆM")
    if _narratives(doc, tables, "bai_hoc", ctx):
        return
    for n, line in enumerate(LESSONS, 1):
        line = _tier_text(line, ctx["cfg"].settings)
        _para(doc, "- " + ctx["texts"].text(f"bai_hoc_{n}", line), indent=True)


def _section_directions(doc: Any, tables: Tables, ctx: dict[str, Any], number: str) -> None:
    s = ctx["cfg"].settings
    cycle = ctx["cycle"]
    _heading(doc, f"{number} PHƯƠNG HƯỚNG, NHIỆM VỤ VÀ ĐỀ XUẤT, KIẾN NGHỊ")
    _heading(doc, f"1. Phương hướng, nhiệm vụ{DIRECTIONS_WHEN.get(cycle.kind, '')}", level=2)
    for n, line in enumerate(DIRECTIONS, 1):
        line = _tier_text(line, s)
        _para(doc, "- " + ctx["texts"].text(f"phuong_huong_{n}", line), indent=True)
    if _has_narrative(tables, "phuong_huong"):  # a review's units' own directions
        _para(doc, f"Phương hướng, nhiệm vụ các {s.tier.unit_noun} đề ra:", indent=True)
        _narratives(doc, tables, "phuong_huong", ctx)
    _heading(doc, "2. Đề xuất, kiến nghị", level=2)
    n = _narratives(doc, tables, "de_xuat", ctx)
    cap_tren = [f for f, a in ctx["cfg"].reward_authority.items() if a == "cap_tren"]
    props = tables["proposals"]
    upward = props[props["reward_form"].isin(cap_tren)] if len(props) else props
    if len(upward):
        _para(
            doc,
            f"- Đề nghị {s.province_office.name} xem xét, trình cấp có thẩm quyền khen "
            f"thưởng {len(upward)} tập thể, cá nhân có thành tích tiêu biểu (danh sách "
            "tại bảng tổng hợp kèm theo).",
            indent=True,
        )
    elif not n:
        _para(doc, f"Các {s.tier.unit_noun} chưa có đề xuất, kiến nghị trong kỳ.", indent=True)


def _heading(doc: Any, text: str, level: int = 1) -> None:
    _para(doc, text, bold=True, italic=level > 1, indent=level > 1, space_before=6)


def _page(doc: Any) -> None:
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(20), Mm(20)
    sec.left_margin, sec.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    # Page numbers centred in the top margin, not on page 1.
    sec.different_first_page_header_footer = True
    p = sec.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(p.add_run(), "PAGE")


def _field(run: Any, instr: str) -> None:
    for tag, text in (("begin", None), (None, instr), ("end", None)):
        if tag:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _para(
    doc_or_cell: Any,
    text: str,
    bold: bool = False,
    italic: bool = False,
    size: float = 14,
    align: str = "justify",
    indent: bool = False,
    space_before: float = 0,
    space_after: float = 6,
) -> Any:
    p = doc_or_cell.add_paragraph()
    p.alignment = {
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "left": WD_ALIGN_PARAGRAPH.LEFT,
    }[align]
    fmt = p.paragraph_format
    fmt.space_before, fmt.space_after = Pt(space_before), Pt(space_after)
    if indent:
        fmt.first_line_indent = Cm(1.27)
    run = p.add_run(text)
    run.bold, run.italic, run.font.size, run.font.name = bold, italic, Pt(size), FONT
    return p


def _rule(doc_or_cell: Any, short: bool) -> None:
    """A solid rule under the previous line: a bottom border on an empty, indented line."""
    p = doc_or_cell.add_paragraph()
    fmt = p.paragraph_format
    fmt.space_before, fmt.space_after = Pt(0), Pt(6)
    if short:
        fmt.left_indent = fmt.right_indent = Cm(6 if hasattr(doc_or_cell, "sections") else 2.2)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    border.append(bottom)
    p._p.get_or_add_pPr().append(border)


def _borderless(table: Any) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _header(doc: Any, s: Settings, today: date, symbol: str = "BC-UBND") -> None:
    """The Decree 30 header: the commune and the document's number left for the văn thư
    ("Số:      /BC-UBND"; `symbol` QĐ-UBND, TTr-UBND for the commendation documents)."""
    t = doc.add_table(rows=1, cols=2)
    _borderless(t)
    _widths(t, (Cm(6.5), Cm(9.5)))
    left, right = t.rows[0].cells
    for cell in (left, right):
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    _para(left, "ỦY BAN NHÂN DÂN", bold=True, size=13, align="center", space_after=0)
    place = f"{s.tier.level} {s.commune.name}".upper()
    _para(left, place, bold=True, size=13, align="center", space_after=0)
    _rule(left, short=True)
    _para(left, f"Số:      /{symbol}", size=13, align="center")
    _para(
        right,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        bold=True,
        size=12,
        align="center",
        space_after=0,
    )
    _para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=13, align="center", space_after=0)
    _rule(right, short=True)
    _para(right, date_line_vi(s.commune.name, today), italic=True, size=14, align="center")


def _widths(table: Any, widths: Sequence[Any]) -> None:
    """Column widths that Word and LibreOffice agree on: the grid (w:gridCol) and every
    cell (w:tcW) say the same, and the layout is fixed."""
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(int(w.twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths, strict=True):
            cell.width = w
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)


def _table(
    doc: Any,
    headers: list[str],
    rows: list[list[Any]],
    widths_cm: tuple[float, ...] | None = None,
) -> None:
    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(t.rows[0].cells, headers):
        _cell(cell, text, bold=True)
    for row in rows:
        for cell, value in zip(t.add_row().cells, row):
            _cell(cell, str(value))
    if widths_cm:
        _widths(t, tuple(Cm(w) for w in widths_cm))
    doc.add_paragraph()


def _cell(cell: Any, text: str, bold: bool = False) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold, run.font.size, run.font.name = bold, Pt(12), FONT


def report_recipients(s: Settings) -> tuple[str, ...]:
    """The report's nơi nhận: the addressee ("Như trên"), the tier's leaders and
    council, the archive with the lead office's initials."""
    t = s.tier
    return (
        "- Như trên;",
        f"- Chủ tịch, các PCT {t.authority};",
        f"- {t.council};",
        f"- Lưu: VT, {t.lead_office_code}.",
    )


def _closing(doc: Any, s: Settings, recipients: tuple[str, ...]) -> None:
    t = doc.add_table(rows=1, cols=2)
    _borderless(t)
    _widths(t, (Cm(7.5), Cm(8.5)))
    left, right = t.rows[0].cells
    for cell in (left, right):
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    p = _para(left, "Nơi nhận:", bold=True, italic=True, size=12, align="left", space_after=0)
    p.paragraph_format.space_before = Pt(6)
    # "Như trên" stands for the Kính gửi addressee (Sở Nội vụ), first as custom has it.
    for entry in recipients:
        _para(left, entry, size=11, align="left", space_after=0)
    for line in (s.signer.on_behalf, s.signer.capacity, s.signer.title):
        _para(right, line, bold=True, size=13, align="center", space_after=0)
    for _ in range(4):
        _para(right, "", size=13, align="center", space_after=0)
    _para(right, s.signer.name, bold=True, size=14, align="center")
