"""The service-task operators jiuzhu implements: the only ones a `bpmn:serviceTask` may call.

A service task names its operator in `<spiffworkflow:serviceTaskOperator id="...">`; validation
refuses any name not registered here, so no case can reach a service task that nothing runs
(SpiffWorkflow's default raises NotImplementedError there). None is implemented yet: a service
the bureau needs is added here, with its tests, before a diagram may call it.

An operator takes the evaluated parameters ({name: value}) and returns a JSON-serialisable
result, which SpiffWorkflow stores in the task's result variable.
"""
from __future__ import annotations

import json
from typing import Callable

__all__ = ['OPERATORS', 'UnknownOperator', 'call']

OPERATORS: dict[str, Callable[[dict], object]] = {}


class UnknownOperator(Exception):
    """A service task reached an operator that is not (or no longer) registered."""


def call(name: str, params: dict) -> str:
    """Run operator `name` with {param: {'value': v, 'type': t}} as SpiffWorkflow passes them; JSON text back."""
    operator = OPERATORS.get(name)
    if operator is None:
        raise UnknownOperator(f'服务 {name!r} 未在本系统中实现 (no service operator {name!r} is registered)')
    return json.dumps(operator({key: spec.get('value') for key, spec in params.items()}))
