"""The rollup package: what a commune's rollup hands to the tier above.

The package is the province's submission workbook (`thidua.template`, built from the
province's config) filled with the commune's figures, plus a manifest (JSON) holding the
workbook's sha256, the thidua version and the submission versions behind the figures.
A tier is config: the province instance collects packages as a commune collects its
units' workbooks, and its indicators are the package's fields, which `fields` derives
from the commune's config (`indicators_csv` writes them as the province's
indicators.csv).  Codes keep the registry's form (two capitals, two digits):

- `DV0j`, `NP0j`, `DH0j`: units of the commune's j-th kind expected, reported, on time
  (`j = 0`: every unit counted in the commune's rates, invited kinds left out);
- `T<L><nn>`, `N<L><nn>`: total of the commune's nn-th indicator over the units of the
  kind lettered L (A for the first kind) and the number of units behind it;
- `RT0r`, `RM0r`: numerator and denominator of the commune's r-th ratio, never the ratio;
- `SG01`, `KT01`: initiatives and reward proposals counted by the rollup.

Percent indicators are left out: a mean of rates does not add up across communes; their
meaning travels as the ratios' numerators and denominators.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thidua import __version__
from thidua.checks import Examined
from thidua.config import Config, Cycle, Unit, load_config
from thidua.intake import Arrival
from thidua.rules import problem

MANIFEST_SUFFIX = ".json"  # beside the workbook, same stem: the folder pairs them
MANIFEST_MAX_BYTES = 2**20  # a manifest lists a few hundred submissions: ~100 kB
# The narratives travel in the commune's docx report, not in the package: "Không có" is
# what the template asks for an empty section, and the province's rollup skips it.
PACKAGE_INFO = {"nguoi_lap": "thidua"} | dict.fromkeys(
    ("mo_hinh", "kho_khan", "de_xuat"), "Không có"
)
INDICATOR_HEADER = (
    "code,name_vi,unit_vi,kinds,type,group,aggregate,min,max,at_most,"
    "warn_at_most,warn_yoy_factor,tags,target"
)


@dataclass(frozen=True)
class Field:
    """One figure of the package: its code, name, and where the rollup's tables hold it."""

    code: str
    name_vi: str
    unit_vi: str
    group: str
    aggregate: str
    at_most: str = ""
    source: tuple[str, ...] = ()  # (table, key...): see `values`
    type: str = "int"


def _letter(j: int) -> str:
    return chr(ord("A") + j)


def fields(commune: Config) -> list[Field]:
    """Every field of the package of a commune with this config, in workbook order."""
    return [
        *_completeness_fields(commune),
        *_indicator_fields(commune),
        *_ratio_fields(commune),
        Field(
            INITIATIVES,
            "Số sáng kiến, giải pháp được tổng hợp",
            "sáng kiến",
            "ket_qua",
            "sum",
            source=("initiatives",),
        ),
        Field(
            PROPOSALS,
            "Số đề nghị khen thưởng được tổng hợp",
            "đề nghị",
            "ket_qua",
            "sum",
            source=("proposals",),
        ),
    ]


ALL_KINDS = "Tất cả các loại đơn vị"
# The commune's initiatives and approved proposals, as counts: the tier above reports them
# from these (its `[rollup] initiatives` is INITIATIVES), having no rows of its own
INITIATIVES, PROPOSALS = "SG01", "KT01"


def _completeness_fields(commune: Config) -> list[Field]:
    """Units expected, reported and on time: the commune's (j = 0), then each kind's."""
    kinds = commune.settings.kinds
    out = []
    # every kind together, beside each kind: read at the province too, where the fields
    # of the communes are summed ("Toàn xã" would name one commune there)
    for j, (kind, label) in enumerate([("", ALL_KINDS), *kinds.items()]):
        out += [
            Field(
                f"DV0{j}",
                f"{label}: số đơn vị phải báo cáo",
                "đơn vị",
                "hoan_thanh",
                "last",
                source=("completeness", kind, "expected"),
            ),
            Field(
                f"NP0{j}",
                f"{label}: số đơn vị đã báo cáo",
                "đơn vị",
                "hoan_thanh",
                "last",
                f"DV0{j}",
                ("completeness", kind, "submitted"),
            ),
            Field(
                f"DH0{j}",
                f"{label}: số đơn vị báo cáo đúng hạn",
                "đơn vị",
                "hoan_thanh",
                "last",
                f"NP0{j}",
                ("completeness", kind, "on_time"),
            ),
        ]
    return out


def _indicator_fields(commune: Config) -> list[Field]:
    """Each indicator's total per kind and the number of units behind it."""
    kinds = list(commune.settings.kinds.items())
    out = []
    for n, ind in enumerate(commune.indicators, start=1):
        if ind.type == "percent":
            continue
        for j, (kind, label) in enumerate(kinds):
            if kind not in ind.kinds:
                continue
            name = f"{ind.code} – {ind.name_vi} – {label}"
            out += [
                Field(
                    f"T{_letter(j)}{n:02d}",
                    f"{name}{TOTAL_SUFFIX}",
                    ind.unit_vi,
                    ind.group,
                    ind.aggregate,
                    source=("indicators", kind, ind.code),
                    type="decimal" if ind.type == "decimal" else "int",
                ),
                Field(
                    f"N{_letter(j)}{n:02d}",
                    f"{name}: số đơn vị có số liệu",
                    "đơn vị",
                    ind.group,
                    "last",
                    f"NP0{j + 1}",
                    ("units", kind, ind.code),
                ),
            ]
    return out


TOTAL_SUFFIX = ": tổng"
# A total's name, as `_indicator_fields` writes it: "<commune code> – <name> – <kind>: tổng"
TOTAL_NAME = re.compile(
    rf"^(?P<code>[A-Z]{{2}}\d{{2}}) – (?P<name>.+) – (?P<kind>[^–]+){TOTAL_SUFFIX}$"
)


def total_source(name_vi: str) -> tuple[str, str, str] | None:
    """(commune indicator code, its name, the kind of unit) a package total sums, read
    from the total's name; None for any other field or indicator.  The province knows
    its fields' sources this way, without the commune's config."""
    m = TOTAL_NAME.match(name_vi)
    return (m["code"], m["name"], m["kind"]) if m else None


NUMERATOR_SUFFIX = ": tử số"  # a ratio's terms, as their fields are named
DENOMINATOR_SUFFIX = ": mẫu số"


def is_denominator(name_vi: str) -> bool:
    """Whether a field (by its name) is a ratio's denominator in a package: a province
    sums the communes' and computes the ratio over the sum (`_ratio_fields`)."""
    return name_vi.endswith(DENOMINATOR_SUFFIX)


def _ratio_fields(commune: Config) -> list[Field]:
    """Each ratio's numerator and denominator (never the ratio)."""
    out = []
    for r, ratio in enumerate(commune.settings.rollup.ratios, start=1):
        out += [
            Field(
                f"RT{r:02d}",
                f"{ratio.name_vi}{NUMERATOR_SUFFIX}",
                "",
                "ty_le",
                "last",
                f"RM{r:02d}",
                ("ratios", ratio.key, "numerator"),
            ),
            Field(
                f"RM{r:02d}",
                f"{ratio.name_vi}{DENOMINATOR_SUFFIX}",
                "",
                "ty_le",
                "last",
                source=("ratios", ratio.key, "denominator"),
            ),
        ]
    return out


def indicators_csv(commune: Config) -> str:
    """The province's indicators.csv: one row per field of the package."""
    buf = io.StringIO()
    buf.write(INDICATOR_HEADER + "\n")
    writer = csv.writer(buf, lineterminator="\n")
    for f in fields(commune):
        writer.writerow(
            [f.code, f.name_vi, f.unit_vi or "số", "all", f.type, f.group, f.aggregate, 0]
            + ["", f.at_most, "", "", "", "no"]
        )
    return buf.getvalue()


def values(commune: Config, tables: Mapping[str, Any]) -> dict[str, float]:
    """Each field's figure from a rollup's tables (`pipeline.rollup`); absent is 0."""
    comp = tables["completeness"]
    by_kind = tables["indicators_by_kind"]
    ratios = tables["ratios"]
    ratios = ratios[ratios["level"] == "commune"]
    out: dict[str, float] = {}
    for f in fields(commune):
        table, *key = f.source
        if table == "completeness":
            level = "kind" if key[0] else "commune"
            rows = comp[(comp["level"] == level) & (comp["grp"] == key[0])]
            got = rows[key[1]].sum()
        elif table in ("indicators", "units"):
            rows = by_kind[(by_kind["kind"] == key[0]) & (by_kind["indicator_code"] == key[1])]
            got = rows["total" if table == "indicators" else "n_units"].sum()
        elif table == "ratios":
            got = ratios.loc[ratios["ratio"] == key[0], key[1]].sum()
        else:
            got = len(tables[table])
        out[f.code] = _number(got)
    return out


def _number(value: Any) -> float:
    """A table's figure as a plain number (NaN and None: 0; whole numbers as int)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0
    if math.isnan(x):
        return 0
    return int(x) if x.is_integer() else x


@dataclass(frozen=True)
class Tier:
    """The tier above a commune: its config and the commune as one of its units."""

    config: Config
    unit: Unit

    def cycle(self, cycle_id: str) -> Cycle | None:
        return self.config.cycles_by_id.get(cycle_id)


def tier_above(commune: Config) -> Tier | None:
    """The province the commune reports to: `[province_office] tier_config` (a config
    directory, relative to the commune's), the commune being the unit of its registry
    whose email is the commune's sender.  None when not configured or not listed."""
    rel = (commune.settings.province_office.model_extra or {}).get("tier_config")
    if not rel:
        return None
    directory = commune.directory / str(rel)
    if not directory.is_dir():
        return None
    province = load_config(directory)
    email = commune.settings.sender.email.lower()
    unit = next((u for u in province.units if u.email.lower() == email), None)
    return Tier(province, unit) if unit else None


def write(
    tier: Tier,
    cycle: Cycle,
    figures: Mapping[str, float],
    sources: list[dict[str, Any]],
    out: Path,
    counts: int = 0,
) -> dict[str, Path]:
    """Write the package (workbook and manifest) into `out`; returns their paths."""
    from thidua.template import Value, build_workbook

    out.mkdir(parents=True, exist_ok=True)
    stem = f"{cycle.id}_{tier.unit.code}"
    cells: dict[str | tuple[str, str], Value] = {code: x for code, x in figures.items()}
    data = build_workbook(
        tier.config,
        tier.unit,
        cycle,
        values=cells,
        info=PACKAGE_INFO | {"tom_tat": _summary(tier.unit.name, figures)},
    )
    book = out / f"{stem}.xlsx"
    book.write_bytes(data)
    manifest = {
        "unit": tier.unit.code,
        "cycle": cycle.id,
        "thidua_version": __version__,
        "files": {book.name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}},
        "sources": sources,
    }
    path = out / f"{stem}{MANIFEST_SUFFIX}"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, default=str), "utf-8")
    return {"package": book, "manifest": path}


def _summary(commune: str, figures: Mapping[str, float]) -> str:
    """The package's one-line summary (ThongTin tom_tat): the commune's reporting, named,
    so that two communes with the same counts do not send the same text."""
    n = {k: f"{figures.get(k, 0):,.0f}".replace(",", ".") for k in ("DV00", "NP00", "DH00")}
    return (
        f"{commune}: {n['NP00']}/{n['DV00']} đơn vị đã báo cáo, {n['DH00']} đơn vị đúng hạn "
        "(gói số liệu do thidua lập từ bản tổng hợp của xã)."
    )


def manifest_mismatch(manifest: bytes, name: str, sha256: str) -> str | None:
    """Why a manifest does not vouch for the workbook `name` of this sha256 (None: it
    does): unreadable, the workbook not listed, or another hash."""
    try:
        listed = json.loads(manifest.decode("utf-8"))["files"]
        only = next(iter(listed.values())) if len(listed) == 1 else None
        entry = listed.get(name, only)
    except (ValueError, KeyError, TypeError, AttributeError):
        return "không đọc được tệp kê khai (manifest)"
    if not isinstance(entry, dict):
        return f"tệp kê khai không có tệp “{name}”"
    if entry.get("sha256") != sha256:
        return f"mã băm SHA-256 của tệp “{name}” không khớp với tệp kê khai"
    return None


def check_manifests(examined: list[Examined], arrivals: list[Arrival]) -> None:
    """Reject each workbook whose manifest, sent with it (beside it in the folder, in the
    same mail or upload, same name but `.json`; or the only workbook of its mail), does
    not hold its sha256.  A workbook sent without a manifest (hand-filled) is not
    concerned."""
    by_origin = {a.path: a for a in arrivals}
    for ex in examined:
        arrival = by_origin.get(ex.incoming.origin)
        if arrival is None or ex.parsed is None:
            continue
        book = ex.incoming.name
        alone = len(arrival.submissions) == 1
        for doc in arrival.documents:
            name = Path(doc.name)
            if name.suffix.lower() != MANIFEST_SUFFIX or not (
                alone or name.stem.casefold() == Path(book).stem.casefold()
            ):
                continue
            reason = (
                manifest_mismatch(doc.archived_path.read_bytes(), book, ex.incoming.submission_id)
                if doc.size <= MANIFEST_MAX_BYTES
                else "tệp kê khai quá lớn"
            )
            if reason:
                ex.problems.append(problem("manifest", value=doc.name, book=book, reason=reason))
