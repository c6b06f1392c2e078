"""Annual and phase-end rollups for Sở Nội vụ: completeness, timeliness, indicator totals,
derived ratios, block scores; xlsx, docx, charts, CSV/Parquet; provenance in DuckDB.

Entry points: `thidua.rollup.run.run_annual(ws, year)` and `run_phase(ws, phase)`."""
