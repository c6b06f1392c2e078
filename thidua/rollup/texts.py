"""The officer's edits of the generated paragraphs of a cycle's report.

One file per cycle, `reports/<cycle>/sua-doan-van.yaml`, beside the versions: each
generated paragraph under its key, `tu_dong` (what the rollup generated, refreshed on
every run) and `sua` (the officer's text, kept across runs).  A non-empty `sua`
replaces the generated paragraph in every later version of the cycle's report."""

from __future__ import annotations

from pathlib import Path

import yaml

EDITABLE_FILE = "sua-doan-van.yaml"
HEADER = (
    "# Sửa đoạn văn của báo cáo: ghi nội dung thay thế vào `sua` của đoạn cần sửa (để trống:\n"
    "# dùng đoạn tự động `tu_dong`).  Lần tổng hợp sau của kỳ này dùng đoạn đã sửa;\n"
    "# `tu_dong` được cập nhật theo số liệu mới để cán bộ đối chiếu.\n"
)


class EditableTexts:
    def __init__(self, path: Path) -> None:
        self.path = path
        loaded = yaml.safe_load(path.read_text("utf-8")) if path.exists() else None
        self.edits = {
            k: str(v.get("sua") or "").strip()
            for k, v in (loaded or {}).items()
            if isinstance(v, dict)
        }
        self.generated: dict[str, str] = {}

    def text(self, key: str, generated: str) -> str:
        """The officer's text for `key` when there is one, else `generated`."""
        self.generated[key] = generated
        return self.edits.get(key) or generated

    def save(self) -> Path:
        """Write every paragraph of this run with the officer's edits kept (an edit of a
        paragraph this run did not write is kept too)."""
        keys = list(self.generated) + [k for k in self.edits if k not in self.generated]
        data = {
            k: {"tu_dong": self.generated.get(k, ""), "sua": self.edits.get(k, "")} for k in keys
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
        self.path.write_text(HEADER + body, "utf-8")
        return self.path
