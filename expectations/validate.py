"""Run the submission suite once over a batch frame and map failures back to cells.

A fresh ephemeral context per call: GX mixes up results when one datasource is shared
between threads (notes §8.1), and building one costs ~35 ms.  Results are matched by
`meta.rule_id`, never by position (GX does not keep suite order).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from thidua.config import Config
from thidua.rules import Problem, fmt, problem

INDEX_COLUMNS = ["row_id"]


def run_suite(
    frame: pd.DataFrame, cfg: Config, docs_dir: Path | None = None
) -> list[tuple[str, Problem]]:
    """(submission_id, Problem) for every failing row; data docs built when `docs_dir`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from expectations.submissions import SUITE_NAME, build_expectations

    if frame.empty:
        return []
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_def = (
        ctx.data_sources.add_pandas("submissions")
        .add_dataframe_asset("values")
        .add_batch_definition_whole_dataframe("batch")
    )
    suite = ctx.suites.add(
        gx.ExpectationSuite(name=SUITE_NAME, expectations=build_expectations(cfg))
    )
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": INDEX_COLUMNS}
    if docs_dir is None:
        result = batch_def.get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, result_format=result_format
        )
    else:
        docs_dir.mkdir(parents=True, exist_ok=True)
        ctx.add_data_docs_site(
            site_name="thidua",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        vd = ctx.validation_definitions.add(
            gx.ValidationDefinition(name="submissions", data=batch_def, suite=suite)
        )
        result = vd.run(batch_parameters={"dataframe": frame}, result_format=result_format)
        ctx.build_data_docs(site_names=["thidua"])
    return _problems(result, frame, cfg)


def _problems(result: Any, frame: pd.DataFrame, cfg: Config) -> list[tuple[str, Problem]]:
    inds = {i.code: i for i in cfg.indicators}
    out = []
    for r in result.results:
        if r.success:
            continue
        meta = r.expectation_config.meta or {}
        rows = r.result.get("unexpected_index_list")
        if rows is None:
            raise RuntimeError(f"GX rule {meta.get('rule_id')} failed to run: {r.exception_info}")
        ids = [row["row_id"] for row in rows]
        for row in frame.iloc[ids].itertuples(index=False):
            out.append((row.submission_id, _problem(meta, row, inds)))
    return out


def _problem(meta: dict, row: Any, inds: dict) -> Problem:
    rule, code, value = meta["rule_id"], row.indicator, row.value
    ind = inds[code]
    fields = {"code": code}
    if rule == "min":
        fields["min"] = fmt(ind.min)
    elif rule == "max":
        fields["max"] = fmt(ind.max)
    elif rule == "at_most":
        fields |= {"ref": ind.at_most, "ref_value": fmt(row.at_most_value)}
    elif rule == "warn_at_most":
        # the factor scaled to the cycle's months (expectations.submissions.long_frame)
        ref = ind.warn_at_most[1]
        fields |= {"limit": fmt(row.warn_limit), "expr": f"{fmt(row.warn_factor)} × {ref}"}
    elif rule == "target_order":
        fields["prev"] = fmt(row.target_before)
    elif rule == "target_reached":
        fields |= {
            "year": row.measure.removeprefix("target_"),
            "reached": fmt(row.target_reached),
            "through": str(int(row.reached_year)),
        }
    elif rule == "yoy":
        fields |= {"factor": fmt(meta["factor"]), "prev": fmt(row.prev)}
    elif rule == "sk_rows":
        fields["n"] = fmt(row.sk_rows)
    return problem(rule, row.cell, value, **fields)
