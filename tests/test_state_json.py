"""The case state's JSON (engine/state_json.py): json's objects and json's text, by msgspec where it is the same.

Real states are compared in tests/test_tree_state.py (the fast dump against SpiffWorkflow's
converters and json); here the values where the libraries differ, and random plain values.
"""
import json
import math
import random
import struct
from datetime import datetime, timezone
from uuid import UUID

import pytest

from service.engine.state_json import parse_state, plain_state, state_text


def json_dumps(dct):
    """What the serializer's json path writes for plain values (its encoder only adds the registered types)."""
    return json.dumps(dct, ensure_ascii=False, separators=(',', ':'))


@pytest.mark.parametrize('text', [
    '{"a":1,"a":2}', ' [ 1 , 2.50 , -0 , 0e0 , 1E5 , 1e-7 , -0.0 ] ', str(2 ** 70), '-' + '9' * 40, '1e400', '-1e400',
    'NaN', '[Infinity,-Infinity]', '"\\ud83d\\ude00 \\u00e9 \\n\\t\\"\\\\\\/ 测试 \x7f"', '"\\ud800"', '{"":null,"x":[true,false]}',
    '0.1', '2.2250738585072014e-308', '4.9e-324', '1.7976931348623157e308', '123456789.12345678901234567890',
])
def test_the_state_text_is_read_as_json_reads_it(text):
    expected = json.loads(text)
    got = parse_state(text)
    assert repr(got) == repr(expected) or (isinstance(expected, float) and math.isnan(expected) and math.isnan(got))
    assert type(got) is type(expected)


def test_every_float_and_character_reads_as_json_reads_it():
    rng = random.Random(14)
    floats = [struct.unpack('d', rng.getrandbits(64).to_bytes(8, 'little'))[0] for _ in range(20000)]
    text = json.dumps([f for f in floats if f == f and abs(f) != float('inf')])
    assert repr(parse_state(text)) == repr(json.loads(text))
    chars = ''.join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    for text in (json.dumps(chars), json.dumps(chars, ensure_ascii=False)):
        assert parse_state(text) == json.loads(text)



def stored(data, internal=None, when=1795888675.6576967):
    """A stored workflow dict as CaseConverter writes it (one root task holding `data`), compacted."""
    task_id = '90278c4e-1a36-4e96-80be-f0c1d86cb227'
    return {'data': {}, 'correlations': {}, 'last_task': task_id, 'success': True, 'completed': False,
            'tasks': {task_id: {'id': task_id, 'parent': None, 'children': [], 'last_state_change': when,
                                'state': 64, 'task_spec': 'Start', 'triggered': False,
                                'internal_data': internal or {}, 'data': data, 'delta': {}, 'typename': 'Task'}},
            'root': task_id, 'subprocesses': {}, 'bpmn_events': [], 'compacted': [], 'serializer_version': '1.5'}


PLAIN = [{'name': '测试', 'n': 3, 'ok': True, 'none': None, 'x': 1.5, 'l': [1, 'a', [2.25, {'d': -0.0}]], 't': (1, 2)},
         {'big': 2 ** 90, 'tiny': 0.0001, 'near': 9999999999999998.0, 'ctl': '\x00\n"\\\u2028\U0001F600'}]
NOT_PLAIN = [{'u': UUID(int=7)}, {'when': datetime(2026, 1, 1, tzinfo=timezone.utc)}, {'nan': float('nan')},
             {'inf': [float('inf')]}, {'small': 1e-05}, {'huge': 1e16}, {'keys': {1: 'a'}}, {'s': {1, 2}},
             {'deep': [[[[{'x': 1e-7}]]]]}, {'sub': type('S', (str,), {})('x')}]


@pytest.mark.parametrize('data', PLAIN)
def test_plain_values_are_written_by_msgspec_as_json_writes_them(data):
    dct = stored(data)
    assert plain_state(dct) and state_text(dct, json_dumps) == json_dumps(dct)


@pytest.mark.parametrize('data', NOT_PLAIN)
def test_other_values_are_written_by_json(data):
    dct = stored(data)
    assert not plain_state(dct) and not plain_state(stored({}, internal={'v': data}))
    written = []
    assert state_text(dct, lambda d: written.append(d) or 'json') == 'json' and written == [dct]


def test_what_msgspec_refuses_is_written_by_json():
    lone = stored({'surrogate': '\ud800'})           # plain, but msgspec cannot encode it
    assert plain_state(lone) and state_text(lone, json_dumps) == json_dumps(lone)
    looped = []
    looped.append(looped)                      # contains itself: not walked forever, left to json
    assert not plain_state(stored({'l': looped}))
    assert not plain_state(stored({}, when=1e-05)) and not plain_state(stored({}, when=float('nan')))
    events = stored({})
    events['bpmn_events'] = [object()]
    assert not plain_state(events)


def test_random_plain_states_are_written_as_json_writes_them():
    rng = random.Random(14)

    def value(depth):
        kind = rng.randrange(8 if depth < 4 else 5)
        if kind == 0:
            return ''.join(chr(rng.choice((rng.randrange(32, 127), rng.randrange(0x4e00, 0x9fff), rng.randrange(0, 32))))
                           for _ in range(rng.randrange(6)))
        if kind == 1:
            return rng.choice((rng.randrange(-10 ** 6, 10 ** 6), rng.getrandbits(100), True, False, None))
        if kind in (2, 3, 4):
            x = struct.unpack('d', rng.getrandbits(64).to_bytes(8, 'little'))[0]
            return x if rng.random() < 0.5 else rng.uniform(-1e6, 1e6)
        if kind in (5, 6):
            return {f'k{n}': value(depth + 1) for n in range(rng.randrange(4))}
        return [value(depth + 1) for _ in range(rng.randrange(4))]

    plain = 0
    for _ in range(3000):
        dct = stored({'v': value(0)})
        assert state_text(dct, json_dumps) == json_dumps(dct)
        plain += plain_state(dct)
    assert 300 < plain < 2700                 # both paths taken
