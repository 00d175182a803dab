"""What went wrong while the engine ran a case, told in terms a supervisor can act on.

Anything raised while SpiffWorkflow steps a case — a script or condition that fails, a timer
expression that does not evaluate, a DMN table without a match, the sandbox refusing diagram
code, the step bound — becomes an `EngineFailure` naming the element, its line and the message.
The write path turns it into an incident on the case.
"""
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState


class EngineFailure(Exception):
    def __init__(self, kind, message, element=None, element_name=None, line=None):
        super().__init__(message)
        self.kind = kind            # process_error | step_limit | case_too_large
        self.message = message
        self.element = element
        self.element_name = element_name
        self.line = line

    def as_details(self):
        return {'kind': self.kind, 'element': self.element, 'element_name': self.element_name,
                'line': self.line, 'error': self.message}


class StepLimitExceeded(Exception):
    """More engine steps in one write than the configured bound (a loop that needs no person)."""

    def __init__(self, task, limit):
        super().__init__(f'more than {limit} engine steps in one change (一次处理中自动步骤超过 {limit} 步，'
                         f'流程可能在无人参与的环节中循环)')
        self.task = task


class CaseTooLarge(Exception):
    def __init__(self, size, limit):
        super().__init__(f'case state would be {size:,} bytes, more than the limit of {limit:,} '
                         f'(案件数据将达到 {size:,} 字节，超过上限 {limit:,})')
        self.size, self.limit = size, limit


def _spec_of(task):
    spec = getattr(task, 'task_spec', None)
    if spec is None:
        return None, None
    return getattr(spec, 'bpmn_id', None) or getattr(spec, 'name', None), getattr(spec, 'bpmn_name', None)


def _task_in_traceback(exc):
    """The innermost SpiffWorkflow task the failing code was working on (its `my_task` argument):
    an error while the engine prepares a task that is not yet running (a multi-instance task over a
    collection that is missing) marks no task ERROR, yet it is that task's element to blame."""
    found, tb = None, exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get('my_task')
        if isinstance(candidate, Task):
            found = candidate
        tb = tb.tb_next
    return found


def describe(exc, workflow=None):
    """An EngineFailure for any exception raised while the engine ran `workflow`."""
    if isinstance(exc, EngineFailure):
        return exc
    if isinstance(exc, CaseTooLarge):
        return EngineFailure('case_too_large', str(exc))
    kind = 'step_limit' if isinstance(exc, StepLimitExceeded) else 'process_error'
    task = getattr(exc, 'task', None)
    if task is None and workflow is not None:
        # Not a Spiff exception (an AttributeError deep in the engine, a RecursionError): the
        # task the engine marked ERROR is the element to blame.
        failed = workflow.get_tasks(state=TaskState.ERROR)
        task = failed[-1] if failed else _task_in_traceback(exc)
    element, name = _spec_of(task)
    if element is None:
        element = getattr(getattr(exc, 'task_spec', None), 'bpmn_id', None)
    line = getattr(exc, 'line_number', None) or None
    message = str(exc) if isinstance(exc, (StepLimitExceeded,)) or type(exc).__module__.startswith(
        ('SpiffWorkflow', 'service')) else f'{type(exc).__name__}: {exc}'
    return EngineFailure(kind, message[:4000], element=element, element_name=name, line=line)
