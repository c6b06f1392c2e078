"""Annual and phase-end rollups for Sở Nội vụ: completeness, timeliness, indicator totals,
derived ratios, block scores; xlsx, docx, charts, CSV/Parquet; provenance in DuckDB.

The pipeline runs them: `pipeline.rollup.rollup(ws, "annual" | "phase", number)`."""
