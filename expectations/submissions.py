"""The GX suite for submitted indicator values, generated from `indicators.csv`.

One long DataFrame holds every value of a batch (one row per submission × indicator ×
measure) plus columns derived in pandas for rules that look beyond the row: the value
of the `at_most` indicator of the same submission, the `warn_at_most` limit, the ratio
to the unit's accepted value of the previous annual cycle, the number of SangKien rows
for SK01, and a per-submission count of non-zero values.  One suite, one run over the
whole frame; indicators that share a bound are grouped with `is_in`, because each
expectation costs about 20 ms per run whatever the row count.
"""

from __future__ import annotations

from collections import defaultdict

import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
from great_expectations.expectations.row_conditions import Column

from thidua.config import Config

SUITE_NAME = "thidua-submission-values"
FRAME_COLUMNS = ["row_id", "submission_id", "cell", "indicator", "measure", "value", "unread",
                 "at_most_value", "warn_limit", "yoy_ratio", "prev", "sk_rows",
                 "nonzero_first", "frac"]


def long_frame(values: pd.DataFrame, cfg: Config, previous: pd.DataFrame,
               initiatives: pd.Series) -> pd.DataFrame:
    """The GX input.

    `values`: submission_id, cycle_kind, indicator, measure, value, raw, cell
    (rows of known indicators only).  `previous`: submission_id, indicator, prev (the
    unit's accepted value of the previous annual cycle).  `initiatives`: number of
    SangKien rows per submission_id.
    """
    df = values.reset_index(drop=True)
    df["row_id"] = np.arange(len(df))
    df["unread"] = df["raw"].where(df["value"].isna())
    inds = {i.code: i for i in cfg.indicators}
    key = ["submission_id", "measure"]
    lookup = df.set_index(key + ["indicator"])["value"]
    lookup = lookup[~lookup.index.duplicated()]

    def other(codes: pd.Series) -> pd.Series:
        idx = pd.MultiIndex.from_arrays([df["submission_id"], df["measure"], codes])
        return pd.Series(lookup.reindex(idx).to_numpy(), index=df.index)

    at_most = df["indicator"].map({c: i.at_most for c, i in inds.items() if i.at_most})
    df["at_most_value"] = other(at_most)
    warn = {c: i.warn_at_most for c, i in inds.items() if i.warn_at_most}
    factor = df["indicator"].map({c: f for c, (f, _) in warn.items()})
    df["warn_limit"] = other(df["indicator"].map({c: r for c, (_, r) in warn.items()})) * factor
    df = df.merge(previous, on=["submission_id", "indicator"], how="left") \
        if len(previous) else df.assign(prev=np.nan)
    annual = (df["measure"] == "value") & (df["cycle_kind"] == "nam")
    # no base to compare with when last year was 0: such rows are not checked
    df["yoy_ratio"] = (df["value"] / df["prev"].where(df["prev"] > 0)).where(annual)
    df["sk_rows"] = df["submission_id"].map(initiatives).fillna(0).astype(float) \
        .where((df["indicator"] == "SK01") & (df["measure"] == "value"))
    first = ~df.duplicated("submission_id")
    nonzero = df.assign(nz=df["value"].fillna(0).ne(0)).groupby("submission_id")["nz"].sum()
    df["nonzero_first"] = df["submission_id"].map(nonzero).astype(float).where(first)
    whole = df["indicator"].map({c: i.type in ("int", "bool") for c, i in inds.items()})
    df["frac"] = (df["value"] - np.floor(df["value"])).where(whole.fillna(False).astype(bool))
    return df[FRAME_COLUMNS].sort_values("row_id").reset_index(drop=True)


def build_expectations(cfg: Config) -> list[gxe.Expectation]:
    """Expectations from the indicator rules; `meta.rule_id` names the rule in `thidua.rules`."""
    inds = cfg.indicators
    ind = Column("indicator")
    out: list[gxe.Expectation] = [
        gxe.ExpectColumnValuesToNotBeNull(column="value", row_condition=Column("unread").is_null(),
                                          meta={"rule_id": "required_value"}),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["submission_id", "indicator",
                                                         "measure"],
                                            meta={"rule_id": "duplicate_indicator"}),
        gxe.ExpectColumnValuesToBeBetween(column="frac", max_value=0,
                                          meta={"rule_id": "integer"}),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="at_most_value", column_B="value", or_equal=True,
            ignore_row_if="either_value_is_missing", meta={"rule_id": "at_most"}),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="warn_limit", column_B="value", or_equal=True,
            ignore_row_if="either_value_is_missing", severity="warning",
            meta={"rule_id": "warn_at_most"}),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="value", column_B="sk_rows", ignore_row_if="either_value_is_missing",
            severity="warning", meta={"rule_id": "sk_rows"}),
        gxe.ExpectColumnValuesToBeBetween(column="nonzero_first", min_value=1,
                                          severity="warning", meta={"rule_id": "all_zero"}),
    ]
    for bound in ("min", "max"):
        groups = defaultdict(list)
        for i in inds:
            if getattr(i, bound) is not None:
                groups[getattr(i, bound)].append(i.code)
        for limit, codes in sorted(groups.items()):
            out.append(gxe.ExpectColumnValuesToBeBetween(
                column="value", **{f"{bound}_value": limit}, row_condition=ind.is_in(codes),
                meta={"rule_id": bound}))
    default = float(cfg.settings.checks["yoy_factor"])
    factors = defaultdict(list)
    for i in inds:
        factors[i.warn_yoy_factor or default].append(i.code)
    for f, codes in sorted(factors.items()):
        out.append(gxe.ExpectColumnValuesToBeBetween(
            column="yoy_ratio", min_value=1 / f, max_value=f, row_condition=ind.is_in(codes),
            severity="warning", meta={"rule_id": "yoy", "factor": f}))
    return out
