"""The report to Sở Nội vụ as a docx in the layout of Decree 30/2020/NĐ-CP
(see docs: /spec/document-layout.md): header table, tên loại, trích yếu, kính gửi,
body with the key figures and tables, nơi nhận and signature block."""

from __future__ import annotations

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

from thidua.rollup.model import STATUS_VI, date_line_vi, number_vi, ratio_names

FONT = "Times New Roman"
MOVEMENTS = ('Phong trào thi đua "Cả nước thi đua đổi mới sáng tạo và chuyển đổi số" và '
             'Phong trào thi đua "Bình dân học vụ số"')
LEGAL_BASES = (
    "Căn cứ Luật Thi đua, khen thưởng số 06/2022/QH15;",
    ("Căn cứ Nghị định số 152/2025/NĐ-CP của Chính phủ quy định chi tiết một số điều của "
     "Luật Thi đua, khen thưởng;"),
)


# One sentence saying which versions the figures count ([web] rollup_counts)
COUNTS_VI = {
    "accepted": "Số liệu tổng hợp tính theo bản báo cáo hợp lệ mới nhất của mỗi đơn vị "
                "(đã qua kiểm tra tự động).",
    "approved": "Số liệu tổng hợp chỉ tính các bản báo cáo đã được Phòng Văn hoá – Xã hội "
                "duyệt (bản được duyệt mới nhất của mỗi đơn vị).",
}


def write(path: Path, tables: dict[str, pd.DataFrame], ctx: dict[str, Any],
          charts: dict[str, Path]) -> Path:
    cfg, cycle, h = ctx["cfg"], ctx["cycle"], ctx["headline"]
    s = cfg.settings
    doc = Document()
    _page(doc)
    _header(doc, s, ctx["today"])
    _para(doc, "BÁO CÁO", bold=True, size=14, align="center", space_before=12)
    period = f"năm {cycle.year}" if ctx["kind"] == "annual" else cycle.title.lower()
    _para(doc, f"Kết quả thực hiện {MOVEMENTS} {period}", bold=True, size=14, align="center")
    _rule(doc, short=True)
    _para(doc, f"Kính gửi: {s.province_office.name}", size=14, align="center",
          space_after=12)
    for basis in (*LEGAL_BASES, f"Căn cứ {s.commune.plan_ref};"):
        _para(doc, basis, italic=True, indent=True)
    _para(doc, f"{s.commune.authority} báo cáo kết quả thực hiện {period} như sau:",
          indent=True)

    _para(doc, "I. TÌNH HÌNH NỘP BÁO CÁO CỦA CÁC ĐƠN VỊ", bold=True)
    _para(doc, f"Số đơn vị phải báo cáo: {h['expected']}; đã nộp: {h['submitted']} "
               f"(tỷ lệ {number_vi(h['reporting_rate'])}%); nộp đúng hạn: {h['on_time']} "
               f"(tỷ lệ {number_vi(h['on_time_rate'])}%); nộp muộn: {h['late']}; chưa nộp: "
               f"{h['missing']}.", indent=True)
    _para(doc, COUNTS_VI[h.get("counts", "accepted")], indent=True)
    if not h["accepted_in_cycle"]:
        _para(doc, "Chưa có báo cáo nào của đơn vị được tiếp nhận trong kỳ.", indent=True)
    comp = tables["completeness"]
    comp = comp[comp["level"] == "block"]
    _table(doc, ["Khối thi đua", "Phải nộp", "Đã nộp", "Đúng hạn", "Tỷ lệ nộp (%)",
                 "Tỷ lệ đúng hạn (%)"],
           [[s.blocks.get(r.grp, r.grp), r.expected, r.submitted, r.on_time,
             number_vi(r.reporting_rate), number_vi(r.on_time_rate)] for r in comp.itertuples()])
    if "completeness" in charts:
        doc.add_picture(str(charts["completeness"]), width=Cm(15))

    _para(doc, "II. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU CHỦ YẾU", bold=True)
    ratios, names = tables["ratios"], ratio_names(ctx["cfg"])
    for r in ratios[ratios["level"] == "commune"].itertuples():
        _para(doc, f"- {names[r.ratio]}: {number_vi(r.pct)}% ({r.n_units} đơn vị báo cáo).",
              indent=True)
    if ctx["kind"] == "phase":
        ach = tables["achievement"]
        _table(doc, ["Mã", "Chỉ tiêu", "Lũy kế giai đoạn", "Chỉ tiêu đăng ký", "Đạt (%)"],
               [[r.indicator_code, r.name_vi, number_vi(r.cumulative), number_vi(r.target),
                 number_vi(r.achieved_pct)] for r in ach.itertuples()])
    else:
        ind = tables["indicators"]
        _table(doc, ["Mã", "Chỉ tiêu", "Đơn vị tính", "Số đơn vị báo cáo", "Tổng hợp"],
               [[r.indicator_code, r.name_vi, r.unit_vi, r.n_units, number_vi(r.total)]
                for r in ind.itertuples()])
    for key in ("ratios", "trends"):
        if key in charts:
            doc.add_picture(str(charts[key]), width=Cm(15))

    _para(doc, "III. SÁNG KIẾN, ĐỀ NGHỊ KHEN THƯỞNG VÀ XẾP HẠNG KHỐI THI ĐUA", bold=True)
    _para(doc, f"Các đơn vị báo cáo {h['initiatives']} sáng kiến, giải pháp và "
               f"{h['proposals']} đề nghị khen thưởng (chi tiết tại bảng tổng hợp kèm theo).",
          indent=True)
    tally = tables["proposal_tally"]
    if len(tally):
        _table(doc, ["Hình thức khen thưởng", "Tập thể", "Cá nhân", "Tổng"],
               [[cfg.reward_forms.get(r.reward_form, r.reward_form), r.collectives,
                 r.individuals, r.total] for r in tally.itertuples()])
    units = tables["units"]
    leaders = units[units["rank_in_block"] == 1]
    _table(doc, ["Khối thi đua", "Đơn vị xếp thứ nhất", "Điểm"],
           [[s.blocks.get(r.block, r.block), r.name, number_vi(r.score)] for r in leaders.itertuples()])
    missing = tables["missing"]
    if len(missing):
        _para(doc, "Đơn vị chưa nộp hoặc nộp muộn: " + "; ".join(
            f"{r.name} ({STATUS_VI[r.status].lower()})" for r in missing.itertuples()) + ".",
            indent=True)
    _para(doc, f"Số liệu tổng hợp từ {h['sources']} bản báo cáo của các đơn vị, mã tổng hợp "
               f"{h['rollup_id']}.", italic=True, indent=True)
    _para(doc, f"Trên đây là báo cáo kết quả của {s.commune.authority}, kính gửi "
               f"{s.province_office.name} tổng hợp./.", indent=True)
    _closing(doc, s)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def _page(doc: Document) -> None:
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


def _field(run, instr: str) -> None:
    for tag, text in (("begin", None), (None, instr), ("end", None)):
        if tag:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _para(doc_or_cell, text: str, bold: bool = False, italic: bool = False, size: float = 14,
          align: str = "justify", indent: bool = False, space_before: float = 0,
          space_after: float = 6):
    p = doc_or_cell.add_paragraph()
    p.alignment = {"justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "center": WD_ALIGN_PARAGRAPH.CENTER,
                   "left": WD_ALIGN_PARAGRAPH.LEFT}[align]
    fmt = p.paragraph_format
    fmt.space_before, fmt.space_after = Pt(space_before), Pt(space_after)
    if indent:
        fmt.first_line_indent = Cm(1.27)
    run = p.add_run(text)
    run.bold, run.italic, run.font.size, run.font.name = bold, italic, Pt(size), FONT
    return p


def _rule(doc_or_cell, short: bool) -> None:
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


def _borderless(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _header(doc: Document, s, today) -> None:
    t = doc.add_table(rows=1, cols=2)
    _borderless(t)
    left, right = t.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    for cell in (left, right):
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    _para(left, "ỦY BAN NHÂN DÂN", bold=True, size=13, align="center", space_after=0)
    _para(left, f"XÃ {s.commune.name.upper()}", bold=True, size=13, align="center",
          space_after=0)
    _rule(left, short=True)
    _para(left, "Số:      /BC-UBND", size=13, align="center")
    _para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12, align="center",
          space_after=0)
    _para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=13, align="center",
          space_after=0)
    _rule(right, short=True)
    _para(right, date_line_vi(s.commune.name, today), italic=True, size=14, align="center")


def _table(doc: Document, headers: list[str], rows: list[list[Any]]) -> None:
    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(t.rows[0].cells, headers):
        _cell(cell, text, bold=True)
    for row in rows:
        for cell, value in zip(t.add_row().cells, row):
            _cell(cell, str(value))
    doc.add_paragraph()


def _cell(cell, text: str, bold: bool = False) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold, run.font.size, run.font.name = bold, Pt(12), FONT


def _closing(doc: Document, s) -> None:
    t = doc.add_table(rows=1, cols=2)
    _borderless(t)
    left, right = t.rows[0].cells
    for cell in (left, right):
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    p = _para(left, "Nơi nhận:", bold=True, italic=True, size=12, align="left", space_after=0)
    p.paragraph_format.space_before = Pt(6)
    for entry in (f"- {s.province_office.name};", "- Chủ tịch, các PCT UBND xã;",
                  "- Hội đồng Thi đua – Khen thưởng xã;", "- Lưu: VT, VHXH."):
        _para(left, entry, size=11, align="left", space_after=0)
    for line in (s.signer.on_behalf, s.signer.capacity, s.signer.title):
        _para(right, line, bold=True, size=13, align="center", space_after=0)
    for _ in range(4):
        _para(right, "", size=13, align="center", space_after=0)
    _para(right, s.signer.name, bold=True, size=14, align="center")
