"""A hostile inbox: 200+ files that try to break the collection, and what each must
come to.

Built from the valid template (`apps.synthetic`) and then broken at the byte, zip,
XML, CSV, mail or file-system level; deterministic (seeded), written straight into an
inbox by `build`.  Each case names its class (the rows of docs/reliability.md), the
outcome it must get (None: any single outcome, for random damage) and, when the
reason matters, a piece of the Vietnamese message.
"""

from __future__ import annotations

import io
import os
import random
import re
import zipfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from apps import synthetic
from data.corpus import ON_TIME, encrypt
from thidua.config import Config

INFO, SHEET = "xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml"  # ThongTin, ChiTieu
MAIL_UNIT = "TX-01"  # the unit of the many-attachment mail: its versions follow it
ATTACHMENTS = 30


@dataclass(frozen=True)
class Case:
    name: str
    cls: str
    outcome: str | None  # None: any one outcome (random damage)
    reason: str | None = None  # part of a problem's message_vi
    kind: str = "file"  # file | symlink | fifo
    raw_name: bytes | None = None  # the name on disk when it is not UTF-8


def build(cfg: Config, inbox: Path) -> list[Case]:
    """Write the corpus into `inbox` (mtime: on time for the cycle) and return its cases."""
    cases: list[Case] = []
    nam = cfg.cycle("nam-2025")
    units = [u for u in cfg.units if u.code != MAIL_UNIT]
    serial = iter(range(10**6))

    def wb(unit_index: int = 0, info: dict | None = None, **kw) -> bytes:
        """A valid workbook; `serial` makes every one differ (no accidental duplicate)."""
        unit = units[unit_index % len(units)]
        return synthetic.workbook(
            cfg, unit, nam, **kw, info={"tom_tat": f"bản {next(serial)}", **(info or {})}
        )

    def add(
        name: str, cls: str, outcome: str | None, data: bytes, reason: str | None = None
    ) -> None:
        (inbox / name).write_bytes(data)
        cases.append(Case(name, cls, outcome, reason))

    for i in range(20):
        add(f"hop-le-{i:02}.xlsx", "hợp lệ", "accepted", wb(i))
    add("hop-le.csv", "hợp lệ", "accepted", synthetic.csv_long(cfg, units[20], nam))
    _containers(add, wb)
    _formats(add, wb)
    _formulas(add, wb)
    _numbers(add, wb)
    _unicode(add, wb)
    _layout(add, wb)
    _xml(add, wb)
    _csv(add, cfg, nam, units)
    _mail(add, cfg, nam, wb, units)
    _duplicates_and_empty(add, wb)
    _damage(add, wb)
    _names_and_links(inbox, cases, wb)
    stamp = ON_TIME.timestamp()
    for case in cases:
        os.utime(
            os.path.join(os.fsencode(inbox), case.raw_name or os.fsencode(case.name)),
            (stamp, stamp),
            follow_symlinks=False,
        )
    return cases


# -- helpers ------------------------------------------------------------------------------


def rezip(data: bytes, edits: dict[str, bytes | None], compression=zipfile.ZIP_DEFLATED) -> bytes:
    """The workbook with members replaced (None: removed) or added."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for info in src.infolist():
            if info.filename in edits:
                continue
            z.writestr(info.filename, src.read(info))
        for name, content in edits.items():
            if content is not None:
                z.writestr(name, content)
    return out.getvalue()


def member(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


def set_cell(data: bytes, ref: str, cell_xml: str, sheet: str = SHEET) -> bytes:
    """The workbook with cell `ref` of `sheet` replaced by `cell_xml` (raw XML)."""
    xml = member(data, sheet).decode()
    xml, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', cell_xml, xml, count=1)
    assert n == 1, ref
    return rezip(data, {sheet: xml.encode()})


def sheet_xml(rows: str, dimension: str = "A1") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
        '"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


# -- classes --------------------------------------------------------------------------


def _containers(add, wb) -> None:
    cls = "vỏ tệp (zip)"
    good = wb(1)
    for k, cut in enumerate(
        (
            10,
            100,
            500,
            1000,
            2000,
            4000,
            6000,
            8000,
            len(good) - 200,
            len(good) - 60,
            len(good) - 30,
            len(good) - 10,
            len(good) - 1,
        )
    ):
        add(f"cat-cut-{k:02}.xlsx", cls, "unreadable", good[:cut], "Không mở được tệp")
    end = good.rfind(b"PK\x05\x06")
    cd = good.rfind(b"PK\x01\x02")
    add("cd-truncated.xlsx", cls, "unreadable", good[: end - 40] + good[end:])
    add("cd-garbled.xlsx", cls, "unreadable", good[:cd] + b"\xff" * 64 + good[cd + 64 :])
    add("cd-count-wrong.xlsx", cls, "unreadable", good[: end + 10] + b"\xff\x00" + good[end + 12 :])
    for k in range(4):
        add(
            f"not-zip-{k}.xlsx",
            cls,
            "unreadable",
            random.Random(k).randbytes(3000 + k),
            "không phải tệp Excel",
        )
    add(
        "bomb-ratio.xlsx",
        cls,
        "unreadable",
        rezip(good, {SHEET: b"<" + b" " * (15 * 2**20)}),
        "tệp nén bất thường",
    )
    four_letters = bytes(b"abcd"[i % 4] for i in range(256))  # packs about 4 to 1
    add(
        "bomb-total.xlsx",
        cls,
        "unreadable",
        rezip(
            good,
            {
                f"xl/media/pad{k}.txt": random.Random(k)
                .randbytes(5 * 2**20)
                .translate(four_letters)
                for k in range(5)
            },
        ),
        "giải nén quá lớn",
    )
    forged = bytearray(rezip(good, {SHEET: member(good, SHEET) + b" " * 2**20}))
    for sig in (b"PK\x01\x02", b"PK\x03\x04"):  # declare the sheet tiny, both headers
        pos = 0
        while (pos := forged.find(sig, pos + 1)) >= 0:
            name_at = pos + (46 if sig == b"PK\x01\x02" else 30)
            n = int.from_bytes(forged[pos + (28 if sig == b"PK\x01\x02" else 26) :][:2], "little")
            if forged[name_at : name_at + n] == SHEET.encode():
                at = pos + (24 if sig == b"PK\x01\x02" else 22)
                forged[at : at + 4] = (1000).to_bytes(4, "little")
    add("bomb-forged-size.xlsx", cls, "unreadable", bytes(forged))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("bao-cao.xlsx", good)
    add("zip-of-xlsx.xlsx", cls, "unreadable", inner.getvalue())
    add(
        "xlsx-with-zip-inside.xlsx",
        cls,
        "accepted",
        rezip(wb(2), {"xl/embeddings/nested.zip": inner.getvalue()}),
    )
    add("stored-not-deflated.xlsx", cls, "accepted", rezip(wb(3), {}, zipfile.ZIP_STORED))
    add("encrypted.xlsx", cls, "unreadable", encrypt(wb(4), "matkhau"), "mật khẩu")
    add(
        "ole2-garbage.xlsx",
        cls,
        "unreadable",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000,
        "Excel cũ",
    )


def _formats(add, wb) -> None:
    cls = "định dạng khác"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1000
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    for name, data in [
        ("bao-cao.xls", ole),
        ("bao-cao.ods", ods.getvalue()),
        ("bao-cao.xlsm", wb(5)),
        ("bao-cao.pdf", b"%PDF-1.4\n%\xe2\xe3\n"),
        ("ghi-chu.txt", "Báo cáo gửi kèm".encode()),
        ("bao-cao.docx", wb(6)),
        ("bao-cao", wb(7)),
        ("bao-cao.json", b'{"TS01": 1}'),
        ("bao-cao.xlsb", ole + b"b"),
        ("bao-cao.htm", b"<html>=1+1</html>"),
        ("bao-cao.xlsx.exe", b"MZ\x90\0"),
        (".an.xlsx.swp", b"swap"),
    ]:
        add(
            name,
            cls,
            "unreadable",
            data,
            "hãy lưu lại thành tệp .xlsx" if not name.endswith(".xlsx.swp") else None,
        )
    add("HOA-DON.XLSX", cls, "accepted", wb(8))


def _formulas(add, wb) -> None:
    cls = "công thức, giá trị lỗi"
    for k, err in enumerate(("#DIV/0!", "#REF!", "#VALUE!", "#N/A", "#NAME?", "#NUM!", "#NULL!")):
        add(
            f"loi-cong-thuc-{k}.xlsx",
            cls,
            "rejected",
            set_cell(wb(9 + k), "D2", f'<c r="D2" t="e"><f>1/0</f><v>{err}</v></c>'),
            f"ô chứa lỗi công thức {err}",
        )
    add(
        "cong-thuc-khong-gia-tri.xlsx",
        cls,
        "rejected",
        set_cell(wb(16), "D2", '<c r="D2"><f>SUM(D3:D4)</f></c>'),
        "công thức chưa được tính",  # was «Chưa nhập giá trị» (issue 23)
    )
    add(
        "cong-thuc-co-gia-tri.xlsx",
        cls,
        "rejected",  # the cached 5 is read
        set_cell(wb(17), "D2", '<c r="D2"><f>D3</f><v>5</v></c>'),
        "TS01 = 5;",
    )
    add(
        "loi-o-ma-don-vi.xlsx",
        cls,
        "rejected",
        set_cell(wb(18), "C2", '<c r="C2" t="e"><v>#REF!</v></c>', INFO),
        "#REF!",
    )


def _numbers(add, wb) -> None:
    cls = "số"
    for k, (v, outcome, reason) in enumerate(
        [
            ("inf", "rejected", "không phải là một số hữu hạn"),
            ("-inf", "rejected", "không phải là một số hữu hạn"),
            ("nan", "rejected", "không phải là một số hữu hạn"),
            ("1e400", "rejected", "không phải là một số hữu hạn"),
            ("1.7e308", "rejected", "quá lớn"),
            ("-1.7e308", "rejected", "quá lớn"),
            ("100000000000000000000", "rejected", "quá lớn"),
            ("-1e-300", "rejected", "TS01 = -1e-300: không được nhỏ hơn 0"),
            ("1e-300", "rejected", "phải là số nguyên"),
            ("-0", "rejected", "TS01 = 0;"),
            ("1E+4", "accepted", None),
        ]
    ):
        add(
            f"so-{k:02}.xlsx",
            cls,
            outcome,
            set_cell(wb(20 + k), "D2", f'<c r="D2"><v>{v}</v></c>'),
            reason,
        )
    for k, (text, outcome) in enumerate(
        [
            ("1.234", "accepted_with_warnings"),
            ("1,234", "rejected"),
            ("1e400", "rejected"),
            ("∞", "rejected"),
            ("NaN", "rejected"),
            ("9" * 400, "rejected"),
            ("--5", "rejected"),
            ("١٢", "rejected"),
        ]
    ):
        add(
            f"so-chu-{k}.xlsx",
            cls,
            outcome,
            set_cell(wb(31 + k), "D2", f'<c r="D2" t="inlineStr"><is><t>{text}</t></is></c>'),
        )


def _unicode(add, wb) -> None:
    cls = "unicode"
    add(
        "ma-nfd.xlsx",
        cls,
        "rejected",
        wb(0, info={"ma_don_vi": "C\u0051-V\u0301P"}),
        "không có trong danh sách",
    )
    add(
        "ma-zero-width.xlsx",
        cls,
        "rejected",
        wb(1, info={"ma_don_vi": "CQ-\u200bKT"}),
        "không có trong danh sách",
    )
    add("rtl-override.xlsx", cls, "accepted", wb(2, info={"tom_tat": "\u202eđảo chiều"}))
    add("emoji.xlsx", cls, "accepted", wb(3, info={"nguoi_lap": "Trần 👩‍💼 Bình"}))
    add(
        "text-30k.xlsx",
        cls,
        "accepted_with_warnings",
        wb(4, info={"tom_tat": "Đạt " * 7500}),
        "quá giới hạn 1.500 ký tự",
    )  # kept whole; the report quotes the first 1.500
    add("to-hop-dau.xlsx", cls, "accepted", wb(5, info={"nguoi_lap": "Nguye\u0302\u0303n"}))
    add(
        "formula-text.xlsx",
        cls,
        "accepted",
        wb(6, info={"ten_don_vi": '=HYPERLINK("http://x.example","Bấm")'}),
    )


def _layout(add, wb) -> None:
    cls = "bố cục"
    import openpyxl

    for k, sheet in enumerate(("ThongTin", "ChiTieu", "SangKien", "DeNghiKhenThuong")):
        book = openpyxl.load_workbook(io.BytesIO(wb(7 + k)))
        book.remove(book[sheet])
        out = io.BytesIO()
        book.save(out)
        add(f"thieu-{sheet}.xlsx", cls, "rejected", out.getvalue(), f"Thiếu trang tính “{sheet}”")
    good = wb(11)
    xml = member(good, SHEET).decode()
    add(
        "dimension-huge.xlsx",
        cls,
        "unreadable",
        rezip(
            good,
            {
                SHEET: re.sub(
                    r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml
                ).encode()
            },
        ),
        "XFD1048576",
    )
    add(
        "cell-XFD1048576.xlsx",
        cls,
        "unreadable",
        rezip(
            good,
            {
                SHEET: xml.replace(
                    '<c r="D2"', '<c r="XFD1048576"><v>1</v></c><c r="D2"', 1
                ).encode()
            },
        ),
        "tệp có ô ở vị trí XFD1048576",
    )
    add(
        "row-1048576.xlsx",
        cls,
        "unreadable",
        rezip(
            good,
            {
                SHEET: xml.replace(
                    "</sheetData>",
                    '<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData>',
                ).encode()
            },
        ),
        "tệp có dòng 1048576",
    )
    add(
        "cell-ZZZZZZ2.xlsx",
        cls,
        "unreadable",
        rezip(
            good,
            {SHEET: xml.replace('<c r="D2"', '<c r="ZZZZZZ2"><v>1</v></c><c r="D2"', 1).encode()},
        ),
        "ZZZZZZ2",
    )
    add(
        "row-2001.xlsx",
        cls,
        "unreadable",
        rezip(
            good,
            {
                SHEET: xml.replace(
                    "</sheetData>", '<row r="2001"><c r="A2001"><v>1</v></c></row></sheetData>'
                ).encode()
            },
        ),
        "2.000",
    )
    rng = random.Random(180)
    rows = "".join(
        f'<row r="{i}"><c r="A{i}"><v>{rng.randint(0, 10**9)}</v></c>'
        f'<c r="B{i}"><v>{rng.random()}</v></c></row>'
        for i in range(1, 180_001)
    )
    add("rows-180000.xlsx", cls, "unreadable", rezip(good, {SHEET: sheet_xml(rows)}), "2.000 dòng")
    no_r = "".join(f"<row><c><v>{i}</v></c></row>" for i in range(3000))
    add(
        "rows-without-r.xlsx",
        cls,
        "unreadable",
        rezip(good, {SHEET: sheet_xml(no_r)}),
        "2.000 dòng",
    )
    cells = "".join(
        f'<row r="{i}">' + "".join(f"<c><v>{rng.random()}</v></c>" for _ in range(60)) + "</row>"
        for i in range(1, 1000)
    )
    add("cells-60000.xlsx", cls, "unreadable", rezip(good, {SHEET: sheet_xml(cells)}), "50.000 ô")
    add("sheet-empty.xlsx", cls, "rejected", rezip(wb(12), {SHEET: sheet_xml("")}), "thiếu cột")
    book = openpyxl.load_workbook(io.BytesIO(wb(13)))
    book["ChiTieu"].move_range("A1:E40", rows=3, cols=2)
    out = io.BytesIO()
    book.save(out)
    add("bang-dich-cheo.xlsx", cls, "rejected", out.getvalue())
    book = openpyxl.load_workbook(io.BytesIO(wb(14)))
    book["ChiTieu"].title = "Chi tieu"
    out = io.BytesIO()
    book.save(out)
    add("doi-ten-trang.xlsx", cls, "rejected", out.getvalue(), "Thiếu trang tính “ChiTieu”")


def _xml(add, wb) -> None:
    cls = "XML bên trong"
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{k} "{("&lol%s;" % (k - 1 if k else "")) * 10}">' for k in range(1, 10)
        )
        + "]>"
    )
    good = wb(15)
    sheet = member(good, SHEET).decode()
    shared = member(good, "xl/sharedStrings.xml").decode()
    add(
        "laughs-sheet.xlsx",
        cls,
        "unreadable",
        rezip(
            good,
            {
                SHEET: (laughs + sheet.split("?>", 1)[1])
                .replace(
                    '<c r="A2"', '<c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c><c r="Z1"', 1
                )
                .encode()
            },
        ),
        "DOCTYPE",
    )
    body = shared.split("?>", 1)[1]  # calamine refuses a used entity itself
    add(
        "laughs-shared.xlsx",
        cls,
        "unreadable",
        rezip(
            good, {"xl/sharedStrings.xml": (laughs + body.replace("<t>", "<t>&lol9;", 1)).encode()}
        ),
    )
    add(
        "external-entity.xlsx",
        cls,
        "unreadable",
        rezip(
            wb(16),
            {
                "xl/sharedStrings.xml": (
                    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                    '"file:///etc/passwd">]>' + body.replace("<t>", "<t>&e;", 1)
                ).encode()
            },
        ),
    )
    rng = random.Random(3)
    big = "".join(f"<si><t>{rng.randbytes(24).hex()}</t></si>" for _ in range(50_000))
    add(
        "shared-3mb.xlsx",
        cls,
        "unreadable",
        rezip(wb(17), {"xl/sharedStrings.xml": f'<?xml version="1.0"?><sst>{big}</sst>'.encode()}),
        "bảng chuỗi văn bản quá lớn",
    )
    add(
        "xml-malformed.xlsx",
        cls,
        "unreadable",
        rezip(wb(18), {SHEET: sheet[: len(sheet) // 2].encode()}),
    )
    add(
        "xml-prolog-padded.xlsx",
        cls,
        None,
        rezip(wb(19), {SHEET: ("<!--" + "x" * 10_000 + "-->" + sheet).encode()}),
    )
    add(
        "xml-prefixed.xlsx",
        cls,
        None,
        rezip(
            wb(20),
            {
                SHEET: re.sub(r"<(/?)(worksheet|sheetData|row|c|v|dimension)\b", r"<\1x:\2", sheet)
                .replace('xmlns="', 'xmlns:x="')
                .encode()
            },
        ),
    )
    add(
        "xml-tab-attrs.xlsx",
        cls,
        "unreadable",
        rezip(
            wb(21),
            {SHEET: sheet.replace('<c r="D2"', '<c\tr="XFD2"><v>1</v></c><c r="D2"', 1).encode()},
        ),
        "XFD2",
    )


def _csv(add, cfg: Config, nam, units) -> None:
    cls = "CSV"
    unit, other = units[21], units[22]
    good = synthetic.csv_long(cfg, unit, nam, bom=False).decode()
    lines = good.strip("\r\n").split("\r\n")
    head = lines[0]

    def csv_(name, outcome, text, reason=None, encoding="utf-8"):
        add(name, cls, outcome, text.encode(encoding) if isinstance(text, str) else text, reason)

    csv_("cr-only.csv", "accepted", "\r".join(lines) + "\r")
    csv_("lf-only.csv", "accepted", "\n".join(lines) + "\n")
    csv_(
        "field-200kb.csv",
        "unreadable",
        "\r\n".join([head, lines[1] + "x" * 200_000] + lines[2:]),
        "dài quá 128 KB",
    )
    csv_("header-only.csv", "rejected", head + "\r\n", "Tệp chỉ có dòng tiêu đề")
    csv_("bom.csv", "accepted", "\ufeff" + "\r\n".join(lines))
    csv_(
        "other-unit-row.csv",
        "rejected",
        "\r\n".join(lines[:3] + [lines[3].replace(unit.code, other.code, 1)] + lines[4:]),
        f"mã đơn vị của đơn vị khác (“{other.code}”",
    )
    csv_(
        "unknown-unit-row.csv",
        "rejected",
        "\r\n".join(lines[:3] + [lines[3].replace(unit.code, "XX-99", 1)] + lines[4:]),
        "không có trong danh sách",
    )
    csv_(
        "latin1.csv",
        "unreadable",
        "\r\n".join(lines) + "\r\nghi chú é",
        "UTF-8",
        encoding="latin-1",
    )
    csv_("nul-byte.csv", "unreadable", "\r\n".join(lines).replace(",", ",\0", 1), "thiếu cột")
    csv_("missing-columns.csv", "unreadable", "a,b,c\r\n1,2,3", "thiếu cột")
    csv_(
        "semicolons.csv", "unreadable", "\r\n".join(x.replace(",", ";") for x in lines), "thiếu cột"
    )
    csv_("blank-lines-only.csv", "unreadable", "\r\n\r\n\r\n", "thiếu cột")
    csv_(
        "quoted-newline.csv",
        "accepted",
        "\r\n".join([head] + [x + '"dòng 1\ndòng 2"' for x in lines[1:]]),
    )
    csv_(
        "inf-values.csv",
        "rejected",
        "\r\n".join([head, *[re.sub(r",[^,]*,$", ",inf,", x) for x in lines[1:]]]),
        "không phải là số",
    )
    csv_(
        "huge-number.csv",
        "rejected",
        "\r\n".join([head, re.sub(r",[^,]*,$", "," + "9" * 30 + ",", lines[1]), *lines[2:]]),
        "quá lớn",
    )
    csv_(
        "many-rows.csv",
        "accepted_with_warnings",
        "\r\n".join(lines + [f"{unit.code},{nam.id},ZZ{k:05},1," for k in range(10_000)]),
    )
    csv_(
        "formula-note.csv",
        "accepted",
        "\r\n".join([head] + [x + '"=HYPERLINK(""http://x.example"")"' for x in lines[1:]]),
    )


def _mail(add, cfg: Config, nam, wb, units) -> None:
    cls = "thư điện tử"

    def mail(sender: str | None, attachments, date=True) -> EmailMessage:
        msg = EmailMessage()
        if sender:
            msg["From"] = sender
        msg["To"], msg["Subject"] = cfg.settings.sender.email, "Báo cáo thi đua"
        if date:
            msg["Date"] = format_datetime(ON_TIME)
        msg.set_content("Kính gửi Phòng VHXH.")
        for name, data in attachments:
            msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
        return msg

    unit = cfg.unit(MAIL_UNIT)
    add(
        "nhieu-tep.eml",
        cls,
        "accepted",
        bytes(
            mail(
                unit.email,
                [
                    (
                        f"ban-{k:02}.xlsx",
                        synthetic.workbook(cfg, unit, nam, overrides={"TS01": 1000 + k}),
                    )
                    for k in range(ATTACHMENTS)
                ],
            )
        ),
    )
    add("khong-from.eml", cls, "accepted", bytes(mail(None, [("a.xlsx", wb(23))])))
    add(
        "khong-date.eml",
        cls,
        "accepted",
        bytes(mail(units[24].email, [("a.xlsx", wb(24))], date=False)),
    )
    inner = mail(units[25].email, [("b.xlsx", wb(25))])
    outer = mail(units[25].email, [])
    outer.add_attachment(inner)
    add("long-thu.eml", cls, "accepted", bytes(outer))  # a forwarded mail's workbook
    add(
        "dinh-kem-xls.eml",
        cls,
        "unreadable",
        bytes(mail(units[26].email, [("a.xls", b"\xd0\xcf\x11\xe0")])),
        "không nhận tệp định dạng .xls",  # as the folder answers an .xls
    )
    add(
        "dinh-kem-rong.eml",
        cls,
        "unreadable",
        bytes(mail(units[27].email, [("rong.xlsx", b"")])),
        "tệp rỗng",
    )
    same = wb(28)
    add(
        "dinh-kem-trung.eml",
        cls,
        None,
        bytes(mail(units[28].email, [("a.xlsx", same), ("b.xlsx", same)])),
    )
    add(
        "mime-hong.eml",
        cls,
        "unreadable",
        b"From: x@y\r\nContent-Type: multipart/mixed; "
        b'boundary="zz"\r\n\r\n--zz\r\nContent-Disposition: attachment; filename=a.xlsx'
        b"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
    )
    add("header-lon.eml", cls, "unreadable", b"X-Long: " + b"a" * 200_000 + b"\r\n\r\nbody")
    add(
        "ten-dinh-kem-la.eml",
        cls,
        "accepted",
        bytes(mail(units[29].email, [("../../etc/" + "đ" * 150 + ".xlsx", wb(29))])),
    )
    add("khong-phai-thu.eml", cls, "unreadable", random.Random(9).randbytes(4000))


def _duplicates_and_empty(add, wb) -> None:
    same = wb(30)
    add("trung-a.xlsx", "trùng lặp", "accepted", same)
    add("trung-b.xlsx", "trùng lặp", "duplicate", same)
    add("trung-c.xlsx", "trùng lặp", "duplicate", same)
    # the pdf named apart: "rong.pdf" would be rong.xlsx's plan (intake.pair_documents)
    for name in ("rong.xlsx", "rong.csv", "rong.eml", "rong-van-ban.pdf", "rong"):
        add(
            name,
            "tệp rỗng",
            "unreadable",
            b"",
            "tệp rỗng" if name.endswith((".xlsx", ".csv", ".eml")) else "lưu lại thành",
        )


def _damage(add, wb) -> None:
    """Random bytes of valid files flipped: each must end with one outcome, whatever."""
    rng = random.Random(16)
    for k in range(60):
        data = bytearray(wb(k))
        for _ in range(1 + k % 4):
            data[rng.randrange(len(data))] = rng.randrange(256)
        add(f"hong-{k:02}.xlsx", "byte bị sửa", None, bytes(data))


def _names_and_links(inbox: Path, cases: list[Case], wb) -> None:
    cls = "tên tệp, liên kết"
    target = inbox.parent / "ngoai-hop-thu.xlsx"
    target.write_bytes(wb(31))
    for name, dest in [
        ("lien-ket.xlsx", target),
        ("lien-ket-hong.xlsx", inbox / "khong-co"),
        ("lien-ket-dev.csv", Path("/dev/zero")),
        ("lien-ket-thu-muc.xlsx", inbox.parent),
    ]:
        os.symlink(dest, inbox / name)
        cases.append(Case(name, cls, "unreadable", "liên kết tượng trưng", "symlink"))
    os.mkfifo(inbox / "ong.xlsx")
    cases.append(Case("ong.xlsx", cls, "unreadable", "không phải tệp thông thường", "fifo"))
    raw = b"bao-cao-\xff\xfe.xlsx"
    with open(os.path.join(os.fsencode(inbox), raw), "wb") as f:
        f.write(wb(32))
    cases.append(Case("bao-cao-\ufffd\ufffd.xlsx", cls, "accepted", raw_name=raw))
    for name in [
        "a" * 240 + ".xlsx",
        "đ" * 120 + ".xlsx",
        "-rf .xlsx",
        "dòng\nmới.xlsx",
        "Ba\u0301o ca\u0301o.xlsx",
    ]:
        (inbox / name).write_bytes(wb(33 + len(cases) % 5))
        cases.append(Case(name, cls, "accepted"))
