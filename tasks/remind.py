"""Tasks of the remind flow: the steps of `pipeline.remind`, a chunk of units per task run.

No Prefect retries on `send`: a retried chunk would resend what the server had already
accepted; the mailer retries transient SMTP errors itself, each reminder is logged as
it is sent, and whatever still fails is sent by the next run.
"""

from __future__ import annotations

from pipeline import remind as steps
from pipeline.alerts import alert_failing_mail
from tasks.steps import TaskRunner, step_task

run = TaskRunner(
    step_task(steps.plan),
    step_task(steps.send, writes=True),
    step_task(alert_failing_mail, writes=True),
)
