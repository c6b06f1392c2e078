"""thidua: the reporting cycles of a Vietnamese emulation movement, end to end.

The package is the pure domain core (config, calendar, templates, parsing, rollup
maths, email rendering) and the CLI.  It never imports Prefect; flows live in `flows/`.
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
