"""Restricted script environment for diagram code (conditions, scripts, timers, DMN cells).

SpiffWorkflow's default environment hands diagram text to ``eval``/``exec`` with full builtins,
so a diagram could read files or import modules.  Diagram authors are not service operators
(the designer page accepts uploads), so every piece of diagram code is compiled with
RestrictedPython (sandbox_policy.py) and runs with a small set of builtins and guards
(sandbox_guards.py).

Bounds: where diagram code runs, and why
-----------------------------------------
Counting executed lines stops Python-level loops, but one C-level call is never interrupted:
``'x'.ljust(10**9)``, ``math.factorial(2*10**6)``, a format width, ``s = s + s`` forty times,
``int.from_bytes`` of megabytes divided by itself... the list of such calls reachable through
builtins, methods and ``math`` is long and grows with every Python release.  Guarding each one
in the service process would be a list that is never complete, so the boundary is a process:

* Diagram code runs in a **worker process** (sandbox_worker.py, managed by sandbox_pool.py) with
  an address-space limit per evaluation (``max_memory``: an allocation beyond it is a
  MemoryError inside the worker, refused with its line) and a wall-clock deadline enforced from
  outside (``seconds``: the service SIGKILLs the worker, which nothing in it can delay, and reads
  the line it was on from a shared memory page).  The worker has an empty environment (no
  database URL or secret key); what it sends back is unpickled as plain case data only, and
  checked to be storable and at most ``max_bytes`` as the case row would hold it (a list holding
  one long text a thousand times counts a thousand times).
* Guards in the worker refuse the known offenders (sizes of ``+ * % ** <<``, format widths,
  padding and ``replace``/``join``, ``math.factorial``/``comb``/``perm``/``prod``/``lcm``,
  three-argument ``pow``, ``round``) before the C call, so the usual case fails at once with a
  precise message.  They are a courtesy; the limits above are the boundary.
* Expressions that can only compare, look up, combine plain numbers and call the service's own
  functions (``acceptance['result'] == 'complete'``, ``add_working_days(accepted_at, 20)``,
  ``round(dibao_standard * 5, 2)``), and scripts that only assign such expressions to names
  (``accepted_at = now()``) -- every condition, timer, DMN cell and script shipped -- run in the
  service process: with no loop, no mutation and no reading back of what they assigned, their
  cost is bounded by their own size times the case data, which sandbox_policy._bounded_names
  proves from the syntax tree; arithmetic is checked at run time to be on plain numbers (else
  the code goes to the worker, from the start).  So ordinary diagrams cost the write path no
  process round trip (tests/bench/bench_sandbox.py).

A refused evaluation raises ScriptRejected with the diagram line; SpiffWorkflow turns it into
a task error.  ``write_budget(seconds)`` bounds all diagram code run inside it, together.
"""
from __future__ import annotations

import ast
import builtins
import copy
import pickle
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import astuple

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import sandbox_pool, service_operators
from .sandbox_guards import BOUNDED_TABLE, SAFE_BUILTINS, NeedsWorker
from .sandbox_policy import FILENAME, PARSE_LOCK, Limits, ScriptRejected, compile_prepared, compile_source, lookup
from .sandbox_values import value_problem

__all__ = ['Limits', 'ScriptRejected', 'WriteBudget', 'check_source', 'compile_source', 'limits_from_config',
           'make_script_engine', 'stats', 'write_budget']

# Kept for callers of the old single-module sandbox.
_compile = compile_prepared

# App config keys (service/config.py) and the Limits field each sets.
CONFIG_KEYS = {'JIUZHU_SCRIPT_MAX_SECONDS': 'seconds', 'JIUZHU_SCRIPT_MAX_BYTES': 'max_bytes',
               'JIUZHU_SCRIPT_MAX_MEMORY': 'max_memory', 'JIUZHU_SCRIPT_MAX_STEPS': 'max_steps'}

# Builtins a bounded expression must not reach: if it names one (and the case data does not
# shadow it), it runs in the worker, where the name means the same but the cost is bounded.
_WORKER_ONLY_NAMES = frozenset(SAFE_BUILTINS) - frozenset(BOUNDED_TABLE)

_COUNTS = {'here': 0, 'worker': 0}


def check_source(source: str, mode: str) -> None:
    """Raise ScriptRejected if ``source`` is not valid sandboxed code in ``mode``."""
    compile_source(source, mode)


def limits_from_config(config) -> Limits:
    """Limits from an app config mapping; keys that are missing or None keep the defaults."""
    values = {field: config[key] for key, field in CONFIG_KEYS.items() if config.get(key) is not None}
    return Limits(**values)


def stats() -> dict:
    """Evaluations in the service process and in workers, and the workers' figures (tests, bench)."""
    return {**_COUNTS, **sandbox_pool.POOL.stats}


# ---------------------------------------------------------------- the budget of one write

class WriteBudget:
    """Seconds of diagram code one write may spend in total, and what it spent."""

    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ValueError(f'write budget must be positive, not {seconds!r}')
        self.seconds = float(seconds)
        self.spent = 0.0
        self.evaluations = 0

    @property
    def remaining(self) -> float:
        return self.seconds - self.spent


_local = threading.local()


def _budgets() -> list:
    try:
        return _local.budgets
    except AttributeError:
        _local.budgets = []
        return _local.budgets


@contextmanager
def write_budget(seconds: float):
    """All diagram code evaluated in this thread inside the block stops once it has run ``seconds``
    together (each evaluation also keeps its own limit).  Nested budgets all apply."""
    budget = WriteBudget(seconds)
    stack = _budgets()
    stack.append(budget)
    try:
        yield budget
    finally:
        stack.remove(budget)


class _Allowance:
    """The time one evaluation may take (its own limit or what the write budgets have left) and its accounting."""

    def __init__(self, limits: Limits):
        self.budgets = list(_budgets())
        self.limits = limits
        self.seconds = min([limits.seconds] + [b.remaining for b in self.budgets])
        self.binding = min(self.budgets, key=lambda b: b.remaining) if self.seconds < limits.seconds else None

    def timeout_message(self) -> str:
        if self.binding is not None:
            s = self.binding.seconds
            return (f'diagram code of this change ran more than {s:g} s in total '
                    f'(本次操作中流程脚本累计运行超过 {s:g} 秒，已停止)')
        return f'diagram code ran too long (more than {self.seconds:g} s; 脚本运行时间过长，可能是死循环)'

    def __enter__(self):
        if self.seconds <= 0:
            raise ScriptRejected(self.timeout_message(), 1)
        self.start = time.monotonic()
        self.ran_out = False
        return self

    def stopped(self):
        """The evaluation was stopped at its allowance, so it spent all of it: the worker's clock may stop
        it a hair before ours has measured the whole allowance, and the budget must not keep that hair."""
        self.ran_out = True

    def exclude(self, seconds):
        """Time that was not the diagram's (starting a worker process)."""
        self.start += seconds

    def __exit__(self, *exc):
        elapsed = time.monotonic() - self.start
        if self.ran_out:
            elapsed = max(elapsed, self.seconds)
        for budget in self.budgets:
            budget.spent += elapsed
            budget.evaluations += 1
        if self.ran_out and self.binding is not None:
            self.binding.spent = max(self.binding.spent, self.binding.seconds)
        return False


def _rebuild(kind, type_name, args, lineno, name):
    """The worker's exception, as the service's: SpiffWorkflow reads its class, text and line."""
    if kind == 'rejected':
        return ScriptRejected(str(args[0]), lineno)
    cls = getattr(builtins, type_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = type(type_name, (RuntimeError,), {})
    try:
        exc = cls(*args)
    except Exception:
        exc = cls(str(args))
    if name is not None and isinstance(exc, NameError):
        exc.name = name
    exc.sandbox_line = lineno
    return exc


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment that runs diagram code in the sandbox (see the module docstring).

    Context handling is the parent's: evaluation sees a copy of globals + external context +
    task data; execution runs on the task data, and the service's globals, callables and
    ``__builtins__`` are removed afterwards.
    """

    def __init__(self, environment_globals=None, limits: Limits | None = None):
        super().__init__(dict(environment_globals or {}))
        self.limits = limits or Limits()
        # Service functions are called back from the worker; other values (and classes) travel with the request.
        self.functions = {k: v for k, v in self.globals.items() if callable(v) and not isinstance(v, type)}
        self.values = {k: v for k, v in self.globals.items() if k not in self.functions}

    def _bounded(self, compiled, context, external):
        if compiled.bounded is None:
            return False
        names, _calls = compiled.bounded
        return not any(n in _WORKER_ONLY_NAMES and n not in context and n not in external and n not in self.globals
                       for n in names)

    def evaluate(self, expression, context, external_context=None):
        source, compiled = lookup(expression, 'eval')
        external = external_context or {}
        with _Allowance(self.limits) as allowance:
            if self._bounded(compiled, context, external):
                try:
                    return self._evaluate_here(compiled, context, external)
                except NeedsWorker:
                    pass
            return self._in_worker('eval', source, context, external, allowance)

    def _evaluate_here(self, compiled, context, external):
        scope = copy.copy(self.globals)
        self._prepare_context(context)
        scope.update(external)
        scope.update(context)
        # Set last: task data (form input) must not be able to replace the guards.
        scope['__builtins__'] = BOUNDED_TABLE
        result = self._run_here(compiled, scope)
        problem = value_problem(result, self.limits.max_bytes)
        if problem:
            raise ScriptRejected(f'表达式的结果无法使用 (the result cannot be used): {problem}', 1)
        return result

    @staticmethod
    def _run_here(compiled, scope):
        try:
            result = eval(compiled.code, scope)
        except NeedsWorker:
            raise
        except Exception as exc:
            _COUNTS['here'] += 1
            # As from the worker: the line travels with the error.
            exc.sandbox_line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__))
                                     if f.filename == FILENAME), None)
            raise
        _COUNTS['here'] += 1
        return result

    def execute(self, script, context, external_context=None):
        source, compiled = lookup(script, 'exec')
        external = external_context or {}
        self.check_for_overwrite(context, external)
        self._prepare_context(context)
        with _Allowance(self.limits) as allowance:
            if self._bounded(compiled, context, external):
                try:
                    self._execute_here(compiled, context, external)
                    return True
                except NeedsWorker:
                    pass
            result = self._in_worker('exec', source, context, external, allowance)
        context.clear()
        context.update(result)
        return True

    def _execute_here(self, compiled, context, external):
        # A bounded script only assigns names (nothing it reads is changed): run it on a copy and
        # take over what it assigned, so a switch to the worker half-way leaves no trace.
        scope = dict(context)
        scope.update(self.globals)
        scope.update(external)
        scope['__builtins__'] = BOUNDED_TABLE
        self._run_here(compiled, scope)
        updates = {}
        for name, line in compiled.assign_lines.items():
            value = scope[name]
            if name in self.globals or name in external or callable(value):
                context.pop(name, None)   # what TaskDataEnvironment removes after a script
                continue
            problem = value_problem(value, self.limits.max_bytes)
            if problem:
                raise ScriptRejected(f'变量 {name} 无法保存 (variable "{name}" cannot be kept): {problem}', line)
            updates[name] = value
        context.update(updates)

    def _in_worker(self, mode, source, context, external, allowance):
        try:
            request = pickle.dumps(('run', mode, source, dict(context), dict(external), self.values,
                                    sorted(self.functions), astuple(self.limits), allowance.seconds,
                                    allowance.timeout_message()), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise ScriptRejected(f'案件数据无法交给沙箱 (the case data cannot be handed to the sandbox): {exc}', 1) from None
        _COUNTS['worker'] += 1
        try:
            message, startup = sandbox_pool.run(request, self.functions, allowance.seconds, self.limits.max_bytes)
            allowance.exclude(startup)
        except sandbox_pool.WorkerAnswerRefused as exc:
            allowance.exclude(exc.startup)
            raise ScriptRejected('the result holds a value that is not case data (结果中含有无法保存的值)',
                                 exc.lineno or 1) from None
        except sandbox_pool.WorkerDied as exc:
            allowance.exclude(exc.startup)
            raise ScriptRejected('the sandbox process stopped while running diagram code, probably out of memory '
                                 '(脚本进程异常终止，可能占用内存过多)', exc.lineno or 1) from None
        except sandbox_pool.WorkerTimeout as exc:
            allowance.exclude(exc.startup)
            allowance.stopped()
            raise ScriptRejected(allowance.timeout_message(), exc.lineno or 1) from None
        if message[0] == 'ok':
            return message[1]
        raise _rebuild(*message[1:6])


class RestrictedScriptEngine(PythonScriptEngine):

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            # Spiff's own message omits the cause; designers need it.
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}': {type(exc).__name__}: {exc}",
                task=task, exception=exc) from exc

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        # Only registered operators run (validation refuses the others); Spiff's default handler
        # fails with a NameError of its own instead of a task error.
        try:
            return service_operators.call(operation_name, operation_params or {})
        except Exception as exc:
            raise WorkflowTaskException(f'服务任务出错 (service task failed): {type(exc).__name__}: {exc}',
                                        task=task, exception=exc) from exc

    def validate(self, expression):
        # Used by the DMN engine to probe whether a cell needs "==": it expects
        # a SyntaxError for "> 5".  Plain parsing keeps that contract (under the parse lock: see it).
        with PARSE_LOCK:
            ast.parse(expression)

    def get_error_line_number_and_content(self, script, err):
        line_number = err.lineno if isinstance(err, ScriptRejected) else getattr(err, 'sandbox_line', None)
        if isinstance(err, ScriptRejected) or line_number is not None:
            line_number = line_number or 0
            lines = script.splitlines()
            error_line = lines[line_number - 1] if 0 < line_number <= len(lines) else ''
            return line_number, error_line
        return super().get_error_line_number_and_content(script, err)


def make_script_engine(functions: dict, limits: Limits | None = None) -> PythonScriptEngine:
    """A script engine whose diagram code sees ``functions`` as globals and
    nothing else beyond the safe builtins, within ``limits`` (see limits_from_config)."""
    functions = dict(functions or {})
    bad = [k for k in functions if not isinstance(k, str) or k.startswith('_')]
    if bad:
        raise ValueError(f'function names must not start with "_": {bad}')
    return RestrictedScriptEngine(environment=RestrictedEnvironment(functions, limits))
