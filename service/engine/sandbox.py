"""Restricted script environment for diagram code (conditions, scripts, timers, DMN cells).

SpiffWorkflow's default environment hands diagram text to ``eval``/``exec``
with full builtins, so a diagram could read files or import modules.  Diagram
authors are not service operators, so every piece of diagram code is compiled
with RestrictedPython and run with a small set of builtins and guards.
"""
from __future__ import annotations

import ast
import builtins
import copy
import operator
import re
import sys
import textwrap
import time
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr_raise,
)
from RestrictedPython.Limits import limited_builtins
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

__all__ = ['ScriptRejected', 'check_source', 'make_script_engine']

# Spiff reports runtime errors by finding this file name in the traceback.
_FILENAME = '<string>'

# Names that must never be reachable, even if a future builtins table adds them:
# they give code execution, I/O or unrestricted namespace access.
_FORBIDDEN_NAMES = frozenset({
    'eval', 'exec', 'compile', 'open', 'input', 'globals', 'locals', 'vars',
    'dir', 'breakpoint', 'help', 'exit', 'quit', 'memoryview', 'type',
    'object', 'super', 'classmethod', 'staticmethod', 'property',
})

_ATTR_FUNCS = frozenset({'getattr', 'hasattr', 'setattr', 'delattr'})

# Diagram code is a few lines long. These bound what one evaluation may cost, so a mistaken loop
# in a diagram fails its task with a clear error instead of hanging every request on the case.
MAX_STEPS = 200_000        # lines executed by diagram code in one evaluation
MAX_SECONDS = 2.0
MAX_ITEMS = 1_000_000      # length of a sequence built by `*`
MAX_POWER_BITS = 100_000   # size of an integer built by `**`
_SIZE_GUARDS = {ast.Pow: '_jz_pow_', ast.Mult: '_jz_mul_'}


class ScriptRejected(Exception):
    """Diagram code that does not compile or uses a construct the sandbox refuses.

    Deliberately not a SyntaxError: SpiffWorkflow treats SyntaxError specially
    and crashes on RestrictedPython's ``lineno=None``.
    """

    def __init__(self, message: str, lineno: int | None = None):
        super().__init__(message)
        self.message = message
        self.lineno = lineno

    def __str__(self) -> str:
        return self.message if self.lineno is None else f'line {self.lineno}: {self.message}'


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, tightened for diagram code.

    RestrictedPython lets ``import`` compile and fails only at run time when
    ``__import__`` is missing; diagram validation must refuse it at deploy time.
    """

    def visit_Import(self, node):
        self.error(node, 'import is not allowed (不允许 import)')
        return node

    def visit_ImportFrom(self, node):
        self.error(node, 'import is not allowed (不允许 import)')
        return node

    def visit_ClassDef(self, node):
        # Instances of script-defined classes cannot be serialized with the case.
        self.error(node, 'class definitions are not allowed (不允许定义类)')
        return node

    def visit_Global(self, node):
        self.error(node, '"global" is not allowed')
        return node

    def visit_Nonlocal(self, node):
        self.error(node, '"nonlocal" is not allowed')
        return node

    def visit_AugAssign(self, node):
        # RestrictedPython refuses `d['k'] += 1`, common in diagram scripts.
        # Rewrite it as `d['k'] = d['k'] + 1` so both halves go through the
        # item guards.  (The subscript is evaluated twice; diagram keys have no
        # side effects worth preserving.)
        if isinstance(node.target, ast.Subscript):
            load = copy.deepcopy(node.target)
            load.ctx = ast.Load()
            store = copy.deepcopy(node.target)
            store.ctx = ast.Store()
            value = ast.BinOp(left=load, op=node.op, right=node.value)
            new = ast.Assign(targets=[store], value=value)
            ast.copy_location(value, node)
            ast.copy_location(new, node)
            ast.fix_missing_locations(new)
            return self.visit(new)
        return super().visit_AugAssign(node)

    def visit_BinOp(self, node):
        # `**` and `*` can ask for gigabytes in one C call, which no step budget sees:
        # route them through guards that check the size first.
        node = super().visit_BinOp(node)
        guard = _SIZE_GUARDS.get(type(node.op)) if isinstance(node, ast.BinOp) else None
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(id=guard, ctx=ast.Load()), args=[node.left, node.right], keywords=[])
        ast.copy_location(call.func, node)
        return ast.copy_location(call, node)

    def visit_Name(self, node):
        if node.id in _FORBIDDEN_NAMES:
            self.error(node, f'"{node.id}" is not allowed (不允许使用 {node.id})')
            return node
        return super().visit_Name(node)

    def visit_Call(self, node):
        func = node.func
        if (isinstance(func, ast.Name) and func.id in _ATTR_FUNCS and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
                and node.args[1].value.startswith('_')):
            self.error(node, f'"{func.id}" of the attribute "{node.args[1].value}" is not allowed '
                             f'because it starts with "_" (不允许访问下划线开头的属性)')
            return node
        return super().visit_Call(node)


_LINE_RE = re.compile(r'^Line (\d+): ?')


def _reject(errors) -> ScriptRejected:
    lineno = None
    messages = []
    for error in errors:
        m = _LINE_RE.match(str(error))
        if m and lineno is None:
            lineno = int(m.group(1))
        text = str(error)[m.end():] if m else str(error)
        if text not in messages:
            messages.append(text)
    return ScriptRejected('; '.join(messages), lineno)


def _prepare(source: str, mode: str) -> str:
    if mode not in ('eval', 'exec'):
        raise ValueError(f'mode must be "eval" or "exec", not {mode!r}')
    if not isinstance(source, str):
        raise ScriptRejected(f'expected text, got {type(source).__name__}')
    # Diagram text keeps the XML's indentation and line breaks.  Built-in
    # eval() strips leading blanks for us; the ast parser does not.
    # Hand-written XML indents script bodies; dedent keeps line numbers.
    return source.strip() if mode == 'eval' else textwrap.dedent(source)


@lru_cache(maxsize=2048)
def _compile(source: str, mode: str):
    compiler = compile_restricted_eval if mode == 'eval' else compile_restricted_exec
    result = compiler(source, filename=_FILENAME, policy=_Policy)
    if result.errors:
        raise _reject(result.errors)
    return result.code


def compile_source(source: str, mode: str):
    """Compiled restricted code for ``source``; cached because the same
    conditions are evaluated on every case.  Raises ScriptRejected."""
    return _compile(_prepare(source, mode), mode)


def check_source(source: str, mode: str) -> None:
    """Raise ScriptRejected if ``source`` is not valid sandboxed code in ``mode``."""
    compile_source(source, mode)


# ---------------------------------------------------------------- guards

def _guarded_getattr(obj, name, *default):
    if isinstance(name, str) and name.startswith('_'):
        raise ScriptRejected(f'attribute "{name}" is not allowed because it starts with "_" '
                             f'(不允许访问下划线开头的属性)')
    # Missing attributes raise, as in plain Python; RestrictedPython's default
    # returns None, which would turn typos in conditions into silent False.
    return safer_getattr_raise(obj, name, *default)


def _guarded_hasattr(obj, name):
    try:
        _guarded_getattr(obj, name)
    except ScriptRejected:
        raise
    except Exception:
        return False
    return True


def _getitem(obj, key):
    return obj[key]


def _diagram_line():
    """The line of diagram code being run (the nearest frame compiled from diagram text)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename != _FILENAME:
        frame = frame.f_back
    return frame.f_lineno if frame is not None else None


def _too_big(what):
    return ScriptRejected(f'{what} is too large for diagram code (结果过大)', _diagram_line())


def _guarded_mul(a, b):
    for seq, n in ((a, b), (b, a)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_ITEMS:
            raise _too_big(f'a sequence of {len(seq)} x {n} items')
    return a * b


def _guarded_pow(a, b, mod=None):
    if mod is None and isinstance(a, int) and isinstance(b, int) and b > 0 \
            and abs(a).bit_length() * b > MAX_POWER_BITS:
        raise _too_big(f'{a} ** {b}')
    return pow(a, b) if mod is None else pow(a, b, mod)


class _Budget:
    """Counts the lines diagram code executes (a thread-local trace, only while it runs)."""

    def __init__(self):
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def __enter__(self):
        self.previous = sys.gettrace()
        sys.settrace(self._call)
        return self

    def __exit__(self, *exc):
        sys.settrace(self.previous)
        return False

    def _call(self, frame, event, arg):
        # Only diagram code is counted; the domain functions it calls are ours and bounded.
        return self._line if frame.f_code.co_filename == _FILENAME else None

    def _line(self, frame, event, arg):
        if event == 'line':
            self.steps += 1
            if self.steps > MAX_STEPS or (self.steps % 1024 == 0 and time.monotonic() > self.deadline):
                raise ScriptRejected(f'diagram code ran too long (more than {MAX_STEPS:,} steps or '
                                     f'{MAX_SECONDS:g} s; 脚本运行时间过长，可能是死循环)', frame.f_lineno)
        return self._line


def _getiter(obj):
    return iter(obj)


def _apply(func, *args, **kwargs):
    return func(*args, **kwargs)


_INPLACE_OPS = {
    '+=': operator.iadd, '-=': operator.isub, '*=': _guarded_mul,
    '/=': operator.itruediv, '//=': operator.ifloordiv, '%=': operator.imod,
    '**=': _guarded_pow, '<<=': operator.ilshift, '>>=': operator.irshift,
    '|=': operator.ior, '&=': operator.iand, '^=': operator.ixor,
}


def _inplacevar(op, x, y):
    fn = _INPLACE_OPS.get(op)
    if fn is None:
        raise ScriptRejected(f'augmented assignment {op} is not allowed')
    return fn(x, y)


def _build_builtins() -> dict:
    table = dict(safe_builtins)
    # Classes are refused by the policy anyway; without this the refusal is total.
    table.pop('__build_class__', None)
    table['range'] = limited_builtins['range']  # caps size: a diagram cannot allocate 10**9 ints
    for name in ('len', 'min', 'max', 'sum', 'sorted', 'round', 'abs', 'any', 'all',
                 'enumerate', 'zip', 'dict', 'list', 'set', 'frozenset', 'tuple', 'str',
                 'int', 'float', 'bool', 'isinstance', 'map', 'filter', 'reversed'):
        table[name] = getattr(builtins, name)
    import math
    table['math'] = math
    table['pow'] = _guarded_pow
    table['getattr'] = _guarded_getattr
    table['hasattr'] = _guarded_hasattr
    table.update({
        '_getattr_': _guarded_getattr,
        '_getitem_': _getitem,
        '_getiter_': _getiter,
        '_write_': full_write_guard,
        '_inplacevar_': _inplacevar,
        '_iter_unpack_sequence_': guarded_iter_unpack_sequence,
        '_unpack_sequence_': guarded_unpack_sequence,
        '_apply_': _apply,
        '_print_': PrintCollector,
        '_jz_pow_': _guarded_pow,
        '_jz_mul_': _guarded_mul,
    })
    for name in _FORBIDDEN_NAMES:
        table.pop(name, None)
    return table


SAFE_BUILTINS = _build_builtins()


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment that compiles with RestrictedPython.

    Context handling is the parent's: evaluation sees a copy of globals +
    external context + task data; execution runs in the task data itself and
    the parent's clean-up removes globals, callables and ``__builtins__``.
    """

    def __init__(self, environment_globals=None):
        super().__init__(dict(environment_globals or {}))

    def evaluate(self, expression, context, external_context=None):
        code = compile_source(expression, 'eval')
        my_globals = copy.copy(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(context)
        # Set last: task data (form input) must not be able to replace the guards.
        my_globals['__builtins__'] = SAFE_BUILTINS
        with _Budget():
            return eval(code, my_globals)

    def execute(self, script, context, external_context=None):
        code = compile_source(script, 'exec')
        self.check_for_overwrite(context, external_context or {})
        my_globals = copy.copy(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        context.update(my_globals)
        context['__builtins__'] = SAFE_BUILTINS
        try:
            with _Budget():
                exec(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
            # RestrictedPython's print support leaves its collector behind.
            context.pop('_print', None)
        return True


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

    def validate(self, expression):
        # Used by the DMN engine to probe whether a cell needs "==": it expects
        # a SyntaxError for "> 5".  Plain parsing keeps that contract.
        ast.parse(expression)

    def get_error_line_number_and_content(self, script, err):
        if isinstance(err, ScriptRejected):
            line_number = err.lineno or 0
            lines = script.splitlines()
            error_line = lines[line_number - 1] if 0 < line_number <= len(lines) else ''
            return line_number, error_line
        return super().get_error_line_number_and_content(script, err)


def make_script_engine(functions: dict) -> PythonScriptEngine:
    """A script engine whose diagram code sees ``functions`` as globals and
    nothing else beyond the safe builtins."""
    functions = dict(functions or {})
    bad = [k for k in functions if not isinstance(k, str) or k.startswith('_')]
    if bad:
        raise ValueError(f'function names must not start with "_": {bad}')
    return RestrictedScriptEngine(environment=RestrictedEnvironment(functions))
