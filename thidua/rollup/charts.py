"""PNG charts of a rollup (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from thidua.rollup.model import date_vi, percent_vi, ratio_names


def draw(out: Path, tables: dict[str, pd.DataFrame], ctx: dict[str, Any]) -> dict[str, Path]:
    """Completeness by block, key ratios, and (phase) the ratios' trend; name → path."""
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    cycle = ctx["cycle"]
    period = f"{date_vi(cycle.period_start)} – {date_vi(cycle.period_end)}"
    files = {
        "completeness": _completeness(out / "ty-le-nop-theo-khoi.png", tables, ctx, period),
        "ratios": _ratios(
            out / "cac-ty-le-chinh.png",
            tables,
            ratio_names(ctx["cfg"]),
            f"{ctx['cfg'].settings.tier.whole} ({period})",
        ),
    }
    if ctx["kind"] == "phase":
        files["trends"] = _trends(out / "xu-huong-cac-ty-le.png", tables, ratio_names(ctx["cfg"]))
    return files


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _completeness(path: Path, tables: dict, ctx: dict, period: str) -> Path:
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
    ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0f}%")
    ax.set_title(f"Tỷ lệ nộp báo cáo theo khối thi đua ({period})")
    # the legend under the axes, clear of the bars
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    return _save(fig, path)


def _ratios(path: Path, tables: dict, names: dict[str, str], title: str) -> Path:
    """The key ratios as bars; `title` names the area and period ("toàn xã (…)")."""
    import matplotlib.pyplot as plt

    r = tables["ratios"]
    r = r[r["level"] == "commune"]
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(r) + 1.6))
    bars = ax.barh([names[k] for k in r["ratio"]], r["pct"].fillna(0))
    ax.bar_label(bars, labels=[percent_vi(p) if pd.notna(p) else "—" for p in r["pct"]], padding=3)
    ax.set_xlim(0, 115)
    ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0f}%" if x <= 100 else "")
    ax.invert_yaxis()
    ax.set_title(f"Các tỷ lệ chính {title}")
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
        ax.legend(
            fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False
        )
    return _save(fig, path)
