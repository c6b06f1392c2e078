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

from thidua.config import Config, Cycle, Unit

FIELDS = ("Chuyển đổi số", "Cải cách hành chính", "Giáo dục", "Y tế", "Nông nghiệp")


def values(cfg: Config, unit: Unit, cycle: Cycle, initiatives: int = 1) -> dict[str, float]:
    """One value per indicator of the unit's kind, satisfying every rule."""
    base = random.Random(unit.code)
    year = random.Random(f"{unit.code}/{cycle.id}")
    out: dict[str, float] = {}
    inds = cfg.indicators_for(unit.kind)
    # references first, so `at_most` / `warn_at_most` can look them up
    inds.sort(key=lambda i: (i.at_most is not None or i.warn_at_most is not None))
    for ind in inds:
        level = base.randint(20, 400) * year.uniform(0.8, 1.25)
        if ind.type == "percent":
            v = round(min(100.0, base.uniform(30, 90) * year.uniform(0.9, 1.1)), 1)
        elif ind.type == "bool":
            v = 1.0
        elif ind.type == "decimal":
            v = round(level * 3.7, 1)
        else:
            v = float(round(level))
        if ind.at_most:
            v = float(round(out[ind.at_most] * base.uniform(0.3, 0.95)))
        if ind.warn_at_most:
            factor, ref = ind.warn_at_most
            v = min(v, float(factor * out[ref]))
        out[ind.code] = v
    if "SK01" in out:
        out["SK01"] = float(initiatives)
    return out


def initiative_rows(unit: Unit, n: int, cycle: Cycle | None = None) -> list[tuple]:
    """`n` initiatives, applied within the cycle's period (a month after it starts)."""
    start = cycle.period_start if cycle and cycle.period_start else date(2025, 8, 21)
    applied = (start + timedelta(days=30)).strftime("%d/%m/%Y")
    return [(f"Sáng kiến số {i + 1} của {unit.name}", "Nguyễn Thị Hoa", FIELDS[i % len(FIELDS)],
             applied, "Rút ngắn thời gian xử lý hồ sơ", "Cấp xã") for i in range(n)]


def proposal_rows(cycle: Cycle, cfg: Config | None = None) -> list[tuple]:
    """One proposal, its form as the drop-down shows it (the label; the code without
    `cfg`)."""
    if not cycle.reward_forms:
        return []
    form = cycle.reward_forms[0]
    return [("Tập thể", "Tổ công nghệ số cộng đồng", "Thôn Đông",
             cfg.reward_forms[form] if cfg else form,
             "Hoàn thành xuất sắc nhiệm vụ chuyển đổi số")]


def workbook(cfg: Config, unit: Unit, cycle: Cycle, initiatives: int = 1,
             overrides: dict | None = None, info: dict | None = None) -> bytes:
    """A filled workbook; `overrides` replace generated values (e.g. {"HC04": 150})."""
    from thidua.template import build_workbook

    vals: dict = values(cfg, unit, cycle, initiatives)
    if cycle.targets:
        vals = {(code, f"target_{y}"): v for code, v in vals.items() for y in cycle.targets}
    vals.update(overrides or {})
    return build_workbook(cfg, unit, cycle, vals, info={"nguoi_lap": "Trần Văn Bình",
                                                        "dien_thoai": "0912 345 678",
                                                        **(info or {})},
                          initiatives=initiative_rows(unit, initiatives, cycle),
                          proposals=proposal_rows(cycle, cfg))


def csv_long(cfg: Config, unit: Unit, cycle: Cycle, overrides: dict | None = None,
             bom: bool = True) -> bytes:
    """The CSV long form of the same values (UTF-8, with a BOM as Excel writes it)."""
    vals = values(cfg, unit, cycle, initiatives=0) | (overrides or {})
    lines = ["ma_don_vi,ky_bao_cao,ma_chi_tieu,gia_tri,ghi_chu"]
    lines += [f"{unit.code},{cycle.id},{code},{v:g},"
              if isinstance(v, float) else f'{unit.code},{cycle.id},{code},"{v}",'
              for code, v in vals.items()]
    text = "\r\n".join(lines) + "\r\n"
    return ("\ufeff" + text).encode("utf-8") if bom else text.encode("utf-8")


def drop_into_inbox(ws, cycle: Cycle, units: list[Unit], received: datetime,
                    overrides: dict[str, dict] | None = None, suffix: str = "") -> list[Path]:
    """Put the units' workbooks into the inbox as if they arrived at `received`: the
    collection takes a file's mtime as its arrival time.  `overrides` maps a unit code
    to the values it gets wrong; `suffix` names a later version (`…_sua.xlsx`)."""
    ws.paths.inbox.mkdir(parents=True, exist_ok=True)
    stamp = received.timestamp()
    paths = []
    for unit in units:
        path = ws.paths.inbox / f"{cycle.id}_{unit.code}{'_' + suffix if suffix else ''}.xlsx"
        path.write_bytes(workbook(ws.config, unit, cycle,
                                  overrides=(overrides or {}).get(unit.code)))
        os.utime(path, (stamp, stamp))
        paths.append(path)
    return paths
