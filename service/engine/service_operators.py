"""The service-task operators jiuzhu implements: the only ones a `bpmn:serviceTask` may call.

A service task names its operator in `<spiffworkflow:serviceTaskOperator id="...">`; validation
refuses any name not registered here, so no case can reach a service task that nothing runs
(SpiffWorkflow's default raises NotImplementedError there). A service the bureau needs is added
here, with its tests, before a diagram may call it.

Operators that write records (a household granted by a decision) are implemented by the services
layer: their names are declared here, so validation knows them wherever it runs, and the services
bind the implementation when the app is created (`bind`). They act on the case being written:
the write path names it for the engine steps it runs (`acting_on`), so an operator's rows are in
the case's own transaction, under its version check.

An operator takes the evaluated parameters ({name: value}) and returns a JSON-serialisable
result, which SpiffWorkflow stores in the task's result variable.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable

__all__ = ['OPERATORS', 'UnknownOperator', 'acting_on', 'bind', 'call', 'current_case']

_CASE: ContextVar = ContextVar('jiuzhu_service_case', default=None)


def _unbound(name):
    def run(params):
        raise UnknownOperator(f'服务 {name!r} 尚未启用 (operator {name!r} is declared but not bound)')
    return run


# name → implementation; declared ones start unbound and are bound by the services.
OPERATORS: dict[str, Callable[[dict], object]] = {
    # Records the effect of a decision on the household register (services/households/effects.py):
    # params effect (grant|adjust|continue|stop), category, amount, start_month, applicant, ...
    'household_effect': _unbound('household_effect'),
    # Records a move to the next category with the household's consent (services/referrals.py):
    # params category, application {the new case's start data}, reason. The new case is started
    # afterwards in its own transaction, never inside this write.
    'refer_case': _unbound('refer_case'),
    # Writes a complaint's verification and the answer to the reporter (services/complaints.py).
    'complaint_feedback': _unbound('complaint_feedback'),
}


def bind(name: str, operator: Callable[[dict], object]) -> None:
    if name not in OPERATORS:
        raise KeyError(f'operator {name!r} is not declared in service_operators.OPERATORS')
    OPERATORS[name] = operator


def current_case():
    """The case row the write path is running engine steps for (None outside a write)."""
    return _CASE.get()


@contextmanager
def acting_on(instance):
    token = _CASE.set(instance)
    try:
        yield instance
    finally:
        _CASE.reset(token)


class UnknownOperator(Exception):
    """A service task reached an operator that is not (or no longer) registered."""


def call(name: str, params: dict) -> str:
    """Run operator `name` with {param: {'value': v, 'type': t}} as SpiffWorkflow passes them; JSON text back."""
    operator = OPERATORS.get(name)
    if operator is None:
        raise UnknownOperator(f'服务 {name!r} 未在本系统中实现 (no service operator {name!r} is registered)')
    return json.dumps(operator({key: spec.get('value') for key, spec in params.items()}))
