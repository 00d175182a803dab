"""What diagram code may be: the compile-time policy, the limits, and what a result may hold.

Shared by the service and by the sandbox worker process (``sandbox_worker.py``), which loads this
file on its own, without the ``service`` package: it imports only the standard library and
RestrictedPython.
"""
from __future__ import annotations

import ast
import copy
import os
import re
import select
import struct
import textwrap
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer

# Spiff reports runtime errors by finding this file name in the traceback.
FILENAME = '<string>'

# Names that must never be reachable, even if a future builtins table adds them:
# they give code execution, I/O or unrestricted namespace access.
FORBIDDEN_NAMES = frozenset({
    'eval', 'exec', 'compile', 'open', 'input', 'globals', 'locals', 'vars',
    'dir', 'breakpoint', 'help', 'exit', 'quit', 'memoryview', 'type',
    'object', 'super', 'classmethod', 'staticmethod', 'property',
})

_ATTR_FUNCS = frozenset({'getattr', 'hasattr', 'setattr', 'delattr'})

# Binary operators whose C implementation can be asked for gigabytes or minutes in one call
# (`'x' * n`, `s + s`, `'%0999999999d' % 1`, `2 ** n`, `1 << n`): routed through `_jz_bin_`.
GUARDED_OPS = {ast.Add: '+', ast.Mult: '*', ast.Mod: '%', ast.Pow: '**', ast.LShift: '<<'}

MAX_INT_BITS = 100_000        # integers built by * ** << and math: legitimate diagram sums never come near


@dataclass(frozen=True)
class Limits:
    """Bounds of one evaluation of diagram code (a script, condition, timer expression or DMN cell).

    seconds:    wall time, including calls to the service's functions;
    max_bytes:  the largest value it may build or hand back (text size as stored in the case);
    max_memory: how much memory the sandbox process may allocate while it runs;
    max_steps:  lines of diagram code executed.
    """
    seconds: float = 2.0
    max_bytes: int = 4 * 1024 * 1024
    max_memory: int = 64 * 1024 * 1024
    max_steps: int = 200_000

    def __post_init__(self):
        for name in ('seconds', 'max_bytes', 'max_memory', 'max_steps'):
            if not getattr(self, name) > 0:
                raise ValueError(f'script limit {name} must be positive, not {getattr(self, name)!r}')


class ScriptRejected(Exception):
    """Diagram code that does not compile, uses a construct the sandbox refuses, or exceeds a limit.

    Deliberately not a SyntaxError: SpiffWorkflow treats SyntaxError specially
    and crashes on RestrictedPython's ``lineno=None``.
    """

    def __init__(self, message: str, lineno: int | None = None):
        super().__init__(message)
        self.message = message
        self.lineno = lineno

    def __str__(self) -> str:
        return self.message if self.lineno is None else f'line {self.lineno}: {self.message}'


# ------------------------------------------------------------------ compile policy

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
        node = super().visit_BinOp(node)
        op = GUARDED_OPS.get(type(node.op)) if isinstance(node, ast.BinOp) else None
        if op is None:
            return node
        call = ast.Call(func=ast.Name(id='_jz_bin_', ctx=ast.Load()),
                        args=[ast.Constant(op), node.left, node.right], keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_FormattedValue(self, node):
        # f'{x:>999999999}' (also with a nested spec f'{x:>{n}}') formats in C: check the spec first.
        node = self.node_contents_visit(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant('')
        call = ast.Call(func=ast.Name(id='_jz_format_', ctx=ast.Load()),
                        args=[node.value, ast.Constant(node.conversion), spec], keywords=[])
        new = ast.FormattedValue(value=call, conversion=-1, format_spec=None)
        return ast.fix_missing_locations(ast.copy_location(new, node))

    def visit_Name(self, node):
        if node.id in FORBIDDEN_NAMES:
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


def prepare(source: str, mode: str) -> str:
    if mode not in ('eval', 'exec'):
        raise ValueError(f'mode must be "eval" or "exec", not {mode!r}')
    if not isinstance(source, str):
        raise ScriptRejected(f'expected text, got {type(source).__name__}')
    # Diagram text keeps the XML's indentation and line breaks.  Built-in
    # eval() strips leading blanks for us; the ast parser does not.
    # Hand-written XML indents script bodies; dedent keeps line numbers.
    return source.strip() if mode == 'eval' else textwrap.dedent(source)


@dataclass(frozen=True)
class Compiled:
    code: object
    # For expressions and scripts whose cost is bounded by their own size (see `_bounded_names`):
    # the names they read and, of those, the ones they call; None for everything else.
    bounded: tuple | None
    # For scripts: the last line assigning each top-level name, to point at a refused value.
    assign_lines: dict


# Python 3.11's conversion of a parsed tree to ast objects keeps its recursion depth per interpreter,
# not per thread: two threads parsing at once (gunicorn's threads, each compiling a script the first
# time) can fail with "AST constructor recursion depth mismatch". Compiles are cached, so one lock costs
# nothing after the first case.
PARSE_LOCK = threading.Lock()


@lru_cache(maxsize=2048)
def compile_prepared(source: str, mode: str) -> Compiled:
    compiler = compile_restricted_eval if mode == 'eval' else compile_restricted_exec
    with PARSE_LOCK:
        result = compiler(source, filename=FILENAME, policy=_Policy)
        tree = ast.parse(source, mode=mode) if not result.errors else None
    if result.errors:
        raise _reject(result.errors)
    bounded = _bounded_names(tree, mode)
    return Compiled(result.code, bounded, _assign_lines(tree) if mode == 'exec' else {})


def compile_source(source: str, mode: str) -> Compiled:
    """Compiled restricted code for ``source``; cached because the same
    conditions are evaluated on every case.  Raises ScriptRejected."""
    return compile_prepared(prepare(source, mode), mode)


@lru_cache(maxsize=2048)
def lookup(source: str, mode: str) -> tuple[str, Compiled]:
    """The text as the worker compiles it, and its compiled form (both cached: every case asks)."""
    prepared = prepare(source, mode)
    return prepared, compile_prepared(prepared, mode)


def _assign_lines(tree) -> dict:
    lines = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            lines[node.id] = max(lines.get(node.id, 0), node.lineno)
    return lines


# ------------------------------------------------------------------ bounded expressions

# An expression (or a script of plain assignments, below) made only of these nodes runs no loop and calls no C routine whose cost grows
# with an argument the expression can inflate: comparisons, boolean logic, subscripts, literals,
# arithmetic (checked to be on plain numbers at run time), and calls to the functions below or to
# the service's own functions.  Its cost is then bounded by its size times the size of the case
# data, so it can run in the service process (see sandbox.py).  Everything else goes to the worker.
_BOUNDED_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Subscript, ast.Compare, ast.BoolOp,
    ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.IfExp, ast.Call, ast.keyword,
    ast.Attribute, ast.BinOp, ast.Dict, ast.List, ast.Tuple, ast.Set,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
)
# Scripts: straight assignments to names (`accepted_at = now()`), no loops, no mutation; and
# `try: ... except NameError: ...` around them, the diagrams' way to give a variable that a case
# may lack a default (a try runs each of its lines at most once).
_BOUNDED_STATEMENTS = (ast.Module, ast.Assign, ast.Expr, ast.Pass, ast.Store, ast.Try, ast.ExceptHandler)
BOUNDED_BUILTINS = frozenset({'len', 'abs', 'round', 'bool', 'float', 'min', 'max', 'NameError'})
BOUNDED_METHODS = frozenset({'get', 'keys', 'values', 'items', 'startswith', 'endswith'})
_MAX_BOUNDED_NODES = 120


def _bounded_names(tree, mode) -> tuple | None:
    names, calls, stored = set(), set(), set()
    allowed = _BOUNDED_NODES + (_BOUNDED_STATEMENTS if mode == 'exec' else ())
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (stored if isinstance(node.ctx, ast.Store) else names).add(node.id)
        count += 1
        if count > _MAX_BOUNDED_NODES or not isinstance(node, allowed):
            return None
        if isinstance(node, ast.Assign) and not all(isinstance(t, ast.Name) for t in node.targets):
            return None
        if isinstance(node, ast.Try) and (node.orelse or node.finalbody):
            return None
        if isinstance(node, ast.ExceptHandler) and (
                node.name or not (isinstance(node.type, ast.Name) and node.type.id == 'NameError')):
            return None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return None
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and any(isinstance(e, ast.Starred) for e in node.elts):
            return None
        if isinstance(node, ast.Dict) and any(k is None for k in node.keys):
            return None
        if isinstance(node, ast.Attribute) and node.attr not in BOUNDED_METHODS:
            return None
        if isinstance(node, ast.Call):
            if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                return None
            if isinstance(node.func, ast.Name):
                calls.add(node.func.id)
            elif not isinstance(node.func, ast.Attribute):
                return None
    if (names - _self_assigned(tree)) & stored:
        # A script that reads what it assigned could grow a value line by line ([x, x], then ...);
        # one that does not builds every value from case data and literals in one step.
        return None
    # A method may only be called, never taken as a value.
    methods = sum(isinstance(n, ast.Attribute) for n in ast.walk(tree))
    called = sum(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) for n in ast.walk(tree))
    return (frozenset(names), frozenset(calls)) if methods == called else None


def _self_assigned(tree) -> set:
    """Names read only by `x = x` (a value kept as it is cannot grow)."""
    plain = {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and len(n.targets) == 1
             and isinstance(n.value, ast.Name) and n.targets[0].id == n.value.id}
    reads = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            reads[n.id] = reads.get(n.id, 0) + 1
    selves = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name) and n.value.id in plain \
                and len(n.targets) == 1 and n.targets[0].id == n.value.id:
            selves[n.value.id] = selves.get(n.value.id, 0) + 1
    return {name for name in plain if reads.get(name) == selves.get(name)}


# ------------------------------------------------------------------ wire format between service and worker

HEADER = struct.Struct('<I')


def send_frame(fd: int, payload: bytes) -> None:
    data = memoryview(HEADER.pack(len(payload)) + payload)
    while data:
        data = data[os.write(fd, data):]


class WireClosed(Exception):
    """The other end of the pipe is gone."""


class WireTimeout(Exception):
    """Nothing arrived before the deadline."""


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    poller = None
    if deadline is not None:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
    while got < n:
        if poller is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise WireTimeout()
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise WireClosed()
        chunks.append(chunk)
        got += len(chunk)
    return b''.join(chunks)


def recv_frame(fd: int, max_size: int, deadline: float | None = None) -> bytes:
    (size,) = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    if size > max_size:
        raise WireClosed(f'frame of {size} bytes exceeds {max_size}')
    return _read_exact(fd, size, deadline)
