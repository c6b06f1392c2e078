"""Every step a sequence runs has its Prefect task: a missing one would be a KeyError
in the middle of a flow run, found only by the slow flow tests."""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable
from types import ModuleType

import pytest

# (sequence module, sequence function, module of its flow's runner)
SEQUENCES = [
    ("pipeline.collect", "collect", "tasks.collect"),
    ("pipeline.remind", "remind", "tasks.remind"),
    ("pipeline.rollup", "rollup", "tasks.rollup"),
]


def steps_run(module: ModuleType, name: str) -> list[Callable]:
    """The functions `name` passes to its runner (`run(step, ...)`), resolved as Python
    does: names imported inside the function, else the module's globals."""
    [fn] = [
        n
        for n in ast.parse(inspect.getsource(module)).body
        if isinstance(n, ast.FunctionDef) and n.name == name
    ]
    local = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.ImportFrom) and node.module:
            source = importlib.import_module(node.module)
            local |= {a.asname or a.name: getattr(source, a.name) for a in node.names}
    return [
        local.get(call.args[0].id) or getattr(module, call.args[0].id)
        for call in ast.walk(fn)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "run"
        and call.args
        and isinstance(call.args[0], ast.Name)
    ]


@pytest.mark.parametrize(("sequence", "name", "tasks"), SEQUENCES)
def test_every_step_has_its_task(sequence, name, tasks):
    steps = steps_run(importlib.import_module(sequence), name)
    assert steps, f"{sequence}.{name} runs no step through its runner"
    runner = importlib.import_module(tasks).run
    missing = [s.__qualname__ for s in steps if s not in runner.tasks]
    assert missing == [], f"steps of {sequence}.{name} without a task in {tasks}"


def test_a_missing_task_is_found():
    """The check sees a step that its runner lacks (the collect sequence against the
    rollup's tasks)."""
    runner = importlib.import_module("tasks.rollup").run
    steps = steps_run(importlib.import_module("pipeline.collect"), "collect")
    assert any(s not in runner.tasks for s in steps)
