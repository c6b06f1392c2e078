"""Matching what a clerk typed or picked against a list of Vietnamese labels, and
reading a day typed in a cell.

A choice (a reward form, say) is recognised by its code or its label, whatever the
case, the spacing, the diacritics (a keyboard without Telex still types "Giay khen")
and "UBND" written out; a unique prefix is enough ("Giấy khen" → "Giấy khen của Chủ
tịch UBND xã" when no other allowed label starts so).  Anything else is not matched:
the caller reports it, never guesses further.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_PUNCT = re.compile(r"[.,;:()\-–—/\"“”'’]+")
_SYNONYMS = (("uy ban nhan dan", "ubnd"),)
_DAY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Case, spacing, punctuation and diacritics folded: "Giấy  khen" → "giay khen".
    Kept for the labels and codes every proposal row is matched against."""
    text = unicodedata.normalize("NFD", str(text).casefold()).replace("đ", "d")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _SPACES.sub(" ", _PUNCT.sub(" ", text)).strip()
    for long, short in _SYNONYMS:
        text = text.replace(long, short)
    return text


def match_label(text: str | None, choices: Mapping[str, str]) -> str | None:
    """The code of `choices` (code → label) that `text` names: by code, by label, or
    as the unique label it begins; None when none or several match."""
    if not text or not text.strip():
        return None
    typed = fold(text)
    if not typed:
        return None
    for code, label in choices.items():
        if typed in (fold(code), fold(label)):
            return code
    starts = [code for code, label in choices.items() if fold(label).startswith(typed + " ")]
    return starts[0] if len(starts) == 1 else None


def read_day(text: str | None) -> date | None:
    """A day as a cell gives it: dd/mm/yyyy (also with - or .), yyyy-mm-dd, or an Excel
    serial number (a date cell read without its format); None when it is not one."""
    if text is None:
        return None
    s = str(text).strip()
    try:
        if m := _DAY.match(s):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := _ISO.match(s):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if re.fullmatch(r"\d{5}(?:\.0+)?", s) and 20000 <= float(s) <= 80000:
            return _EXCEL_EPOCH + timedelta(days=int(float(s)))
    except ValueError:
        return None
    return None
