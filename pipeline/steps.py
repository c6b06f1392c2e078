"""How a sequence runs its steps.  A sequence (`collect`, `remind`, a rollup) calls every
step through a runner: `call` runs it here and now (the CLI, tests, benches); a flow
passes a runner that runs each step as its Prefect task (`tasks/`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Runner(Protocol):
    def __call__(self, step: Callable[..., Any], /, *args: Any) -> Any: ...


def call(step: Callable[..., Any], /, *args: Any) -> Any:
    """Run the step in this process, as it is."""
    return step(*args)
