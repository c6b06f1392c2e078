"""The collection test corpus: each case a file, its expected outcome and problem cells.

Files are built from the template module (`apps.synthetic.workbook`) and then broken
by hand where the case needs it (openpyxl edits, truncation, a mail with the wrong
sender).  `python -m tests.data.corpus` writes them to `tests/data/collect/`, where
they are committed; the tests read those files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from apps import synthetic
from thidua.config import Config

DIR = Path(__file__).parent / "collect"
VN = timezone(timedelta(hours=7))
ON_TIME = datetime(2025, 12, 15, 9, 0, tzinfo=VN)
LATE = datetime(2025, 12, 24, 9, 0, tzinfo=VN)  # due 20/12/2025 moved to 22/12


@dataclass(frozen=True)
class Case:
    name: str  # file name in the inbox
    unit: str | None  # the unit it is for (None: unknown or unreadable)
    outcome: str
    problems: frozenset[tuple[str, str | None]]  # (rule_id, cell or sheet)
    received: datetime = ON_TIME


def P(*pairs):
    return frozenset(pairs)


CASES = [
    Case("good.xlsx", "CQ-VP", "accepted", P()),
    Case("wrong_unit.xlsx", None, "rejected", P(("unknown_unit", "ThongTin!C2"))),
    Case("sender_mismatch.eml", "CQ-VHXH", "rejected", P(("sender_mismatch", None))),
    Case("sender_ok.eml", "CQ-KT", "accepted", P()),
    Case("text_in_number.xlsx", "CQ-QS", "rejected", P(("not_number", "ChiTieu!D11"))),
    Case("negative_count.xlsx", "CQ-CA", "rejected", P(("min", "ChiTieu!D3"))),
    Case("percent_150.xlsx", "CQ-YT", "rejected", P(("max", "ChiTieu!D9"))),
    # dossiers: the public-service centre's figures (HC01-HC03 apply to it alone)
    Case("hc02_gt_hc01.xlsx", "CQ-HCC", "rejected", P(("at_most", "ChiTieu!D10"))),
    Case("missing_sheet.xlsx", "GD-MN2", "rejected", P(("missing_sheet", "SangKien"))),
    Case(
        "duplicate_row.xlsx",
        "GD-TH1",
        "rejected",
        P(("duplicate_indicator", "ChiTieu!D9"), ("duplicate_indicator", "ChiTieu!D14")),
    ),
    Case("ambiguous_number.xlsx", "GD-THCS", "rejected", P(("ambiguous_number", "ChiTieu!D11"))),
    Case(
        "vi_text_numbers.xlsx",
        "DN-01",
        "accepted_with_warnings",
        P(("text_number", "ChiTieu!D9"), ("text_number", "ChiTieu!D12")),
    ),
    Case("corrupt_zip.xlsx", None, "unreadable", P(("unreadable", None))),
    Case("empty.xlsx", None, "unreadable", P(("unreadable", None))),
    Case("encrypted.xlsx", None, "unreadable", P(("unreadable", None))),
    Case("bom.csv", "TX-01", "accepted", P()),
    Case("late.xlsx", "MT-DTN", "accepted_with_warnings", P(("late", None)), received=LATE),
]


def build(cfg: Config) -> dict[str, bytes]:
    """The bytes of every case, by file name."""
    import openpyxl

    nam = cfg.cycle("nam-2025")

    def wb(unit: str, **kw) -> bytes:
        return synthetic.workbook(cfg, cfg.unit(unit), nam, **kw)

    def edit(data: bytes, change) -> bytes:
        book = openpyxl.load_workbook(io.BytesIO(data))
        change(book)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def mail(sender: str, attachment: tuple[str, bytes]) -> bytes:
        msg = EmailMessage()
        msg["From"], msg["To"] = sender, cfg.settings.sender.email
        msg["Subject"], msg["Date"] = "Báo cáo thi đua năm 2025", format_datetime(ON_TIME)
        msg.set_content("Kính gửi Phòng VHXH, đơn vị gửi báo cáo đính kèm.")
        msg.add_attachment(
            attachment[1],
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=attachment[0],
        )
        return bytes(msg)

    good = wb("CQ-VP")
    return {
        "good.xlsx": good,
        "wrong_unit.xlsx": wb("CQ-KT", info={"ma_don_vi": "CQ-XX"}),
        "sender_mismatch.eml": mail("ketoan.vhxh@gmail.example", ("bao-cao.xlsx", wb("CQ-VHXH"))),
        "sender_ok.eml": mail(
            "Phòng Kinh tế <kinhte@phongdoanh.example>", ("nam-2025_CQ-KT.xlsx", wb("CQ-KT"))
        ),
        "text_in_number.xlsx": wb("CQ-QS", overrides={"DL01": "khoảng 50"}),
        "negative_count.xlsx": wb("CQ-CA", overrides={"TT01": -3}),
        "percent_150.xlsx": wb("CQ-YT", overrides={"HC04": 150}),
        "hc02_gt_hc01.xlsx": wb("CQ-HCC", overrides={"HC01": 10, "HC02": 20, "HC03": 5}),
        "missing_sheet.xlsx": edit(wb("GD-MN2", initiatives=0), lambda b: b.remove(b["SangKien"])),
        "duplicate_row.xlsx": edit(
            wb("GD-TH1"),
            lambda b: b["ChiTieu"].append(
                ["HC04", "Tỷ lệ văn bản đi, đến trao đổi dưới dạng điện tử", "%", 99]
            ),
        ),
        "ambiguous_number.xlsx": wb("GD-THCS", overrides={"DL01": "1,500"}),
        "vi_text_numbers.xlsx": wb("DN-01", overrides={"DN01": "1.234,5", "DN04": "12,5"}),
        "corrupt_zip.xlsx": wb("MT-MTTQ")[:4000],
        "empty.xlsx": b"",
        "encrypted.xlsx": encrypt(wb("MT-PN"), "matkhau"),
        "bom.csv": synthetic.csv_long(cfg, cfg.unit("TX-01"), nam),
        "late.xlsx": wb("MT-DTN"),
    }


def encrypt(data: bytes, password: str) -> bytes:
    """The workbook as Excel saves it with "Encrypt with Password" (an OLE2 container)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


if __name__ == "__main__":
    from thidua.config import load_config
    from thidua.settings import REPO_CONFIG

    DIR.mkdir(exist_ok=True)
    for name, data in build(load_config(REPO_CONFIG)).items():
        (DIR / name).write_bytes(data)
        print(f"{name:28} {len(data):7} bytes")
