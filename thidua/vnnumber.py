"""Numbers a clerk typed as text, read by one explicit rule (never guessed silently).

Vietnamese writes `1.234` for one thousand two hundred thirty-four and `12,5` for twelve
and a half; English writes the opposite.  A value cell typed as text is read so:

- plain digits (`12`, ` 0012 `, `-3`): the number, without comment;
- Vietnamese thousands dots (`1.234`, `1.234.567`), a decimal comma (`12,5`) or both
  (`1.234,5`): read the Vietnamese way, with a warning that shows the number read, so the
  unit sees it in the acknowledgment;
- in the CSV long form, which machines write, a decimal point is plain (`12.5`, and so
  `1.234` is one point two three four: an integer indicator then fails its own rule);
- a trailing percent sign (`85%`, `85 %`, `12,5%`) is read off, the number before it read
  by the rules above (`percent` is then set; the checks decide what a percent means);
- anything a reader could take either way (`12.5`, `1,234`, `12,500`) or that is not a
  number at all (`khoảng 50`, `15/06/2025`): not read; an error asks for a plain number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_PLAIN = re.compile(r"^-?\d+$")
_VI_THOUSANDS = re.compile(r"^-?\d{1,3}(?:\.\d{3})+$")
_VI_DECIMAL = re.compile(r"^-?\d+,\d+$")
_VI_BOTH = re.compile(r"^-?\d{1,3}(?:\.\d{3})+,\d+$")
_EN_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+$")
_POINT = re.compile(r"^-?\d+\.\d+$")


@dataclass(frozen=True)
class TextNumber:
    value: float | None  # None: not read
    how: str  # plain | vi | ambiguous | not_number
    percent: bool = False  # typed with a trailing % sign


def read_text_number(text: str, decimal_point: bool = False) -> TextNumber:
    """Read a number typed as text by the rule in this module's docstring;
    `decimal_point` for the CSV long form."""
    s = _SPACES.sub("", text)
    if s.endswith("%") and len(s) > 1 and not s[:-1].endswith("%"):
        inner = read_text_number(s[:-1], decimal_point)
        return TextNumber(inner.value, inner.how, percent=True)
    if _PLAIN.match(s) or (decimal_point and _POINT.match(s)):
        return TextNumber(float(s), "plain")
    if _EN_THOUSANDS.match(s):  # 1,234 or 12,500: thousands (en) or decimal (vi)?
        return TextNumber(None, "ambiguous")
    if _VI_THOUSANDS.match(s):
        return TextNumber(float(s.replace(".", "")), "vi")
    if _VI_DECIMAL.match(s) or _VI_BOTH.match(s):
        return TextNumber(float(s.replace(".", "").replace(",", ".")), "vi")
    if _POINT.match(s):  # 12.5: a decimal point is not Vietnamese
        return TextNumber(None, "ambiguous")
    return TextNumber(None, "not_number")
