"""Great Expectations suites, written as code and generated from config rules.

GX reads its environment when imported: telemetry is turned off here, before any module
of this package imports it, whoever imports first."""

import os

for _var, _value in {"DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "false"}.items():
    os.environ.setdefault(_var, _value)
