"""Plausible filled submissions for the demo, the bench and the test corpus.

Values are generated from the indicator rules (types, bounds, `at_most`,
`warn_at_most`), so a default synthetic submission passes every check; tests and the
demo then break one thing on purpose.  The same unit gets similar figures every year
(seeded by unit code), so year-over-year warnings only fire when asked for.
"""

from __future__ import annotations

import os
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from thidua.config import REVIEW_KINDS, Config, Cycle, Unit
from thidua.layout import GENDERS
from thidua.workspace import Workspace

FIELDS = ("Chuyển đổi số", "Cải cách hành chính", "Giáo dục", "Y tế", "Nông nghiệp")


# Per-kind plausible ranges (a commune of ~40 units): (low, high) counts drawn once per
# unit, so small counts (classes, incidents, teams) are the same every year and only
# large ones vary (±10-15 %) from year to year.  "share" rules derive a count from the
# one it is part of: online dossiers of dossiers received, trained people of TS01...
LEVELS: dict[str, dict[str, tuple[float, float]]] = {
    "TS01": {
        "co_quan": (12, 45),
        "mat_tran_doan_the": (150, 900),
        "doanh_nghiep": (15, 250),
    },  # thon_xom: from households
    "TT01": {"": (2, 12)},
    "BD01": {
        "co_quan": (1, 3),
        "mat_tran_doan_the": (1, 5),
        "doanh_nghiep": (0, 2),
        "thon_xom": (1, 4),
    },  # classes: a handful a year
    "HC01": {"mot-cua": (2500, 6000)},  # only the public-service centre
    "DL01": {"": (50, 1500)},
    "DL02": {"": (0, 3)},
    "MT01": {"mat_tran_doan_the": (0, 2), "thon_xom": (1, 1)},  # one team per village
    "MT02": {"": (0, 3)},
    "DN01": {"": (20, 800)},  # triệu đồng
    "DN03": {"": (0, 5)},
    "DN04": {"": (0, 3000)},  # triệu đồng
    "TX01": {"": (150, 450)},  # households per village
    "AN01": {"": (0, 3)},  # incidents a year
}
SHARES: dict[str, tuple[str, float, float]] = {
    "TT02": ("TS01", 0.8, 3.0),
    "BD02": ("TS01", 0.3, 0.85),
    "BD03": ("BD02", 0.2, 0.7),
    "HC02": ("HC01", 0.4, 0.85),
    "HC03": ("HC01", 0.9, 0.99),
    "TX02": ("TX01", 0.55, 0.95),
    "TX03": ("TS01", 0.6, 0.9),
    "TX04": ("TS01", 0.5, 0.9),
    "TX05": ("TS01", 0.3, 0.7),
}
VARYING = {"TS01", "TT01", "HC01", "DL01", "DN01", "DN04", "TX01"}  # ±10-15 % a year


def _range(code: str, unit: Unit) -> tuple[float, float] | None:
    ranges = LEVELS.get(code)
    if not ranges:
        return None
    for key in (*unit.tags, unit.block, unit.kind, ""):
        if key in ranges:
            return ranges[key]
    return None


def values(cfg: Config, unit: Unit, cycle: Cycle, initiatives: int = 1) -> dict[str, float]:
    """One value per indicator that applies to the unit (its kind, and its tags: HC01-HC03
    only at the public-service centre), satisfying every rule, in per-kind plausible
    ranges (LEVELS, SHARES)."""
    base = random.Random(unit.code)
    year = random.Random(f"{unit.code}/{cycle.id}")
    out: dict[str, float] = {}
    inds = cfg.indicators_for(unit)
    # references first, so shares, `at_most` and `warn_at_most` can look them up
    order = ["TX01", "TS01", "HC01", "BD02"]
    inds.sort(
        key=lambda i: (
            order.index(i.code)
            if i.code in order
            else len(order)
            + (i.code in SHARES or i.at_most is not None or i.warn_at_most is not None)
        )
    )
    for ind in inds:
        drift = year.uniform(0.9, 1.15) if ind.code in VARYING else 1.0
        rng = _range(ind.code, unit)
        if ind.code == "TS01" and unit.kind == "thon_xom" and "TX01" in out:
            v = float(round(out["TX01"] * base.uniform(2.3, 3.0)))  # people aged 15+
        elif ind.code in SHARES and SHARES[ind.code][0] in out:
            ref, lo, hi = SHARES[ind.code]
            v = float(round(out[ref] * base.uniform(lo, hi)))
        elif ind.type == "percent":
            v = round(min(100.0, base.uniform(60, 95) * year.uniform(0.95, 1.05)), 1)
        elif ind.type == "bool":
            v = 1.0
        elif rng:
            v = base.uniform(*rng) * drift
            v = round(v, 1) if ind.type == "decimal" else float(round(v))
        else:
            v = float(round(base.randint(5, 50) * drift))
        if ind.at_most and ind.at_most in out:
            v = min(v, out[ind.at_most])
        if ind.warn_at_most:
            factor, ref = ind.warn_at_most
            v = min(v, float(factor * out[ref]))
        out[ind.code] = v
    if "SK01" in out:
        out["SK01"] = float(initiatives)
    return out


# ThongTin narrative fields by unit kind (illustrative; the demo's units "write" them).
NARRATIVES: dict[str, dict[str, str]] = {
    "co_quan": {
        "tom_tat": "Ứng dụng phần mềm quản lý văn bản và hồ sơ công việc trong toàn đơn vị",
        "mo_hinh": "Số hoá hồ sơ lưu trữ và tra cứu bằng mã QR",
        "kho_khan": "Thiết bị tin học đã cũ, đường truyền Internet chưa ổn định",
        "de_xuat": "Bố trí kinh phí nâng cấp máy tính và máy quét tài liệu",
    },
    "mat_tran_doan_the": {
        "tom_tat": "Phối hợp mở lớp hướng dẫn kỹ năng số cho hội viên",
        "mo_hinh": "Tổ công nghệ số của hội hướng dẫn hội viên cài đặt VNeID tại nhà",
        "kho_khan": "Hội viên cao tuổi còn ngại sử dụng điện thoại thông minh",
        "de_xuat": "Hỗ trợ tài liệu hướng dẫn kỹ năng số bằng hình ảnh, dễ hiểu",
    },
    "doanh_nghiep": {
        "tom_tat": "Triển khai hoá đơn điện tử và bán hàng qua sàn thương mại điện tử",
        "mo_hinh": "Quản lý đơn hàng và kho bằng phần mềm trên điện thoại",
        "kho_khan": "Thiếu nhân lực có kỹ năng số, chi phí phần mềm còn cao",
        "de_xuat": "Tổ chức tập huấn thương mại điện tử cho doanh nghiệp nhỏ",
    },
    "thon_xom": {
        "tom_tat": "Tổ công nghệ số cộng đồng hướng dẫn người dân dùng dịch vụ công trực tuyến",
        "mo_hinh": "Nhóm Zalo của thôn thông tin, hướng dẫn người dân hằng tuần",
        "kho_khan": "Một số hộ chưa có điện thoại thông minh, người cao tuổi khó tiếp cận",
        "de_xuat": "Lắp đặt wifi miễn phí tại nhà văn hoá thôn",
    },
}


# A review's own assessment (sơ kết, tổng kết), the same for every unit kind: units copy
# the commune's guidance, and the report writes such a text once.
REVIEW_NARRATIVES = {
    "uu_diem": "Cán bộ, người dân tích cực hưởng ứng; các chỉ tiêu chủ yếu tăng qua từng năm",
    "han_che": "Kỹ năng số của một bộ phận người dân, người cao tuổi còn hạn chế",
    "nguyen_nhan": "Thiết bị, hạ tầng số chưa đồng bộ; kinh phí còn hạn hẹp",
    "bai_hoc": "Gắn phong trào với nhiệm vụ hằng ngày, người đứng đầu làm trước",
    "phuong_huong": "Duy trì tổ công nghệ số, mở rộng dịch vụ công trực tuyến toàn trình",
}


def narrative(unit: Unit, cycle: Cycle | None = None) -> dict[str, str]:
    """The unit's ThongTin texts: its kind's four, and a review's own assessment."""
    review = REVIEW_NARRATIVES if cycle is not None and cycle.kind in REVIEW_KINDS else {}
    return dict(NARRATIVES.get(unit.kind, {})) | review


# People of the demo: an author or a proposed individual is drawn per unit (seeded).
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
GIVEN = (
    "Thị Hoa",
    "Văn Bình",
    "Thị Lan",
    "Văn Hùng",
    "Thị Mai",
    "Đức Long",
    "Thị Thu",
    "Văn Nam",
    "Minh Tuấn",
    "Thị Hằng",
)


def gender_of(name: str) -> str:
    """The giới tính a reader expects of a synthetic name: "Thị" names a woman."""
    return GENDERS[1] if " Thị " in f" {name} " else GENDERS[0]


def person(unit: Unit, salt: str) -> str:
    rng = random.Random(f"{unit.code}/{salt}")
    return f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}"


def initiative_rows(unit: Unit, n: int, cycle: Cycle | None = None) -> list[tuple]:
    """`n` initiatives, applied within the cycle's period (a month after it starts), each
    by an author of the unit."""
    start = cycle.period_start if cycle and cycle.period_start else date(2025, 8, 21)
    applied = (start + timedelta(days=30)).strftime("%d/%m/%Y")
    return [
        (
            f"Sáng kiến số {i + 1} của {unit.name}",
            person(unit, f"sk{i}"),
            FIELDS[i % len(FIELDS)],
            applied,
            "Rút ngắn thời gian xử lý hồ sơ",
            "Cấp xã",
        )
        for i in range(n)
    ]


def proposal_rows(cycle: Cycle, cfg: Config | None = None, unit: Unit | None = None) -> list[tuple]:
    """The proposals of a unit, forms as the drop-down shows them (the label; the code
    without `cfg`).  Without `unit`, one collective for the cycle's first form.  With it,
    as a commune's units would: some propose nothing, most a Giấy khen of the chairman
    for one of their people (with năm sinh and giới tính), about one in five a Bằng khen
    of the province (upward)."""
    if not cycle.reward_forms:
        return []

    def label(form: str) -> str:
        return cfg.reward_forms[form] if cfg else form

    if unit is None:
        return [
            (
                "Tập thể",
                "Tổ công nghệ số cộng đồng",
                "Thôn Đông",
                label(cycle.reward_forms[0]),
                "Hoàn thành xuất sắc nhiệm vụ chuyển đổi số",
            )
        ]
    rng = random.Random(f"{unit.code}/{cycle.id}/khen")
    draw = rng.random()
    if draw < 0.3:
        return []
    upward = [f for f in cycle.reward_forms if f != "giay-khen-xa"]
    form = upward[0] if draw > 0.8 and upward else cycle.reward_forms[0]
    if rng.random() < 0.5:
        name = person(unit, "khen")
        return [
            (
                "Cá nhân",
                name,
                f"Cán bộ, {unit.name}",
                label(form),
                "Tiêu biểu trong hướng dẫn kỹ năng số, chuyển đổi số tại đơn vị",
                rng.randint(1965, 2000),  # năm sinh and giới tính: the danh sách needs them
                gender_of(name),
            )
        ]
    return [
        (
            "Tập thể",
            unit.name,
            unit.name,
            label(form),
            "Hoàn thành xuất sắc nhiệm vụ chuyển đổi số trong năm",
        )
    ]


def workbook(
    cfg: Config,
    unit: Unit,
    cycle: Cycle,
    initiatives: int = 1,
    overrides: dict | None = None,
    info: dict | None = None,
) -> bytes:
    """A filled workbook; `overrides` replace generated values (e.g. {"HC04": 150})."""
    from thidua.template import build_workbook

    vals: dict = values(cfg, unit, cycle, initiatives)
    if cycle.targets:
        vals = {(code, f"target_{y}"): v for code, v in vals.items() for y in cycle.targets}
    vals.update(overrides or {})
    return build_workbook(
        cfg,
        unit,
        cycle,
        vals,
        info={
            "nguoi_lap": "Trần Văn Bình",
            "dien_thoai": "0912 345 678",
            **({} if cycle.targets else narrative(unit, cycle)),
            **(info or {}),
        },
        initiatives=initiative_rows(unit, initiatives, cycle),
        proposals=proposal_rows(cycle, cfg, unit),
    )


def csv_long(
    cfg: Config, unit: Unit, cycle: Cycle, overrides: dict | None = None, bom: bool = True
) -> bytes:
    """The CSV long form of the same values (UTF-8, with a BOM as Excel writes it)."""
    vals = values(cfg, unit, cycle, initiatives=0) | (overrides or {})
    lines = ["ma_don_vi,ky_bao_cao,ma_chi_tieu,gia_tri,ghi_chu"]
    lines += [
        f"{unit.code},{cycle.id},{code},{v:g},"
        if isinstance(v, float)
        else f'{unit.code},{cycle.id},{code},"{v}",'
        for code, v in vals.items()
    ]
    text = "\r\n".join(lines) + "\r\n"
    return ("\ufeff" + text).encode("utf-8") if bom else text.encode("utf-8")


def plan_pdf(cfg: Config, unit: Unit, cycle: Cycle) -> bytes:
    """A one-page PDF standing for a unit's plan document: a real PDF (header, catalog,
    page, Helvetica text, cross-reference table), its text without diacritics since
    the standard fonts carry none."""
    import unicodedata

    def ascii_of(text: str) -> str:
        text = text.replace("đ", "d").replace("Đ", "D")
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return text.replace("\\", "").replace("(", "[").replace(")", "]")

    lines = [
        f"{unit.name}",
        f"KE HOACH thuc hien phong trao thi dua ({cycle.id})",
        *(ascii_of(m) for m in getattr(cfg.settings.commune, "movements", None) or []),
    ]
    text = "".join(
        f"BT /F1 {14 if i == 0 else 11} Tf 60 {780 - 24 * i} Td ({ascii_of(line)}) Tj ET\n"
        for i, line in enumerate(lines)
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode()),
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def drop_into_inbox(
    ws: Workspace,
    cycle: Cycle,
    units: list[Unit],
    received: datetime,
    overrides: dict[str, dict] | None = None,
    suffix: str = "",
    documents: tuple[str, ...] = (),
) -> list[Path]:
    """Put the units' workbooks into the inbox as if they arrived at `received`: the
    collection takes a file's mtime as its arrival time.  `overrides` maps a unit code
    to the values it gets wrong; `suffix` names a later version (`…_sua.xlsx`); the
    units in `documents` put their plan (`plan_pdf`) beside the workbook, under the
    same name (`….pdf`), which pairs the two."""
    ws.paths.inbox.mkdir(parents=True, exist_ok=True)
    stamp = received.timestamp()
    paths = []
    for unit in units:
        path = ws.paths.inbox / f"{cycle.id}_{unit.code}{'_' + suffix if suffix else ''}.xlsx"
        path.write_bytes(
            workbook(ws.config, unit, cycle, overrides=(overrides or {}).get(unit.code))
        )
        os.utime(path, (stamp, stamp))
        paths.append(path)
        if unit.code in documents:
            doc = path.with_suffix(".pdf")
            doc.write_bytes(plan_pdf(ws.config, unit, cycle))
            os.utime(doc, (stamp, stamp))
    return paths
