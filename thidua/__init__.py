"""thidua: the reporting cycles of a Vietnamese emulation movement, end to end.

This package is the domain, the bottom layer: config and settings, calendar, workbook
layout and template, parsing, rules and checks, rollup maths and report writers, email
rendering and the mailer.  It imports no Prefect, DuckDB or Great Expectations; the
layers above are `warehouse/` and `expectations/`, `pipeline/`, `tasks/` and `flows/`,
and `apps/` (import-linter checks it: `lint-imports`).
"""

import os

# Offline machines: no library may phone home, whoever imports it first.
for _var, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    # The ephemeral Prefect API needs more than the default 20 s on a busy 2-core machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}.items():
    os.environ.setdefault(_var, _value)

__version__ = "0.1.0"
