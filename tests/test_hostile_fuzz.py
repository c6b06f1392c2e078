"""Property: whatever bytes of a valid workbook or CSV are changed, parsing raises
nothing but `Unreadable`, and examining never raises at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps import synthetic
from thidua.examine import examine_one
from thidua.intake import Incoming
from thidua.parse import Limits, Unreadable, parse_file


@pytest.fixture(scope="module")
def originals(cfg) -> dict[str, bytes]:
    nam = cfg.cycle("nam-2025")
    return {
        "x.xlsx": synthetic.workbook(cfg, cfg.unit("CQ-VP"), nam),
        "x.csv": synthetic.csv_long(cfg, cfg.unit("TX-01"), nam),
    }


def mutations():
    """(file name, [(position as a fraction of the size, new byte)], cut fraction)."""
    edit = st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255))
    return st.tuples(
        st.sampled_from(["x.xlsx", "x.csv"]),
        st.lists(edit, min_size=1, max_size=8),
        st.floats(0.5, 1),
    )


def mutate(data: bytes, edits, cut: float) -> bytes:
    out = bytearray(data)
    for where, byte in edits:
        out[int(where * len(out))] = byte
    return bytes(out[: max(1, int(cut * len(out)))])


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutations())
def test_damaged_bytes_never_escape_as_another_error(cfg, originals, tmp_path, mutation):
    name, edits, cut = mutation
    data = mutate(originals[name], edits, cut)
    try:
        parse_file(name, data, Limits())
    except Unreadable:
        pass
    path = tmp_path / name
    path.write_bytes(data)
    inc = Incoming(
        "x", name, len(data), "inbox", None, datetime(2025, 12, 15, tzinfo=UTC), path, path
    )
    assert examine_one(cfg, inc, Limits()).outcome
