"""How the block score measured each kind's performance, in words: against the targets
the units registered at the plan cycle, or by percentile rank in the block where a unit
registered none (`rollup_scores` in warehouse/sql/rollup.sql).  Pure."""

from __future__ import annotations

import pandas as pd

from thidua.rollup.model import percent_vi


def rank_vi(noun: str) -> str:
    """The fallback method; `noun`: the tier's unit noun (đơn vị; xã, phường)."""
    return f"theo thứ hạng các tỷ lệ so với các {noun} cùng khối"


def annual_rule_vi(noun: str) -> str:
    """The rule an annual report states: ranks only (targets are cumulative to the
    phases' ends, and the plan gives no annual share of them)."""
    return (
        f"Kết quả thực hiện tính {rank_vi(noun)}; chỉ tiêu {noun} đã đăng ký (lũy kế đến "
        "cuối giai đoạn) được dùng để đánh giá khi sơ kết, tổng kết."
    )


def rule_vi(cap: float, noun: str) -> str:
    """The rule a phase report states above the kinds' methods."""
    return (
        f"Kết quả thực hiện của mỗi tỷ lệ chỉ tiêu: {noun} đã đăng ký chỉ tiêu thì tính bằng "
        f"kết quả đạt được so với chỉ tiêu đăng ký (tối đa {percent_vi(100 * cap)}); {noun} "
        f"chưa đăng ký thì tính {rank_vi(noun)}."
    )


def method_vi(n_targets: int, n_ratios: int) -> str:
    """One unit's method, for its row of TheoDonVi."""
    if not n_targets:
        return "thứ hạng trong khối"
    return f"so với chỉ tiêu đăng ký ({n_targets}/{n_ratios} tỷ lệ)"


def kind_method_vi(units: pd.DataFrame, noun: str) -> str:
    """The method of one kind's units that have ratios to score: against targets, by
    rank, or both (a unit that sent no report has no performance part to measure)."""
    scored = units[units["score"].notna() & (units["n_ratios"] > 0)]
    n = len(scored)
    with_target = int((scored["n_targets"] > 0).sum())
    every = int(((scored["n_targets"] >= scored["n_ratios"]) & (scored["n_ratios"] > 0)).sum())
    if not with_target:
        return f"{rank_vi(noun)} (không {noun} nào đăng ký chỉ tiêu cho các tỷ lệ)"
    if every == n:
        return f"so với chỉ tiêu {noun} đã đăng ký ({n}/{n} {noun})"
    return (
        f"so với chỉ tiêu đã đăng ký ở {with_target}/{n} {noun}; {rank_vi(noun)} với các "
        f"tỷ lệ, {noun} chưa đăng ký chỉ tiêu"
    )
