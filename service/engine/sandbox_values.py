"""What a value handed back by diagram code may be: storable case data of bounded size.

Shared by the service and the sandbox worker (loaded without the ``service`` package).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

MAX_STORED_INT_BITS = 14_000  # json (and so the case row) refuses integers beyond 4300 digits
MAX_DEPTH = 64                # nesting of a stored value; the serializers recurse

_STORABLE_OBJECTS = (datetime, timedelta, UUID)
_KEY_TYPES = frozenset({str, int, float, bool, type(None)})
_NUMBERS = frozenset({int, float, bool, type(None)})
_CONTAINERS = frozenset({list, tuple, set, frozenset, dict})


class _Unstorable(Exception):
    pass


def _check_int(bits):
    if bits > MAX_STORED_INT_BITS:
        raise _Unstorable('整数过大，无法保存 (integer too large to store)')


def _container_cost(containers):
    return 16 * len(containers) + 2 * sum(map(len, containers))


def _scalar_cost(v):
    t = type(v)
    if t is str:
        return len(v) + 2
    if t is int:
        _check_int(v.bit_length())
        return 8
    if t in _NUMBERS:
        return 8
    if t in _STORABLE_OBJECTS:
        return 40
    raise _Unstorable(f'{t.__name__} 类型的值无法随案件保存 (a value of type {t.__name__} cannot be stored with the case)')


def _members(items, below):
    """Cost of a container's members; the containers among them go to ``below`` (already paid for).

    Lists of numbers, of texts or of containers, the bulk of case data, are measured in C (map,
    sum), so even a value at the limit is checked quickly.
    """
    kinds = set(map(type, items))
    if kinds <= _NUMBERS:
        if int in kinds:
            _check_int(max(x.bit_length() for x in items if type(x) is int))
        return 8 * len(items)
    if kinds == {str}:
        return sum(map(len, items)) + 2 * len(items)
    if kinds <= _CONTAINERS:
        below.extend(items)
        return _container_cost(items)
    cost = 0
    for item in items:
        if type(item) in _CONTAINERS:
            below.append(item)
            cost += 16 + 2 * len(item)
        else:
            cost += _scalar_cost(item)
    return cost


def value_problem(value, max_bytes: int) -> str | None:
    """Why ``value`` cannot be kept as case data, or None.

    Counts the size as the case row would store it, so a list holding one long text a thousand
    times is as large as its JSON; goes level by level and stops as soon as the size is exceeded,
    and every container counts at least 16, so a hostile value costs at most ``max_bytes / 16``
    steps.  Only what the case serializer can store passes.
    """
    t = type(value)
    if (t is str and len(value) < max_bytes - 2) or value is None or t is bool or t is float:
        return None   # the usual answer of a condition or timer, without the walk
    try:
        if t not in _CONTAINERS:
            total = _scalar_cost(value)
            level = []
        else:
            total = _container_cost([value])
            level = [value]
        depth = 0
        while level and total <= max_bytes:
            if depth >= MAX_DEPTH:
                return (f'嵌套超过 {MAX_DEPTH} 层或引用自身 (nested more than {MAX_DEPTH} levels deep, '
                        f'or contains itself)')
            below = []
            for v in level:
                if type(v) is dict:
                    keys = list(v)
                    bad = set(map(type, keys)) - _KEY_TYPES
                    if bad:
                        name = next(iter(bad)).__name__
                        return f'字典的键不能是 {name} (dict key of type {name} cannot be stored)'
                    total += _members(keys, below) + _members(list(v.values()), below)
                else:
                    total += _members(v, below)
                if total > max_bytes:
                    break
            level = below
            depth += 1
    except _Unstorable as exc:
        return str(exc)
    if total > max_bytes:
        return f'值过大（超过 {max_bytes:,} 字节）(value larger than {max_bytes:,} bytes)'
    return None
