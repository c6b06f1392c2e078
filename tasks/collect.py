"""Tasks of the collect flow: the steps of `pipeline.collect`, each a task run over the
whole batch, never one per file.

Retries only where I/O may fail for a moment (moving files out of the inbox).  The
acknowledgment task has none: the mailer retries transient SMTP errors itself and a
failed acknowledgment is sent by the next run, so a retry could never mail twice.
Steps that write take the `duckdb-writer` slot.
"""

from __future__ import annotations

from pipeline import collect as steps
from pipeline import mailbox
from pipeline.alerts import alert_failing_mail
from tasks.steps import TaskRunner, step_task

run = TaskRunner(
    # IMAP may drop a connection for a moment; a rerun refetches only what is unrecorded
    step_task(mailbox.fetch_mail, writes=True, retries=2, retry_delay_seconds=[5, 30]),
    step_task(steps.take_in, writes=True),
    step_task(steps.examine),
    step_task(steps.load, writes=True),
    step_task(steps.answer_resends, writes=True),
    step_task(steps.tidy_inbox, retries=2, retry_delay_seconds=[2, 10]),
    step_task(steps.acknowledge, writes=True),
    step_task(alert_failing_mail, writes=True),
    # no retries: a retry could alert the officer twice; unmoved mail is moved next run
    step_task(mailbox.file_mail, writes=True),
)
