"""thidua: the reporting cycles of a Vietnamese emulation movement, end to end.

This package is the domain, the bottom layer: config and settings, calendar, workbook
layout and template, parsing, rules and checks, rollup maths and report writers, email
rendering and the mailer.  It imports no Prefect, DuckDB or Great Expectations; the
layers above are `warehouse/` and `expectations/`, `pipeline/`, `tasks/` and `flows/`,
and `apps/` (import-linter checks it: `lint-imports`).  The libraries' environment
(telemetry off) is set where they are imported: `expectations/`, `tasks/`.
"""

__version__ = "0.1.0"
