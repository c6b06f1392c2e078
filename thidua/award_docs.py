"""The commendation documents in the layout of Decree 30/2020/NĐ-CP, from the council's
decisions (issue 22): the biên bản họp of the tier's Hội đồng Thi đua – Khen thưởng, its
chairman's Quyết định khen thưởng and the Tờ trình to the level above, each with its
danh sách kèm theo (also as xlsx).  Every word naming the tier (xã or tỉnh) is `[tier]`'s
(a commune's: Giấy khen, Tờ trình to the Chủ tịch UBND tỉnh; the province's: Bằng khen,
Tờ trình to the Thủ tướng).  The header, body paragraphs, tables and signature block are
those of the reports (`docx_report`); numbers and dates are left for the văn thư, like
the reports'."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_BREAK

from thidua.config import Config
from thidua.rollup.docx_report import (
    LEGAL_BASES,
    _closing,
    _header,
    _page,
    _para,
    _rule,
    _table,
)
from thidua.settings import Settings

LIST_HEADERS = (
    "STT",
    "Họ tên / Tên tập thể",
    "Năm sinh",
    "Giới tính",
    "Chức vụ",
    "Đơn vị công tác",
    "Hình thức",
    "Thành tích tóm tắt",
    "Khen thưởng đã nhận",
)
LIST_WIDTHS = (1.0, 3.2, 1.4, 1.3, 2.0, 2.2, 2.2, 3.0, 2.0)
PROPOSAL_LIST_TITLE = "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG"


def decision_list_title(s: Settings) -> str:
    """ "DANH SÁCH TẶNG GIẤY KHEN": the Quyết định's danh sách, of the tier's own form."""
    return f"DANH SÁCH TẶNG {s.tier.own_award.upper()}"


def list_rows(cfg: Config, rows: list[dict]) -> list[list]:
    """The danh sách kèm theo: a line per approved proposal, năm sinh and giới tính for a
    cá nhân only."""
    out = []
    for n, r in enumerate(rows, 1):
        person = r["subject_type"] == "Cá nhân"
        unit = cfg.units_by_code.get(r["unit_code"])
        out.append(
            [
                n,
                r["name"] or "",
                (r.get("birth_year") or "") if person else "",
                (r.get("gender") or "") if person else "",
                (r["position"] or "") if person else "",  # a collective has no chức vụ
                unit.name if unit else r["unit_code"],
                cfg.reward_forms.get(r["reward_form"], r["reward_form"]),
                r["summary"] or "",
                r.get("previous_awards") or "",
            ]
        )
    return out


def write_list_xlsx(cfg: Config, title: str, rows: list[dict], path: Path) -> Path:
    """The danh sách as a workbook: a title line, the headers, a line per proposal."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path)) as wb:
        ws = wb.add_worksheet("DanhSach")
        bold = wb.add_format({"bold": True, "text_wrap": True, "border": 1})
        cell = wb.add_format({"text_wrap": True, "border": 1, "valign": "top"})
        ws.write(0, 0, title, wb.add_format({"bold": True}))
        ws.write_row(2, 0, LIST_HEADERS, bold)
        for i, line in enumerate(list_rows(cfg, rows), 3):
            ws.write_row(i, 0, line, cell)
        for col, width in enumerate(LIST_WIDTHS):
            ws.set_column(col, col, width * 5)
    return path


def _counts(rows: list[dict]) -> str:
    n = {s: sum(r["subject_type"] == s for r in rows) for s in ("Tập thể", "Cá nhân")}
    n["Hộ gia đình"] = len(rows) - sum(n.values())
    return ", ".join(f"{k} {s.lower()}" for s, k in n.items() if k)


def _list_page(doc: DocxDocument, cfg: Config, title: str, kind: str, rows: list[dict]) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _para(doc, title, bold=True, align="center", space_after=0)
    _para(doc, f"(Kèm theo {kind} số      /… ngày   /   /     )", italic=True, align="center")
    _table(doc, list(LIST_HEADERS), list_rows(cfg, rows), LIST_WIDTHS)


def _bases(doc: DocxDocument, cfg: Config, meeting: dict | None) -> None:
    for basis in LEGAL_BASES:
        _para(doc, basis, italic=True, indent=True)
    if meeting:
        _para(
            doc,
            f"Căn cứ Biên bản họp {cfg.settings.tier.council} ngày {meeting['held_on']:%d/%m/%Y};",
            italic=True,
            indent=True,
        )


def quyet_dinh(
    cfg: Config, rows: list[dict], today: date, meeting: dict | None, path: Path
) -> Path:
    """The tier chairman's Quyết định tặng Giấy khen (a commune's; the province's: Bằng
    khen), with its danh sách."""
    s = cfg.settings
    tier = s.tier
    doc = Document()
    _page(doc)
    _header(doc, s, today, "QĐ-UBND")
    _para(doc, "QUYẾT ĐỊNH", bold=True, align="center", space_before=12, space_after=0)
    _para(doc, f"Về việc tặng {tier.own_award}", bold=True, align="center", space_after=0)
    _rule(doc, short=True)
    _para(doc, f"CHỦ TỊCH {s.commune.authority.upper()}", bold=True, align="center")
    _bases(doc, cfg, meeting)
    _para(doc, f"Theo đề nghị của {tier.lead_office}.", italic=True, indent=True)
    _para(doc, "QUYẾT ĐỊNH:", bold=True, align="center")
    _para(
        doc,
        f"Điều 1. Tặng {tier.own_award} của Chủ tịch {s.commune.authority_short} cho "
        f"{_counts(rows)} "
        "(có danh sách kèm theo) đã có thành tích trong thực hiện Phong trào thi đua.",
        indent=True,
    )
    _para(doc, "Điều 2. Quyết định có hiệu lực kể từ ngày ký.", indent=True)
    _para(
        doc,
        f"Điều 3. {tier.decision_executors}, các tập thể, cá nhân và hộ gia đình có tên tại "
        "Điều 1 chịu trách nhiệm thi hành Quyết định này./.",
        indent=True,
    )
    recipients = ("- Như Điều 3;", f"- {tier.council};", f"- Lưu: VT, {tier.lead_office_code}.")
    _closing(doc, s, recipients)
    _list_page(doc, cfg, decision_list_title(s), "Quyết định", rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def to_trinh(cfg: Config, rows: list[dict], today: date, meeting: dict | None, path: Path) -> Path:
    """The Tờ trình to the level above (a commune's: the Chủ tịch UBND tỉnh through Sở
    Nội vụ) for the higher forms the council approved, each form with who decides it,
    and its danh sách."""
    s = cfg.settings
    tier = s.tier
    doc = Document()
    _page(doc)
    _header(doc, s, today, "TTr-UBND")
    _para(doc, "TỜ TRÌNH", bold=True, align="center", space_before=12, space_after=0)
    _para(doc, "Về việc đề nghị khen thưởng", bold=True, align="center", space_after=0)
    _rule(doc, short=True)
    _para(doc, f"Kính gửi: {tier.proposal_to.format(province=s.commune.province)}", align="center")
    _bases(doc, cfg, meeting)
    _para(doc, f"{s.commune.authority} kính trình xem xét, khen thưởng:", indent=True)
    forms = list(dict.fromkeys(r["reward_form"] for r in rows))
    for code in forms:
        part = [r for r in rows if r["reward_form"] == code]
        rule = cfg.reward_rules.get(code)
        how = f" ({rule.decided_by})" if rule else ""
        name = rule.name if rule else code
        _para(doc, f"- {name} cho {_counts(part)}{how}.", indent=True)
    _para(
        doc,
        "Hồ sơ gồm: danh sách kèm theo, báo cáo thành tích và biên bản họp "
        f"{tier.council}. {s.commune.authority} kính trình./.",
        indent=True,
    )
    recipients = (
        "- Như trên;",
        f"- {tier.proposal_office};",
        f"- Lưu: VT, {tier.lead_office_code}.",
    )
    _closing(doc, s, recipients)
    _list_page(doc, cfg, PROPOSAL_LIST_TITLE, "Tờ trình", rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def bien_ban(cfg: Config, meeting: dict, members: list, decided: list[dict], path: Path) -> Path:
    """The biên bản họp of the tier's Hội đồng Thi đua – Khen thưởng: who was present
    out of how many, and each proposal decided at the meeting with its vote, its note and
    the register's warning about an earlier award the council saw."""
    s = cfg.settings
    council = s.tier.council
    doc = Document()
    _page(doc)
    _header(doc, s, meeting["held_on"], "BB-HĐTĐKT")
    _para(doc, "BIÊN BẢN HỌP", bold=True, align="center", space_before=12, space_after=0)
    _para(doc, council, bold=True, align="center", space_after=0)
    _rule(doc, short=True)
    _para(
        doc,
        f"Hôm nay, ngày {meeting['held_on']:%d/%m/%Y}, tại trụ sở {s.commune.authority}, "
        f"{council} họp xét các đề nghị khen thưởng của các cơ quan, đơn vị trong kỳ "
        f"“{cfg.cycle(meeting['cycle_id']).title}”.",
        indent=True,
    )
    present = list(meeting["present"])
    _para(
        doc,
        f"Thành phần: {len(present)}/{meeting['members']} thành viên Hội đồng có mặt:",
        indent=True,
    )
    for m in members:
        if m.name in present:
            _para(doc, f"- {m.name}, {m.role};", indent=True, space_after=0)
    _para(doc, "Kết quả xét (số phiếu đồng ý trên tổng số thành viên Hội đồng):", indent=True)
    _table(
        doc,
        ["STT", "Tên tập thể, cá nhân", "Đơn vị", "Hình thức", "Kết quả", "Số phiếu", "Ghi chú"],
        [
            [
                n,
                r["name"] or "",
                r["unit_code"],
                cfg.reward_forms.get(r["reward_form"], r["reward_form"]),
                "Đồng ý" if r["to_state"] == "hoi-dong-dong-y" else "Không đồng ý",
                f"{r['votes_for']}/{r['members']}",
                "; ".join(x for x in (r["note"], r.get("warning")) if x),
            ]
            for n, r in enumerate(decided, 1)
        ],
        (1.0, 3.6, 1.8, 3.2, 2.0, 1.6, 2.8),
    )
    _para(doc, "Biên bản lập xong và được các thành viên dự họp thông qua./.", indent=True)
    _para(
        doc,
        "THƯ KÝ                                   CHỦ TỊCH HỘI ĐỒNG",
        bold=True,
        align="center",
        space_before=12,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
