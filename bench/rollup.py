"""Bench: the national-scale annual rollups (133,000 units × 26 indicators × 6 years,
synthetic) through thidua's DuckDB macros vs a pandas groupby baseline of the same
result, in one run.  Both must agree; the ratio is what to watch (goal: DuckDB < 5 s).

    .venv/bin/python bench/rollup.py [--units 133000]

Every indicator is made to apply to every unit (the worst case: 26 values per report).
Per year 95 % of units report, 10 % of them late, 3 % after a rejected first version.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from thidua.config import load_config
from thidua.settings import REPO_CONFIG, resolve_settings
from warehouse import rollups
from warehouse.db import migrate
from warehouse.writer import sync_config

KINDS = ["co_quan", "mat_tran_doan_the", "doanh_nghiep", "thon_xom"]
SETTINGS = resolve_settings(REPO_CONFIG)  # the weight, ratios and scoring of the sample
RULES = SETTINGS.rollup
W = rollups.scoring_params(SETTINGS.scoring)  # no targets registered: ranks only


def build(con: duckdb.DuckDBPyConnection, n_units: int) -> list[str]:
    """A synthetic warehouse in the file of `con`; returns the annual cycle ids."""
    cfg = load_config(REPO_CONFIG)
    migrate(con)
    sync_config(con, cfg)
    con.execute("DELETE FROM unit_versions")
    con.execute("UPDATE indicators SET kinds = ?", [KINDS])
    con.execute(f"""
        INSERT INTO unit_versions (code, version, name, kind, block, email, head_title,
                                   head_email)
        SELECT 'U' || i, 1, 'Đơn vị ' || i, {KINDS}[i % 4 + 1], 'K' || (i % 1330),
               'u' || i || '@x.example', 'Thủ trưởng', 'h' || i || '@x.example'
        FROM range({n_units}) t(i)""")
    years = [c.id for c in cfg.cycles if c.kind == "nam"]
    con.execute(
        """
        CREATE TEMP TABLE plan AS
        SELECT c.id AS cycle_id, c.due_date, 'U' || i AS code, i,
               hash(i, c.id) % 1000 AS r
        FROM range($n) t(i), cycles c WHERE list_contains($years, c.id)""",
        {"n": n_units, "years": years},
    )
    con.execute("""
        INSERT INTO submissions (submission_id, unit_code, cycle_id, version, received_at,
                                 outcome, late, n_errors, n_warnings, file_format, batch_id)
        SELECT sha256('R' || cycle_id || code), code, cycle_id, 1, due_date, 'rejected', false, 1, 0,
               'xlsx', 'bench' FROM plan WHERE r < 30
        UNION ALL
        SELECT sha256('S' || cycle_id || code), code, cycle_id, CASE WHEN r < 30 THEN 2 ELSE 1 END,
               due_date, CASE WHEN r % 7 = 0 THEN 'accepted_with_warnings' ELSE 'accepted' END,
               r >= 855, 0, CASE WHEN r % 7 = 0 THEN 1 ELSE 0 END, 'xlsx', 'bench'
        FROM plan WHERE r < 950""")
    # Values: denominators 100..1099, numerators a share of them, percents 0..100, bools 0/1.
    con.execute("""
        INSERT INTO submission_values (submission_id, sk, indicator_code, measure, value)
        WITH base AS (
            SELECT s.submission_id AS sid, s.sk, p.i, p.r, i.code AS ind, i.type
            FROM plan p JOIN submissions s
              ON s.submission_id = sha256('S' || p.cycle_id || p.code), indicators i)
        SELECT sid, sk, ind, 'value',
               CASE WHEN type = 'percent' THEN (hash(i, ind) % 101)
                    WHEN type = 'bool' THEN (hash(i, ind) % 2)
                    WHEN ind IN ('TS01', 'HC01', 'TX01') THEN 100 + (hash(i) % 1000)
                    WHEN ind IN ('HC02', 'BD02', 'TX02', 'TX04')
                         THEN (100 + (hash(i) % 1000)) * ((hash(i, ind, r) % 101) / 100.0)
                    ELSE hash(i, ind, r) % 500 END
        FROM base""")
    con.execute("DROP TABLE plan")
    return years


QUERIES = {
    "completeness": "SELECT * FROM rollup_completeness($cycs)",
    "indicators": "SELECT * FROM rollup_indicator_totals($cycs, 'value')",
    "ratios": "SELECT * FROM rollup_ratio_totals($cycs)",
    "scores": "SELECT * FROM rollup_scores($cycs, $on_time, $late, $missing, $quality, "
    "$quality_with_warnings, $performance, $content_only, $empty_zero, $target_plan, "
    "$target_measure, $target_codes, $target_cap)",
}


def with_duckdb(path: Path, years: list[str]) -> dict[str, pd.DataFrame]:
    """As `thidua rollup` reads: a read-only session on the warehouse file."""
    with duckdb.connect(path, read_only=True) as con:
        rollups.prepare(con, RULES, years)
        return {
            name: rollups.frame(con, sql, {"cycs": years} | (W if name == "scores" else {}))
            for name, sql in QUERIES.items()
        }


def _tags(x: object) -> frozenset:
    """A tags cell (a list, an array or NULL) as a set."""
    return frozenset(x) if x is not None and len(x) else frozenset()  # type: ignore[arg-type]


def applies(units: pd.DataFrame, ind: pd.DataFrame) -> pd.DataFrame:
    """(unit code, indicator code) of every indicator a unit holds: one of its kinds and,
    when it names tags, the unit carries one of them (as rollup.sql's rollup_applies)."""

    rows = []
    for kind, unit_tags in {(k, _tags(t)) for k, t in zip(units["kind"], units["tags"])}:
        held = [
            c
            for c, kinds, t in zip(ind["code"], ind["kinds"], ind["tags"])
            if kind in list(kinds) and (not _tags(t) or _tags(t) & unit_tags)
        ]
        rows += [(kind, unit_tags, c) for c in held]
    pairs = pd.DataFrame(rows, columns=["kind", "profile", "indicator_code"])
    profiles = units.assign(profile=[_tags(t) for t in units["tags"]])[["code", "kind", "profile"]]
    return profiles.merge(pairs, on=["kind", "profile"])[["code", "indicator_code"]]


def round2(x: pd.Series) -> pd.Series:
    """Round half away from zero as DuckDB does (numpy rounds half to even); x >= 0."""
    return np.floor(x * 100 + 0.5) / 100


def with_pandas(t: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The same four results with pandas groupby, from the raw tables."""
    subs, units, values, ind = t["submissions"], t["units"], t["values"], t["indicators"]
    exp = units.merge(pd.DataFrame({"cycle_id": t["years"]}), how="cross")
    acc = subs[subs["outcome"].isin(["accepted", "accepted_with_warnings"])]
    on_time = (~acc["late"]).groupby([acc["cycle_id"], acc["unit_code"]]).any()
    on_time = on_time.rename("any_on_time").reset_index()
    cur = acc.sort_values("version").groupby(["cycle_id", "unit_code"]).tail(1)
    st = exp.merge(
        on_time, how="left", left_on=["cycle_id", "code"], right_on=["cycle_id", "unit_code"]
    ).drop(columns="unit_code")
    st["status"] = np.where(
        st["any_on_time"].isna(), "missing", np.where(st["any_on_time"] == True, "on_time", "late")
    )
    cur = cur.assign(n_warnings=cur["n_warnings"] - cur["late"].astype(int))  # content only
    st = st.merge(
        cur[["cycle_id", "unit_code", "submission_id", "n_warnings"]],
        how="left",
        left_on=["cycle_id", "code"],
        right_on=["cycle_id", "unit_code"],
    )

    st["is_submitted"] = st["status"] != "missing"
    st["is_on_time"] = st["status"] == "on_time"
    frames = []
    # invited kinds (companies) report participation: out of the commune's rates only
    counted = st[~st["kind"].isin(RULES.invited_kinds)]
    for level, keys in (("commune", []), ("kind", ["kind"]), ("block", ["block"])):
        f = (
            (counted if level == "commune" else st)
            .groupby(["cycle_id", *keys])
            .agg(
                expected=("code", "size"),
                submitted=("is_submitted", "sum"),
                on_time=("is_on_time", "sum"),
            )
            .reset_index()
        )
        f["level"] = level
        f["grp"] = f[keys[0]] if keys else ""
        frames.append(f)
    comp = pd.concat(frames)
    comp["reporting_rate"] = round2(100.0 * comp["submitted"] / comp["expected"])
    comp["on_time_rate"] = round2(100.0 * comp["on_time"] / comp["expected"])

    v = values.merge(st[["submission_id", "cycle_id", "code", "block", "kind"]], on="submission_id")
    v = v.merge(applies(units, ind), on=["code", "indicator_code"])  # the unit's indicators only
    ts = v.loc[v["indicator_code"] == "TS01", ["cycle_id", "code", "value"]]
    v = v.merge(ts.rename(columns={"value": "ts01"}), how="left", on=["cycle_id", "code"])
    v["weighted"] = v["value"] * v["ts01"]
    v["is_true"] = v["value"] == 1
    g = v.groupby(["cycle_id", "indicator_code"])
    tot = g.agg(
        n_units=("value", "size"),
        s=("value", "sum"),
        n_true=("is_true", "sum"),
        weighted=("weighted", "sum"),
        weight=("ts01", "sum"),
    ).reset_index()
    # every indicator of every year, one that no unit holds with 0 units (as the report)
    grid = pd.DataFrame({"cycle_id": t["years"]}).merge(
        ind[["code"]].rename(columns={"code": "indicator_code"}), how="cross"
    )
    tot = grid.merge(tot, how="left", on=["cycle_id", "indicator_code"])
    tot["n_units"] = tot["n_units"].fillna(0)
    tot = tot.merge(ind, left_on="indicator_code", right_on="code")
    tot["total"] = np.select(
        [tot["type"] == "percent", tot["type"] == "bool"],
        [round2(tot["weighted"] / tot["weight"]), tot["n_true"]],
        tot["s"],
    )

    # a ratio's population: the units of its kind carrying one of its tags, when it names any
    unit_tags = {c: _tags(t) for c, t in zip(units["code"], units["tags"])}
    population = {
        r.key: {
            c
            for c, k in zip(units["code"], units["kind"])
            if k == r.population
            and (not r.population_tags or unit_tags[c] & set(r.population_tags))
        }
        for r in RULES.ratios
    }
    pieces = []
    for r in RULES.ratios:
        num = v.loc[
            (v["indicator_code"] == r.numerator) & v["code"].isin(population[r.key]),
            ["cycle_id", "code", "block", "value"],
        ]
        den = v.loc[
            (v["indicator_code"] == r.denominator) & (v["value"] > 0), ["cycle_id", "code", "value"]
        ]
        m = num.merge(den, on=["cycle_id", "code"], suffixes=("_n", "_d"))
        m["ratio"] = r.key
        pieces.append(m)
    ur = pd.concat(pieces)
    ur["pct"] = 100.0 * ur["value_n"] / ur["value_d"]
    ur["pr"] = ur.groupby(["cycle_id", "block", "ratio"])["pct"].rank(method="max", pct=True)
    rt = ur.groupby(["cycle_id", "ratio"]).agg(num=("value_n", "sum"), den=("value_d", "sum"))
    rt["pct"] = round2(100.0 * rt["num"] / rt["den"])

    # mean over the ratios whose population holds the unit, an empty one counting 0
    n_app = {c: sum(c in population[r.key] for r in RULES.ratios) for c in units["code"]}
    perf = ur.groupby(["cycle_id", "code"])["pr"].sum().rename("perf").reset_index()
    sc = st.merge(perf, how="left", on=["cycle_id", "code"])
    sc["perf"] = sc["perf"] / sc["code"].map(n_app).replace(0, np.nan)
    sc["score_time"] = sc["status"].map(
        {"on_time": W["on_time"], "late": W["late"], "missing": W["missing"]}
    )
    sc["score_quality"] = np.where(
        sc["status"] == "missing",
        0,
        np.where(sc["n_warnings"] > 0, W["quality_with_warnings"], W["quality"]),
    )
    # a kind no ratio is computed over (companies) is not scored: no performance, score, rank
    scored = sc["kind"].isin({r.population for r in RULES.ratios})
    sc["score_performance"] = round2(W["performance"] * sc["perf"].fillna(0)).where(scored)
    sc["score"] = sc["score_time"] + sc["score_quality"] + sc["score_performance"]
    sc["rank_in_block"] = sc.groupby(["cycle_id", "block"])["score"].rank(
        method="min", ascending=False
    )
    return {"completeness": comp, "indicators": tot, "ratios": rt.reset_index(), "scores": sc}


def check_same(d: dict[str, pd.DataFrame], p: dict[str, pd.DataFrame]) -> int:
    """Fail loudly when the two results differ.  Rounded figures may differ by one unit
    of the last (2nd) decimal, where x.xx5 is not exact in binary floating point."""

    def cmp(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], cols: list[str]) -> None:
        m = a.merge(b, on=keys, suffixes=("_duckdb", "_pandas"))
        assert len(a) == len(b) == len(m), (keys, len(a), len(b), len(m))
        for c in cols:
            x, y = m[f"{c}_duckdb"].astype(float), m[f"{c}_pandas"].astype(float)
            bad = m[~np.isclose(x, y, rtol=0, atol=0.0100001, equal_nan=True)]
            assert bad.empty, (c, bad[[*keys, *(k for k in m if k.startswith(c))]].head())

    cmp(
        d["completeness"],
        p["completeness"],
        ["cycle_id", "level", "grp"],
        ["expected", "submitted", "on_time", "reporting_rate", "on_time_rate"],
    )
    cmp(d["indicators"], p["indicators"], ["cycle_id", "indicator_code"], ["n_units", "total"])
    cmp(d["ratios"][d["ratios"]["level"] == "commune"], p["ratios"], ["cycle_id", "ratio"], ["pct"])
    cmp(d["scores"], p["scores"], ["cycle_id", "code"], ["score"])
    # Ranks: compared in every block where both engines rounded every score alike.
    m = d["scores"].merge(p["scores"], on=["cycle_id", "code"], suffixes=("_d", "_p"))
    unscored = m["score_d"].isna() & m["score_p"].isna()  # kinds no ratio covers
    m["same"] = (m["score_d"] == m["score_p"]) | unscored
    alike = m.groupby(["cycle_id", "block_d"])["same"].transform("all")
    ranks = m.loc[alike, ["rank_in_block_d", "rank_in_block_p"]].astype(float).fillna(-1)
    assert (ranks["rank_in_block_d"] == ranks["rank_in_block_p"]).all()
    return int((~alike).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=133_000)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="thidua-bench-")
    path = Path(tmp.name) / "warehouse.duckdb"
    t0 = time.perf_counter()
    with duckdb.connect(path) as con:
        years = build(con, args.units)
        n_values = con.execute("SELECT count(*) FROM submission_values").fetchall()[0][0]
    print(
        f"synthetic warehouse: {args.units:,} units × 26 indicators × {len(years)} years, "
        f"{n_values:,} values, built in {time.perf_counter() - t0:.1f} s"
    )
    os.sync()  # the build's writes reach the disk before the timing, as for a real warehouse

    t0 = time.perf_counter()
    duck = with_duckdb(path, years)
    t_duck = time.perf_counter() - t0

    con = duckdb.connect(path, read_only=True)
    raw = {
        "submissions": con.execute("SELECT * FROM submissions").df(),
        "units": con.execute("SELECT code, kind, block, tags FROM units").df(),
        "values": con.execute(
            "SELECT submission_id, indicator_code, value FROM submission_values"
        ).df(),
        "indicators": con.execute("SELECT code, type, kinds, tags FROM indicators").df(),
        "years": years,
    }
    t0 = time.perf_counter()
    pand = with_pandas(raw)
    t_pandas = time.perf_counter() - t0
    skipped = check_same(duck, pand)
    print(f"DuckDB macros (completeness, indicator totals, ratios, scores + ranks): {t_duck:.2f} s")
    print(
        f"pandas groupby baseline, same results (checked equal):                 {t_pandas:.2f} s"
    )
    print(
        f"(ranks compared for all but {skipped:,} unit-years, in blocks where a score "
        "x.xx5 rounded differently between the engines)"
    )
    print(
        f"ratio pandas / DuckDB: {t_pandas / t_duck:.1f}×; goal < 5 s: "
        f"{'met' if t_duck < 5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
