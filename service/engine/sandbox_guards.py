"""Run-time guards for diagram code: what it may call, each refusing work that would be too large.

These checks run before the C routine that would allocate gigabytes or compute for minutes in one
uninterruptible call (`'x'.ljust(10**9)`, `math.factorial(2*10**6)`, `1 << 8*10**9`, format widths),
so the refusal is immediate and names the diagram line.  They are a courtesy, not the boundary:
whatever they do not foresee is stopped by the worker's memory limit and the service's kill
(sandbox_worker.py, sandbox_pool.py).

Loaded by the worker without the ``service`` package, like sandbox_policy.
"""
from __future__ import annotations

import builtins
import math
import operator
import re
import sys
from types import SimpleNamespace

from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr_raise,
)
from RestrictedPython.Limits import limited_builtins
from RestrictedPython.PrintCollector import PrintCollector

try:
    from .sandbox_policy import BOUNDED_BUILTINS, FILENAME, FORBIDDEN_NAMES, MAX_INT_BITS, ScriptRejected
except ImportError:   # loaded as a top-level module by the worker
    from sandbox_policy import BOUNDED_BUILTINS, FILENAME, FORBIDDEN_NAMES, MAX_INT_BITS, ScriptRejected


class Settings:
    """The limit the guards apply; the worker sets it for each evaluation (it runs one at a time)."""
    max_bytes = 4 * 1024 * 1024


def diagram_line():
    """The line of diagram code being run (the nearest frame compiled from diagram text)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename != FILENAME:
        frame = frame.f_back
    return frame.f_lineno if frame is not None else None


def too_big(what):
    return ScriptRejected(f'{what} is too large for diagram code (结果过大，超过 {Settings.max_bytes:,} 字节)',
                          diagram_line())


def _units(x):
    """Bytes a sequence takes (text counted per character, lists per reference), or None."""
    if isinstance(x, (str, bytes, bytearray)):
        return len(x)
    if isinstance(x, (list, tuple)):
        return 8 * len(x)
    return None


def _check(size, what):
    if size > Settings.max_bytes:
        raise too_big(what)


def _int(x):
    return isinstance(x, int)


def _check_bits(bits, what):
    if bits > MAX_INT_BITS:
        raise ScriptRejected(f'{what} is too large for diagram code (about {bits:,} bits, at most '
                             f'{MAX_INT_BITS:,}; 整数过大)', diagram_line())


def guarded_pow(a, b, mod=None):
    if _int(a) and _int(b) and b > 0:
        if mod is None:
            _check_bits(abs(a).bit_length() * b, f'{a} ** {b}'[:60])
        elif _int(mod):
            # Square-and-multiply: one multiplication of modulus-sized numbers per exponent bit.
            _check_bits(b.bit_length() * max(abs(mod).bit_length(), 64) // 64, 'pow(a, b, m)')
    return pow(a, b) if mod is None else pow(a, b, mod)


_PERCENT_SPEC = re.compile(r'%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?')


def _check_percent(fmt, args):
    star = False
    for width, precision in _PERCENT_SPEC.findall(fmt if isinstance(fmt, str) else fmt.decode('latin-1')):
        for n in (width, precision):
            if n == '*':
                star = True
            elif n:
                _check(int(n) if len(n) < 12 else 1 << 62, 'a % format width')
    if star:
        for arg in args if isinstance(args, tuple) else (args,):
            if _int(arg):
                _check(abs(arg), 'a % format width')


_PLAIN_NUMBERS = (int, float)


def guarded_bin(op, a, b):
    if op == '+':
        if type(a) in _PLAIN_NUMBERS and type(b) in _PLAIN_NUMBERS:
            return a + b   # the common case (counters, sums), kept cheap
        ua, ub = _units(a), _units(b)
        if ua is not None and ub is not None:
            _check(ua + ub, f'a sequence of {ua + ub:,} bytes')
        return a + b
    if op == '*':
        for seq, n in ((a, b), (b, a)):
            units = _units(seq)
            if units is not None and _int(n):
                _check(units * max(n, 0), f'a sequence of {len(seq):,} x {n:,} items')
        if _int(a) and _int(b):
            _check_bits(abs(a).bit_length() + abs(b).bit_length(), 'the product')
        return a * b
    if op == '**':
        return guarded_pow(a, b)
    if op == '<<':
        if _int(a) and _int(b) and a:
            _check_bits(abs(a).bit_length() + b, f'{a} << {b}'[:60])
        return a << b
    if op == '%':
        if isinstance(a, (str, bytes)):
            _check_percent(a, b)
        return a % b
    raise ScriptRejected(f'operator {op} is not guarded')


_SPEC_NUMBER = re.compile(r'\d+')


def _check_spec(spec):
    if isinstance(spec, str):
        for n in _SPEC_NUMBER.findall(spec):
            _check(int(n) if len(n) < 12 else 1 << 62, f'the format width or precision {n[:20]}')


_CONVERSIONS = {-1: None, 115: str, 114: repr, 97: ascii}


def guarded_format(value, conversion, spec):
    """An f-string field: conversion, then format spec, checked before C formats it."""
    convert = _CONVERSIONS.get(conversion)
    if convert is not None:
        value = convert(value)
    _check_spec(spec)
    return format(value, spec)


def guarded_round(number, ndigits=None):
    if ndigits is not None and _int(ndigits) and abs(ndigits) > 1000:
        # round(5, -10**9) computes 10 ** 10**9 first.
        raise ScriptRejected(f'round() to {ndigits} digits is not allowed (位数过大)', diagram_line())
    return round(number) if ndigits is None else round(number, ndigits)


def guarded_sum(iterable, start=0):
    if isinstance(start, (list, tuple)):
        # sum(lists, []) copies the growing list once per item: quadratic in C.
        out = list(start)
        for item in iterable:
            if not isinstance(item, type(start)):
                raise TypeError(f'can only concatenate {type(start).__name__} (not "{type(item).__name__}")')
            _check(8 * (len(out) + len(item)), 'the sum')
            out.extend(item)
        return out if isinstance(start, list) else tuple(out)
    return sum(iterable, start)


# ------------------------------------------------------------------ methods of built-in types

def _padding(obj, name):
    method = getattr(obj, name)

    def padded(width, *rest):
        if _int(width):
            _check(width, f'{name}({width})')
        return method(width, *rest)
    return padded


def _expandtabs(obj):
    def expandtabs(tabsize=8):
        if _int(tabsize):
            _check(len(obj) + obj.count('\t' if isinstance(obj, str) else b'\t') * max(tabsize, 0), 'expandtabs()')
        return obj.expandtabs(tabsize)
    return expandtabs


def _replace(obj):
    def replace(old, new, count=-1):
        if hasattr(new, '__len__') and hasattr(old, '__len__') and len(new) > len(old):
            n = len(obj) + 1 if not old else obj.count(old)
            if _int(count) and count >= 0:
                n = min(n, count)
            _check(len(obj) + n * (len(new) - len(old)), 'replace()')
        return obj.replace(old, new, count)
    return replace


def _join(obj):
    def join(iterable):
        items = list(iterable)
        _check(sum(len(i) for i in items if hasattr(i, '__len__')) + len(obj) * max(len(items) - 1, 0), 'join()')
        return obj.join(items)
    return join


def _extend(obj):
    def extend(iterable):
        if hasattr(iterable, '__len__'):
            _check(8 * (len(obj) + len(iterable)), 'extend()')
        return obj.extend(iterable)
    return extend


def _to_bytes(obj):
    def to_bytes(length=1, *rest, **kw):
        if _int(length):
            _check(length, f'to_bytes({length})')
        return obj.to_bytes(length, *rest, **kw)
    return to_bytes


_TEXT_METHODS = {name: (lambda o, n=name: _padding(o, n)) for name in ('ljust', 'rjust', 'center', 'zfill')}
_TEXT_METHODS.update(expandtabs=_expandtabs, replace=_replace, join=_join)
_METHODS = {str: _TEXT_METHODS, bytes: _TEXT_METHODS, bytearray: _TEXT_METHODS,
            list: {'extend': _extend}, int: {'to_bytes': _to_bytes}, bool: {'to_bytes': _to_bytes}}


def guarded_getattr(obj, name, *default):
    if isinstance(name, str) and name.startswith('_'):
        raise ScriptRejected(f'attribute "{name}" is not allowed because it starts with "_" '
                             f'(不允许访问下划线开头的属性)')
    # Missing attributes raise, as in plain Python; RestrictedPython's default
    # returns None, which would turn typos in conditions into silent False.
    value = safer_getattr_raise(obj, name, *default)
    wrap = _METHODS.get(type(obj), {}).get(name)
    return wrap(obj) if wrap is not None and callable(value) else value


def guarded_hasattr(obj, name):
    try:
        guarded_getattr(obj, name)
    except ScriptRejected:
        raise
    except Exception:
        return False
    return True


# ------------------------------------------------------------------ math

def _factorial(n):
    if _int(n) and n > 20:
        _check_bits(int(n * math.log2(n)), f'factorial({n})')
    return math.factorial(n)


def _comb_bits(n, k):
    if _int(n) and _int(k) and 0 <= k <= n and n > 1:
        return int(min(k, n - k) * math.log2(n))
    return 0


def _comb(n, k):
    _check_bits(_comb_bits(n, k), f'comb({n}, {k})')
    return math.comb(n, k)


def _perm(n, k=None):
    if _int(n) and n > 1 and (k is None or _int(k)):
        kk = n if k is None else min(max(k, 0), n)
        _check_bits(int(kk * math.log2(n)), f'perm({n}, {k})')
    return math.perm(n, k)


def _prod(iterable, *, start=1):
    result = start
    for item in iterable:
        result = guarded_bin('*', result, item)
    return result


def _lcm(*ints):
    if all(_int(i) for i in ints):
        _check_bits(sum(abs(i).bit_length() for i in ints), 'lcm()')
    return math.lcm(*ints)


def _fsum(iterable):
    return math.fsum(iterable)


_MATH_OVERRIDES = {'factorial': _factorial, 'comb': _comb, 'perm': _perm, 'prod': _prod, 'lcm': _lcm}
MATH = SimpleNamespace(**{name: _MATH_OVERRIDES.get(name, getattr(math, name))
                          for name in dir(math) if not name.startswith('_')})


# ------------------------------------------------------------------ the tables

def getitem(obj, key):
    return obj[key]


def _getiter(obj):
    return iter(obj)


def _apply(func, *args, **kwargs):
    return func(*args, **kwargs)


_INPLACE_OPS = {
    '+=': lambda x, y: guarded_bin('+', x, y), '-=': operator.isub, '*=': lambda x, y: guarded_bin('*', x, y),
    '/=': operator.itruediv, '//=': operator.ifloordiv, '%=': lambda x, y: guarded_bin('%', x, y),
    '**=': guarded_pow, '<<=': lambda x, y: guarded_bin('<<', x, y), '>>=': operator.irshift,
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
    for name in ('len', 'min', 'max', 'sorted', 'abs', 'any', 'all',
                 'enumerate', 'zip', 'dict', 'list', 'set', 'frozenset', 'tuple', 'str',
                 'int', 'float', 'bool', 'isinstance', 'map', 'filter', 'reversed'):
        table[name] = getattr(builtins, name)
    table.update({
        'math': MATH,
        'pow': guarded_pow,
        'round': guarded_round,
        'sum': guarded_sum,
        'getattr': guarded_getattr,
        'hasattr': guarded_hasattr,
        '_getattr_': guarded_getattr,
        '_getitem_': getitem,
        '_getiter_': _getiter,
        '_write_': full_write_guard,
        '_inplacevar_': _inplacevar,
        '_iter_unpack_sequence_': guarded_iter_unpack_sequence,
        '_unpack_sequence_': guarded_unpack_sequence,
        '_apply_': _apply,
        '_print_': PrintCollector,
        '_jz_bin_': guarded_bin,
        '_jz_format_': guarded_format,
    })
    for name in FORBIDDEN_NAMES:
        table.pop(name, None)
    return table


SAFE_BUILTINS = _build_builtins()


# ------------------------------------------------------------------ bounded expressions, in the service

class NeedsWorker(Exception):
    """A bounded expression met an operand that is not a plain number: evaluate it in the worker."""


_NUMBERS = (int, float, bool)


def _bounded_bin(op, a, b):
    if type(a) in _NUMBERS and type(b) in _NUMBERS:
        return guarded_bin(op, a, b)
    raise NeedsWorker(op)


# Everything a bounded expression (sandbox_policy._bounded_names) can reach besides the case data
# and the service's functions.
BOUNDED_TABLE = {name: SAFE_BUILTINS[name] for name in BOUNDED_BUILTINS}
BOUNDED_TABLE.update({'None': None, 'True': True, 'False': False, '_getattr_': guarded_getattr,
                      '_getitem_': getitem, '_jz_bin_': _bounded_bin})
