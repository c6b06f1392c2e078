#!/usr/bin/env bash
# Re-takes docs/dashboard-*.png: a throwaway THIDUA_HOME, a local Prefect server with
# every deployment, one remind/collect/rollup run each, then headless Chromium shots of
# the runs' artifacts.  Needs Debian's chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export THIDUA_HOME=$(mktemp -d)/home PORT=${PORT:-4455}
export PREFECT_API_URL=http://127.0.0.1:$PORT/api PREFECT_HOME=$THIDUA_HOME/prefect
bin=.venv/bin
$bin/thidua init >/dev/null
$bin/thidua server start --port "$PORT"
trap '$bin/thidua server stop --port "$PORT"' EXIT
$bin/prefect deployment run remind/remind -p today=2025-12-11 --watch >/dev/null
$bin/python -c "from thidua.synthetic import drop_into_inbox; from thidua.workspace import Workspace as W; \
from datetime import datetime, UTC; w = W.from_env(); c = w.config.cycle('nam-2025'); \
drop_into_inbox(w, c, w.config.expected_units(c)[:30], datetime(2025, 12, 15, 3, tzinfo=UTC), {'CQ-YT': {'HC04': 150}})"
$bin/prefect deployment run collect/collect --watch >/dev/null
$bin/prefect deployment run annual-rollup/annual-rollup -p year=2025 --watch >/dev/null
shot() {  # artifact key → docs/dashboard-<key>.png
  id=$($bin/python -c "from prefect.client.orchestration import get_client as g
with g(sync_client=True) as c: print(
  [a.id for a in c.read_artifacts() if a.key == '$1'][0])")
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --hide-scrollbars --window-size=1440,${2:-900} \
    --virtual-time-budget=15000 --screenshot="docs/dashboard-$1.png" \
    "http://127.0.0.1:$PORT/artifacts/artifact/$id" 2>/dev/null
}
shot rollup-nam-2025 760
shot collect-outcomes 900
shot remind-stages 520
