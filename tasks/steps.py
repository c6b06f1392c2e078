"""Pipeline steps as Prefect tasks, and the runner a flow hands to a pipeline sequence."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from tasks.guards import writer_slot


def step_task(step: Callable[..., Any], writes: bool = False, **options: Any) -> Task:
    """The task of one pipeline step: named after it, never cached (every run acts on the
    inbox or the calendar of its day); a step that writes the warehouse holds the
    writer slot."""
    fn = step
    if writes:

        @functools.wraps(step)
        def fn(*args: Any, **kwargs: Any) -> Any:
            with writer_slot():
                return step(*args, **kwargs)

    return task(name=step.__name__.replace("_", "-"), cache_policy=NO_CACHE, **options)(fn)


class TaskRunner:
    """A runner (`pipeline.steps.Runner`) that runs each step as its task; a step without
    one is a programming error, not something to run silently outside Prefect
    (tests/test_sequences.py checks that every step a sequence runs has its task)."""

    def __init__(self, *tasks: Task) -> None:
        self.tasks = {getattr(t.fn, "__wrapped__", t.fn): t for t in tasks}

    def __call__(self, step: Callable[..., Any], /, *args: Any) -> Any:
        return self.tasks[step](*args)
