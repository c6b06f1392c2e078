"""The phase value of every indicator, per unit kind: the years side by side, their fold by
the indicator's `aggregate` (the sum of the years for flows, the level of the latest year
for stocks and rates, never a mean), the units' own review figures and the targets they
registered.  Pure pandas over the frames of `warehouse.rollups.phase_tables`."""

from __future__ import annotations

import pandas as pd

from thidua.config import Config


def achievement(tables: dict[str, pd.DataFrame], cfg: Config) -> pd.DataFrame:
    """One row per (kind, indicator the kind holds): `y<year>` the kind's total of each
    year, `annual` their fold, `review` the kind's total of the units' review figures
    (`review_units` of `expected` sent it), `achieved` the review when any unit of the
    kind sent it, else the fold (`achieved_units`: the units it counts), and
    `target`/`achieved_pct` only for indicators that can have a target (`target` in
    indicators.csv)."""
    yearly = tables["yearly_by_kind"]
    keys = ["kind", "indicator_code"]
    review = tables["indicators_by_kind"][[*keys, "expected", "n_units", "total"]].rename(
        columns={"n_units": "review_units", "total": "review"}
    )
    out = review.merge(_folded(yearly), on=keys, how="left")
    out = out.merge(tables["targets_by_kind"], on=keys, how="left")
    inds = {i.code: i for i in cfg.indicators}
    out = out[out["indicator_code"].isin(inds)].copy()
    for col in ("name_vi", "unit_vi", "type", "aggregate"):
        out[col] = out["indicator_code"].map(lambda c, col=col: getattr(inds[c], col))
    out["achieved"] = out["review"].where(out["review_units"] > 0, out["annual"])
    out["achieved_units"] = out["review_units"].where(out["review_units"] > 0, out["n_last"])
    targetable = out["indicator_code"].map(lambda c: inds[c].target)
    out["target"] = out["target"].where(targetable)
    out["achieved_pct"] = (100 * out["achieved"] / out["target"].where(out["target"] > 0)).round(2)
    position = {c: n for n, c in enumerate(inds)}
    order = out["indicator_code"].map(position)
    return out.assign(_o=order).sort_values(["kind", "_o"]).drop(columns="_o")


def _folded(yearly: pd.DataFrame) -> pd.DataFrame:
    """The years side by side (`y<year>`), their fold (`annual`, `n_years`) and the units
    reporting in the latest year (`n_last`)."""
    keys = ["kind", "indicator_code"]
    wide = yearly.pivot_table(index=keys, columns="year", values="total", aggfunc="first")
    wide.columns = [f"y{y}" for y in wide.columns]
    have = yearly.dropna(subset=["total"]).sort_values("year")
    folded = have.groupby(keys).agg(
        aggregate=("aggregate", "first"),
        n_years=("year", "size"),
        total_sum=("total", "sum"),
        last=("total", "last"),
        n_last=("n_units", "last"),
    )
    folded["annual"] = folded["total_sum"].where(folded["aggregate"] == "sum", folded["last"])
    return wide.join(folded[["n_years", "annual", "n_last"]], how="left").reset_index()
