"""PNG charts of a rollup (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from thidua.rollup.model import ratio_names


def draw(out: Path, tables: dict[str, pd.DataFrame], ctx: dict[str, Any]) -> dict[str, Path]:
    """Completeness by block, key ratios, and (phase) the ratios' trend; name → path."""
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    files = {"completeness": _completeness(out / "ty-le-nop-theo-khoi.png", tables, ctx),
             "ratios": _ratios(out / "cac-ty-le-chinh.png", tables, ratio_names(ctx["cfg"]))}
    if ctx["kind"] == "phase":
        files["trends"] = _trends(out / "xu-huong-cac-ty-le.png", tables,
                                   ratio_names(ctx["cfg"]))
    return files


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _completeness(path: Path, tables: dict, ctx: dict) -> Path:
    import matplotlib.pyplot as plt

    comp = tables["completeness"]
    comp = comp[comp["level"] == "block"]
    labels = [ctx["cfg"].settings.blocks.get(b, b) for b in comp["grp"]]
    y = range(len(labels))
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(labels) + 1.5))
    ax.barh([i + 0.2 for i in y], comp["reporting_rate"], height=0.4, label="Tỷ lệ nộp (%)")
    ax.barh([i - 0.2 for i in y], comp["on_time_rate"], height=0.4, label="Tỷ lệ đúng hạn (%)")
    ax.set_yticks(list(y), labels)
    ax.set_xlim(0, 100)
    ax.set_title("Tỷ lệ nộp báo cáo theo khối thi đua")
    ax.legend(loc="lower right")
    return _save(fig, path)


def _ratios(path: Path, tables: dict, names: dict[str, str]) -> Path:
    import matplotlib.pyplot as plt

    r = tables["ratios"]
    r = r[r["level"] == "commune"]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    bars = ax.barh([names[k] for k in r["ratio"]], r["pct"].fillna(0))
    ax.bar_label(bars, labels=[f"{p:.2f}%" if pd.notna(p) else "—" for p in r["pct"]])
    ax.set_xlim(0, 110)
    ax.set_title("Các tỷ lệ chính toàn xã (%)")
    return _save(fig, path)


def _trends(path: Path, tables: dict, names: dict[str, str]) -> Path:
    import matplotlib.pyplot as plt

    yr = tables["yearly_ratios"]
    fig, ax = plt.subplots(figsize=(8, 4))
    for ratio, rows in yr.groupby("ratio"):
        ax.plot(rows["year"], rows["pct"], marker="o", label=names[ratio])
    ax.set_xticks(sorted(yr["year"].unique()))
    ax.set_ylim(0, 100)
    ax.set_xlabel("Năm")
    ax.set_ylabel("%")
    ax.set_title("Xu hướng các tỷ lệ chính qua các năm")
    if len(yr):
        ax.legend(fontsize=8)
    return _save(fig, path)
