"""The result of a rollup run: its version, headline figures and files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from thidua.rollup.model import date_vi
from thidua.rules import fmt

NO_SUBMISSIONS = (
    "Kỳ {cycle} chưa có báo cáo nào được tiếp nhận: cả {n} đơn vị phải nộp đều tính là chưa nộp."
)


def draft_note(headline: dict[str, Any]) -> str:
    """What the CLI and the artifact say of a draft (a rollup dated on or before the due)."""
    day = date_vi(date.fromisoformat(headline["date"]))
    return (
        f"DỰ THẢO – số liệu tạm tính: báo cáo lập ngày {day}, chưa qua hạn nộp của các "
        "đơn vị; tổng hợp lại sau hạn để có bản chính thức."
    )


@dataclass
class RollupResult:
    rollup_id: str
    cycle_id: str
    kind: str  # annual | phase
    version: int
    output_dir: Path
    headline: dict[str, Any]
    ratio_names: dict[str, str]  # ratio key → Vietnamese name
    files: dict[str, Path] = field(default_factory=dict)

    def markdown(self) -> str:
        """Headline figures and file links, for the Prefect artifact and the CLI."""
        h = self.headline
        lines = [
            f"# {h['title']}: {self.rollup_id}",
            "",
            (
                f"- Đơn vị phải nộp: {h['expected']}; đã nộp {h['submitted']} "
                f"({fmt(h['reporting_rate'])}%), đúng hạn {h['on_time']} "
                f"({fmt(h['on_time_rate'])}%), "
                f"muộn {h['late']}, chưa nộp {h['missing']}"
            ),
            *(
                f"- {self.ratio_names[k]}: {'—' if v is None else f'{fmt(v)}%'}"
                for k, v in h["ratios"].items()
            ),
            (
                f"- Sáng kiến {h['initiatives']}, đề nghị khen thưởng {h['proposals']}, "
                f"số lần gửi được tổng hợp {h['sources']}"
            ),
            "",
        ]
        if h.get("draft"):
            lines += [draft_note(h), ""]
        if not h["accepted_in_cycle"]:
            lines += [NO_SUBMISSIONS.format(cycle=self.cycle_id, n=h["expected"]), ""]
        lines += [
            f"- [{name}]({Path(path).absolute().as_uri()})" for name, path in self.files.items()
        ]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rollup_id": self.rollup_id,
            "cycle": self.cycle_id,
            "kind": self.kind,
            "version": self.version,
            "output_dir": str(self.output_dir),
            "headline": self.headline,
            "files": {k: str(v) for k, v in self.files.items()},
        }
