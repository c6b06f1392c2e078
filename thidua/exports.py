"""Tables written as CSV for people to open in Excel, made safe to open.

Excel runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and tab or CR
lead to the same after its import trims them), so a unit's free text such as
`=HYPERLINK("http://…","Bấm vào đây")` in a rollup export would become a live link or
worse (OWASP "CSV Injection").  Such text cells get a leading single quote, which
Excel shows as text.  Only text is touched: a negative number stays a number.  Parquet
exports keep the raw text; they are read by programs, not opened by hand.
"""

from __future__ import annotations

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> object:
    """The value, with a single quote before it when it is text Excel would run."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def excel_safe(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with every text cell escaped by `escape_cell`, ready for `to_csv`; the
    same frame when nothing needs it.  Numeric, boolean and date columns are left
    alone; in text, object and categorical columns only `str` cells change."""
    out = df
    for name in df.columns:
        col = df[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            fixed = col.cat.rename_categories([escape_cell(c) for c in col.cat.categories])
        elif pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col):
            fixed = col.map(escape_cell, na_action="ignore")
        else:
            continue
        if not fixed.equals(col):
            if out is df:
                out = df.copy()
            out[name] = fixed
    return out
