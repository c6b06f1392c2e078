"""Bench: the national picture through the tiers (issue 24 item 5, first bench).

3,321 communes' rollup packages (synthetic, consistent figures, each with its manifest)
are collected by 34 province instances (thidua on a copy of config/tiers/ninh-binh whose
registry lists that province's communes), each of which rolls up; then the national
rollup sums the 34 provinces' per-field totals and recomputes every ratio from the
summed numerators and denominators.  Prints each tier's time.

    .venv/bin/python bench/national.py [--communes 3321] [--provinces 34]

The national tier is a sum of the province rollups' tables here, not a thidua instance:
a province package would need three-digit field numbers (the province config has more
than 99 fields), which the registry's codes (two capitals, two digits) do not allow.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from thidua import package
from thidua.config import load_config
from thidua.settings import REPO_CONFIG

PROVINCE = REPO_CONFIG / "tiers" / "ninh-binh"
RECEIVED = datetime(2025, 12, 29, 9, tzinfo=timezone(timedelta(hours=7)))


def figures(rng: random.Random, fields: list[package.Field]) -> dict[str, float]:
    """A consistent package: every count within its `at_most` (the bounds, which bound
    nothing themselves, drawn first), numerators within their denominators."""
    out: dict[str, float] = {f.code: rng.randint(20, 60) for f in fields if not f.at_most}
    for f in fields:  # a bounded field comes after its bound when that is bounded too
        if f.at_most:
            out[f.code] = rng.randint(0, int(out[f.at_most]))
    return out


def province_config(root: Path, p: int, n: int) -> Path:
    """A copy of the sample province config listing `n` communes of province `p`."""
    directory = root / f"config-{p:02d}"
    shutil.copytree(PROVINCE, directory)
    lines = ["code,name,kind,block,email,head_title,head_email,tags"]
    for c in range(n):
        lines.append(
            f"XA-{p:02d}-{c:03d},Xã {p:02d}-{c:03d},xa,cum_ninh_binh,"
            f"vhxh{c}@tinh{p}.example,Chủ tịch UBND xã,chutich{c}@tinh{p}.example,"
        )
    (directory / "units.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return directory


def communes_tier(root: Path, provinces: int, communes: int) -> tuple[list[Path], Counter]:
    """Write every commune's package into its province's inbox; the province homes and
    each field's sum over every package written (what the national totals must be)."""
    commune_fields = package.fields(load_config(REPO_CONFIG))
    rng = random.Random(24)
    homes, sent = [], Counter[str]()
    for p in range(provinces):
        n = communes // provinces + (p < communes % provinces)
        cfg = load_config(province_config(root, p, n))
        home = root / f"home-{p:02d}"
        cycle = cfg.cycle("nam-2025")
        for unit in cfg.units:
            tier = package.Tier(cfg, unit)
            values = figures(rng, commune_fields)
            sent.update(values)
            out = package.write(tier, cycle, values, [], home / "inbox")
            for path in out.values():
                os.utime(path, (RECEIVED.timestamp(), RECEIVED.timestamp()))
        homes.append(home)
    return homes, sent


def provinces_tier(homes: list[Path]) -> list[Path]:
    """Each province instance collects its inbox and rolls up; their totals tables."""
    from pipeline.collect import collect
    from pipeline.init import init_workspace
    from pipeline.rollup import run_annual
    from thidua.workspace import Workspace

    tables = []
    for home in homes:
        config = home.parent / f"config-{home.name[-2:]}"
        env = dict(os.environ, THIDUA_HOME=str(home), THIDUA_CONFIG=str(config))
        ws = Workspace.from_env(env)
        init_workspace(ws)
        done = collect(ws, docs=False, acks=False)
        rejected = [f for f in done.files() if not f["outcome"].startswith("accepted")]
        assert not rejected, rejected[:3]
        result = run_annual(ws, 2025, date(2026, 1, 10))
        tables.append(result.files["data"])
    return tables


def national_tier(tables: list[Path]) -> tuple[pd.Series, dict[str, float]]:
    """Σ over provinces of each field's total; each ratio Σ numerators / Σ denominators."""
    totals = pd.concat(pd.read_parquet(t / "indicators.parquet") for t in tables)
    summed = totals.groupby("indicator_code")["total"].sum()
    ratios = pd.concat(pd.read_parquet(t / "ratios.parquet") for t in tables)
    ratios = (
        ratios[ratios["level"] == "commune"].groupby("ratio")[["numerator", "denominator"]].sum()
    )
    return summed, (100 * ratios["numerator"] / ratios["denominator"]).round(2).to_dict()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--communes", type=int, default=3321)
    ap.add_argument("--provinces", type=int, default=34)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="thidua-national-"))
    try:
        t0 = time.perf_counter()
        homes, sent = communes_tier(root, args.provinces, args.communes)
        t1 = time.perf_counter()
        tables = provinces_tier(homes)
        t2 = time.perf_counter()
        summed, ratios = national_tier(tables)
        t3 = time.perf_counter()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"communes: {args.communes} packages written in {t1 - t0:.1f} s")
    print(f"provinces: {args.provinces} collects + rollups in {t2 - t1:.1f} s")
    print(f"national: {len(summed)} field totals, {len(ratios)} ratios in {t3 - t2:.2f} s")
    same = all(summed[code] == total for code, total in sent.items())
    print(f"national totals equal the sums of the packages sent: {same}")
    print(f"units reported nationally: {summed['NP00']:.0f}/{summed['DV00']:.0f}")


if __name__ == "__main__":
    main()
