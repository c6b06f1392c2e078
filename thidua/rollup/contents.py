"""Section II of the annual and phase reports organised by the plan's contents II.1–7: which
indicators and which words of the units tell what was done under each content, and the
sentences that say it.  Pure: tables in, Vietnamese text out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from thidua import layout
from thidua.package import is_denominator, total_source
from thidua.rollup.model import number_vi, percent_vi


@dataclass(frozen=True)
class Content:
    title: str
    codes: tuple[str, ...]  # indicators.csv codes that measure it
    words: tuple[str, ...]  # lower-case words that place a unit's highlight under it
    # rates the report states without scoring them: (numerator, denominator, name)
    rates: tuple[tuple[str, str, str], ...] = ()


# Plan 22/KH-UBND part II, in its order.  Content 7 has no indicator: only units' words.
PLAN_CONTENTS = (
    Content(
        "Thi đua nâng cao nhận thức, đổi mới tư duy về khoa học, công nghệ, đổi mới sáng "
        "tạo và chuyển đổi số",
        ("TT01", "TT02", "SK01", "MT02"),
        ("tuyên truyền", "nhận thức", "tư duy", "sáng kiến"),
    ),
    Content(
        "Thi đua phát triển hạ tầng số, công nghệ số",
        ("TX02",),
        ("hạ tầng", "internet", "wifi", "cáp quang", "máy tính", "thiết bị"),
    ),
    Content(
        "Thi đua đẩy mạnh chuyển đổi số trong hoạt động của các cơ quan trong hệ thống chính "
        "trị, ứng dụng số trong cải cách hành chính",
        ("HC01", "HC02", "HC03", "HC04", "HC05", "DL01", "DL02"),
        ("dịch vụ công", "hồ sơ", "thủ tục", "một cửa", "văn bản", "dữ liệu"),
        (("HC03", "HC01", "tỷ lệ hồ sơ thủ tục hành chính giải quyết đúng hạn"),),
    ),
    Content(
        "Thi đua phát triển kinh tế số, doanh nghiệp công nghệ số",
        ("DN01", "DN02", "DN03", "DN04"),
        ("doanh nghiệp", "thương mại điện tử", "hóa đơn điện tử", "hoá đơn điện tử"),
    ),
    Content(
        "Thi đua phát triển xã hội số, Phong trào \u201cBình dân học vụ số\u201d",
        ("BD01", "BD02", "BD03", "MT01", "TX03", "TX04", "TX05"),
        ("kỹ năng số", "bình dân học vụ số", "công nghệ số", "vneid", "điện thoại thông minh"),
    ),
    Content(
        "Thi đua bảo đảm quốc phòng, an ninh, an toàn, an ninh mạng trên không gian mạng",
        ("AN01",),
        ("an ninh mạng", "an toàn thông tin", "lừa đảo", "không gian mạng"),
    ),
    Content(
        "Tăng cường hợp tác quốc tế trong phát triển khoa học, công nghệ, đổi mới sáng tạo, "
        "chuyển đổi số",
        (),
        ("hợp tác quốc tế", "quốc tế", "nước ngoài"),
    ),
)
NOTHING_VI = "Trong kỳ, các {unit_noun} không phát sinh kết quả thuộc nội dung này."
MAX_HIGHLIGHTS = 4  # distinct highlight texts quoted per content


def content_of(text: str) -> int | None:
    """Index of the content whose words the text holds most often (the first on a tie)."""
    low = text.lower()
    hits = [sum(w in low for w in c.words) for c in PLAN_CONTENTS]
    best = max(hits)
    return hits.index(best) if best else None


def content_label(code: str, name_vi: str = "") -> str:
    """ "II.3": the plan content an indicator measures; "—" for one that measures none
    (populations, denominators).  A province's package total (its name, `name_vi`)
    measures what the commune indicator it sums measures (`package_sources`)."""
    source = total_source(name_vi)
    code = source[0] if source else code
    found = [n for n, c in enumerate(PLAN_CONTENTS, 1) if code in c.codes]
    return f"II.{found[0]}" if found else "—"


def population(kind: str, populations: dict[str, str], kinds: dict[str, str]) -> str:
    """Who a kind's TS01 counts, as the report names it."""
    return populations.get(kind) or kinds.get(kind, kind).split(" (")[0].lower()


def ratio_base(
    denominator: str, weight: str, population_vi: str, names: dict[str, str], unit_noun: str
) -> str:
    """ "trên tổng số nhân khẩu từ 15 tuổi trở lên": the base a ratio is computed over.
    At a province, a ratio of the package's terms is the communes' summed numerators
    over their summed denominators (`unit_noun`: the tier's, "xã, phường")."""
    if denominator == weight:
        return f"trên tổng số {population_vi}"
    name = names.get(denominator, denominator)
    if is_denominator(name):
        return f"tổng tử số trên tổng mẫu số của các {unit_noun}"
    return "trên " + (name[:1].lower() + name[1:])


def figure_vi(r: Any) -> str:
    """One figure of a kind, in words: "số hoạt động …: 12 hoạt động"; a yes/no as the
    count of units answering yes; a rate with %."""
    name = r.name_vi.split(" (")[0]
    name = name[:1].lower() + name[1:]
    if r.type == "bool":
        return f"{name}: {number_vi(r.total)}/{r.n_units} đơn vị"
    if r.type == "percent":
        return f"{name}: {percent_vi(r.total)}"
    return f"{name}: {number_vi(r.total)} {r.unit_vi}"


def package_sources(rows: pd.DataFrame) -> pd.DataFrame:
    """A province's figures under the commune plan's contents: each package total stands
    for the commune indicator it sums (its code) over one kind of the communes' units
    (named in the figure's name); any other row as it is.  The province plan's own
    contents (KH 02/KH-UBND tỉnh) are to be confirmed: the commune plan's serve."""
    found = rows["name_vi"].map(total_source)
    hit = found.notna()
    if not hit.any():
        return rows
    out = rows.copy()
    out.loc[hit, "indicator_code"] = found[hit].map(lambda f: f[0])
    out.loc[hit, "name_vi"] = found[hit].map(
        lambda f: f"{f[1].split(' (')[0]} – {f[2].split(' (')[0].lower()}"
    )
    return out


def kind_figures(rows: pd.DataFrame, content: Content) -> list[str]:
    """The kind's non-zero figures of the content, in the content's order."""
    rows = rows[rows["indicator_code"].isin(content.codes) & rows["total"].fillna(0).ne(0)]
    order = {c: n for n, c in enumerate(content.codes)}
    rows = rows.iloc[rows["indicator_code"].map(order).argsort(kind="stable")]
    figures = [figure_vi(r) for r in rows.itertuples()]
    # a province holds a commune indicator once per kind of unit: the rate is over the sum
    by_code = rows.groupby("indicator_code").agg(
        total=("total", "sum"), name_vi=("name_vi", "first")
    )
    for num, den, name in content.rates:
        if num in by_code.index and den in by_code.index:
            base = by_code.loc[den, "name_vi"]
            pct = 100 * by_code.loc[num, "total"] / by_code.loc[den, "total"]
            figures.append(f"{name} đạt {percent_vi(pct)} (trên {base[:1].lower()}{base[1:]})")
    return figures


def highlights(
    narratives: pd.DataFrame, kinds: list[str], limit: int
) -> dict[int, list[tuple[str, list]]]:
    """Per content, the units' highlight texts (tom_tat) it holds: each distinct text
    once with the units that wrote it, taken by kind in turn (not by unit code), at most
    MAX_HIGHLIGHTS per content; a text over `limit` characters (a warning at collection)
    is quoted up to it."""
    df = narratives[narratives["key"] == "tom_tat"] if len(narratives) else narratives
    groups: dict[str, tuple[str, str, list[str]]] = {}
    for r in df.itertuples():
        text = r.text if len(r.text) <= limit else r.text[:limit].rstrip() + "…"
        groups.setdefault(layout.same_text(text), (text, r.kind, []))[2].append(r.name)
    rank = {k: n for n, k in enumerate(kinds)}
    seen: dict[str, int] = {}
    turns = []
    for text, kind, names in groups.values():
        seen[kind] = seen.get(kind, 0) + 1
        turns.append(((seen[kind], rank.get(kind, len(rank))), text, names))
    out: dict[int, list[tuple[str, list]]] = {}
    for _, text, names in sorted(turns, key=lambda t: t[0]):
        at = content_of(text)
        if at is not None and len(out.setdefault(at, [])) < MAX_HIGHLIGHTS:
            out[at].append((text, names))
    return out


def initiative_order(inits: pd.DataFrame) -> pd.DataFrame:
    """The initiatives a report quotes first: highest recognition level, then those whose
    effect is stated, then by unit."""
    level = {v: n for n, v in enumerate(layout.RECOGNITION_LEVELS)}
    ranked = inits.assign(
        _level=inits["recognition"].map(level).fillna(-1),
        _effect=inits["effect"].fillna("").astype(str).str.strip().ne(""),
    )
    return ranked.sort_values(
        ["_level", "_effect", "code", "row_no"], ascending=[False, False, True, True]
    ).drop(columns=["_level", "_effect"])


def initiative_vi(r: Any) -> str:
    """ "tên – tác giả, đơn vị – hiệu quả" (the parts the unit filled)."""
    who = ", ".join(p for p in (r.author, r.name) if isinstance(p, str) and p.strip())
    parts = [r.title, who]
    if isinstance(r.effect, str) and r.effect.strip():
        parts.append(r.effect.strip())
    text = " – ".join(p for p in parts if p)
    if isinstance(r.recognition, str) and r.recognition.strip():
        text += f" (công nhận {r.recognition.strip().lower()})"
    return text
