"""The two automations that make a lost worker host survivable, and the writer limits
(`python -m apps.automations [LIMIT ...]`, run by `thidua server start` against its
server):

1. a flow run whose heartbeats stop (`PREFECT_FLOWS_HEARTBEAT_FREQUENCY`, set for every
   run the workers start) is marked Crashed after `SILENCE` seconds: its host is gone;
2. a Crashed run is scheduled again (`AwaitingRetry`, the same run and parameters) and
   another worker takes it.  The flow re-runs from the start: its steps are idempotent
   (the warehouse and the sent log are the record), and `flows.hooks.run_workspace`
   refuses a run past `MAX_RUNS`, so a run that crashes every time stops looping.

Neither is on by default in a self-hosted server.  Looked up by name: created once.
The limits given (`duckdb-writer-<tenant>`, one slot each) are created in this one
process: a `prefect gcl` command each cost two CLI starts per tenant, minutes for 129.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from prefect.automations import Automation
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.exceptions import ObjectNotFound

SILENCE = 90  # three missed heartbeats of 30 s
FLOW_RUNS = ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"})
ENDS = {f"prefect.flow-run.{s}" for s in ("Completed", "Failed", "Cancelled", "Crashed")}


def automations() -> list[Automation]:
    crash = Automation(
        name="thidua: crash silent runs",
        description="No heartbeat for 90 s: the worker host is lost.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *ENDS},
            match=FLOW_RUNS,
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=SILENCE),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                name="Crashed",
                message="Mất nhịp tim: máy chạy worker đã mất.",
                force=False,
            )
        ],
    )
    rerun = Automation(
        name="thidua: rerun crashed runs",
        description="A crashed run is scheduled again for any worker of the pool.",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Crashed"},
            match=FLOW_RUNS,
            for_each={"prefect.resource.id"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.SCHEDULED,
                name="AwaitingRetry",
                message="Chạy lại trên worker khác.",
                force=True,
            )
        ],
    )
    return [crash, rerun]


def ensure() -> list[str]:
    """Create the automations the server lacks; return the names created."""
    created = []
    with get_client(sync_client=True) as client:
        for automation in automations():
            if not client.read_automations_by_name(automation.name):
                automation.create()
                created.append(automation.name)
    return created


def ensure_limits(names: list[str]) -> list[str]:
    """Create the one-slot concurrency limits the server lacks; return those created."""
    created = []
    with get_client(sync_client=True) as client:
        for name in names:
            try:
                client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )
                created.append(name)
    return created


if __name__ == "__main__":
    print("\n".join(ensure() + ensure_limits(sys.argv[1:])))
