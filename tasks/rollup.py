"""Tasks of the rollup flows: the steps of `pipeline.rollup`.  One task run builds one
rollup version (batch SQL inside); no retries: a rerun records a new version, which is
what reruns mean.  Sending has no Prefect retries either (the mailer retries transient
SMTP errors itself), so a report is never mailed twice by one run."""

from __future__ import annotations

from pipeline import rollup as steps
from tasks.steps import TaskRunner, step_task

run = TaskRunner(
    step_task(steps.build, writes=True),  # ends with a write: the version's record
    step_task(steps.email_report),
)
