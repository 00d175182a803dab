"""The case state to and from its JSON text: json's text and objects, in a fraction of json's time.

Reading: msgspec's decoder makes the same objects as json.loads for every text it reads (ints of
any size, floats rounded alike, escapes, the last of repeated keys); what it refuses and json
reads (NaN, Infinity, 1e400 as inf, a lone surrogate escape) is left to json.loads.

Writing: msgspec's encoder writes the same text as `json.dumps(ensure_ascii=False, separators=(',',
':'))` for plain JSON values: strings (every character but lone surrogates, which it refuses),
ints of any size, and floats whose repr has no exponent (1e-4 <= |x| < 1e16, or zero). It writes
other values its own way (a UUID as a bare string, 1e-05 as 0.00001, NaN as null), so it is used
only when every value the state holds is plain (`plain_state`); otherwise, or when it refuses,
json with the registry's encoder writes, as always. tests/test_tree_state.py compares both.
"""
import json

import msgspec

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
_REFUSED = (msgspec.MsgspecError, TypeError, ValueError, OverflowError, RecursionError, UnicodeError)
_SCALARS = frozenset({str, int, bool, type(None)})
_CONTAINERS = frozenset({dict, list, tuple})
_STR_KEYS = {str}
_MAX_LEVELS = 100     # deeper (or containing itself) is json's to refuse; diagram values nest 64 at most


def parse_state(text):
    """json.loads(text), in a third of its time."""
    try:
        return _decode(text)
    except (msgspec.MsgspecError, RecursionError):
        return json.loads(text)


def state_text(dct, json_dumps):
    """json_dumps(dct) (the registry's encoder, ensure_ascii=False, compact), by msgspec where that is the same."""
    try:
        plain = plain_state(dct)
    except (KeyError, TypeError, AttributeError):    # not the dict the converters write: json decides
        plain = False
    if plain:
        try:
            return _encode(dct).decode()
        except _REFUSED:
            pass
    return json_dumps(dct)


def plain_state(dct):
    """Whether everything a stored workflow dict (CaseConverter's, compacted) holds is plain JSON.

    Only its values are looked at: the rest is what the converters write (ids and names as text,
    states as ints, flags, lists of ids). A task's data is its parent's with its delta, so the
    roots' data and the deltas' updates hold every value of every task.
    """
    if dct.get('bpmn_events'):
        return False
    workflows = [dct, *(dct.get('subprocesses') or {}).values()]
    for workflow in workflows:
        if not (_plain(workflow['data']) and _plain(workflow['correlations'])):
            return False
        for task in workflow['tasks'].values():
            when = task['last_state_change']
            if not (type(when) is float and _plain_float(when)):
                return False
            delta = task['delta']
            if ((task['data'] and not _plain(task['data'])) or (delta and not _plain(delta['updates']))
                    or (task['internal_data'] and not _plain(task['internal_data']))):
                return False
    return True


def _plain_float(x):
    return x == 0.0 or 1e-4 <= abs(x) < 1e16      # False for NaN and the infinities too


def _plain(value):
    """Only str, int, bool, None, floats without exponent, and dicts (str keys), lists, tuples of them."""
    if type(value) is not dict:
        return False
    level = [value]
    for _ in range(_MAX_LEVELS):
        if not level:
            return True
        below = []
        for item in level:
            if type(item) is dict:
                if item and set(map(type, item)) != _STR_KEYS:
                    return False
                values = item.values()
            else:
                values = item
            kinds = set(map(type, values))
            if kinds <= _SCALARS:
                continue
            if float in kinds:
                if not all(_plain_float(v) for v in values if type(v) is float):
                    return False
                kinds.discard(float)
            if not kinds <= _SCALARS | _CONTAINERS:
                return False
            below.extend(v for v in values if type(v) in _CONTAINERS)
        level = below
    return False
