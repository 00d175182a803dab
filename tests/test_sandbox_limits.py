"""Execution bounds of diagram code against hostile diagrams.

Each hostile expression below was found from outside to freeze the service or allocate gigabytes
(or is a relative of one).  Through the real script engine and through real diagrams it must be
refused fast, naming its line, while memory stays bounded: the service process is measured with
tracemalloc, the sandbox workers by their peak RSS.  Bounds are generous (200 MB) so they cannot
flake; no test asserts a duration (the budget's own counters stand in for time).
"""
import os
import pickle
import threading
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from service import calendar
from service import config as app_config
from service.clock import ManualClock
from service.engine import sandbox, sandbox_pool
from service.engine.core import Engine
from service.engine.parser import load_lanes, parse_files, parse_paths
from service.engine.sandbox import Limits, ScriptRejected, make_script_engine, write_budget

from .test_sandbox import run

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
FAST = Limits(seconds=1.0)
ENGINE = make_script_engine({'now': lambda: '2026-03-02T08:00:00+08:00'}, limits=FAST)
ENV = ENGINE.environment
# For loops a write budget must stop: a step limit that time always reaches first (a quiet machine runs
# 200,000 steps of `x += 1` in less than the budget's 0.3 s, and the step limit spoke instead).
TIMED_ONLY = make_script_engine({}, Limits(seconds=5, max_steps=10**12)).environment


def refusal(mode, source, context=None, env=ENV):
    """Evaluate hostile code; the exception and the service process's peak allocation while it ran."""
    tracemalloc.start()
    try:
        if mode == 'eval':
            env.evaluate(source, dict(context or {}))
        else:
            env.execute(source, dict(context or {}))
    except Exception as exc:   # noqa: BLE001 - the test inspects it
        caught = exc
    else:
        caught = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert caught is not None, f'{source!r} was not refused'
    assert peak < 200 * MB
    assert sandbox.stats()['peak_rss_kb'] < 200 * 1024 + 64 * 1024   # a worker: ~15 MB + its 64 MB allowance
    return caught


def line_of(exc):
    return exc.lineno if isinstance(exc, ScriptRejected) else getattr(exc, 'sandbox_line', None)


# Refused by a guard before the C call, by the worker's memory limit, or by the kill after the deadline.
HOSTILE_EXPRESSIONS = [
    ("'x'.ljust(10**9)", 'too large'),
    ("'x'.ljust(3*10**8)", 'too large'),
    ("'x'.rjust(10**9)", 'too large'),
    ("'x'.center(10**9)", 'too large'),
    ("'x'.zfill(10**9)", 'too large'),
    ("'\\t'.expandtabs(10**9)", 'too large'),
    ("b'x'.ljust(10**9)", 'too large'),
    ("math.factorial(2*10**6)", 'too large'),
    ("math.comb(10**7, 5*10**6)", 'too large'),
    ("math.perm(10**7)", 'too large'),
    ("math.prod([10**5000] * 50)", 'too large'),
    ("math.lcm(*[2**50000 + 1, 2**50000 + 3])", 'lcm() is too large'),
    ("1 << 8*10**9", 'too large'),
    ("2 ** 10**9", 'too large'),
    ("pow(3, 10**100, 10**20000)", 'pow(a, b, m) is too large'),
    ("round(5, -10**9)", 'round()'),
    ("'%0999999999d' % 1", 'too large'),
    ("b'%0999999999d' % 1", 'too large'),
    ("'%.999999999f' % 1.0", 'too large'),
    ("'%*d' % (999999999, 1)", 'too large'),
    ("f'{1:>999999999}'", 'too large'),
    ("f'{1:>{10**9}}'", 'too large'),
    ("f'{1:{\">\"}{999999999}}'", 'too large'),
    ("f'{\"x\"!r:>999999999}'", 'too large'),
    ("'x' * 10**9", 'too large'),
    ("[0] * 10**6", 'too large'),
    ("[[0] * 3000] * 1000", 'value larger'),
    ("[['x' * 1000000] * 1000]", 'value larger'),
    ("'-'.join(['x' * 1000] * 10000)", 'too large'),
    ("('x' * 4000000).replace('x', 'yy')", 'too large'),
    ("('ab' * 10).replace('', 'x' * 1000000)", 'too large'),
    ("(1).to_bytes(10**9, 'big')", 'too large'),
    ("sum([[1] * 1000] * 1000, [])", 'too large'),
    ("list('x' * 4000000)", 'value larger'),
    # No guard foresees these: the worker's memory limit stops them (or the deadline, on a slow machine).
    ("repr([['x' * 1000000] * 1000])", 'memory|ran too long'),
    ("('x' * 4000000).translate({120: 'y' * 1000})", 'memory|ran too long'),
    ("divmod(int.from_bytes(b'\\xff' * 1000000, 'big'), int.from_bytes(b'\\x7f' * 500000, 'big'))", 'ran too long'),
    ("sum(1 for i in range(999) for j in range(999))", 'ran too long'),
    ("len([(i, j) for i in range(999) for j in range(999)])", 'ran too long'),
]


@pytest.mark.parametrize('source,words', HOSTILE_EXPRESSIONS, ids=[s for s, _ in HOSTILE_EXPRESSIONS])
def test_hostile_expression_is_refused_with_its_line(source, words):
    exc = refusal('eval', source)
    assert isinstance(exc, ScriptRejected), repr(exc)
    assert exc.lineno == 1
    assert any(w in exc.message for w in words.split('|')), exc.message


# Not reachable at all: refused at once, by RestrictedPython or for want of the name.
@pytest.mark.parametrize('source,error', [
    ("'{:>999999999}'.format(1)", NotImplementedError),
    ("'{x:>999999999}'.format_map({'x': 1})", NotImplementedError),
    ("format(1, '>999999999')", NameError),
    ("int('9' * 100000)", ValueError),
    ("sorted(range(10**9))", ValueError),
    ("set(range(10**9))", ValueError),
])
def test_unreachable_expensive_calls_fail_at_once(source, error):
    exc = refusal('eval', source)
    assert isinstance(exc, error) and line_of(exc) == 1


HOSTILE_SCRIPTS = [
    ("s = 'x'\nfor i in range(40):\n    s = s + s", 3, 'too large'),
    ("b = b'x'\nfor i in range(40):\n    b = b + b", 3, 'too large'),
    ("l = [1]\nfor i in range(40):\n    l += l", 3, 'too large'),
    ("l = [1]\nfor i in range(40):\n    l.extend(l)", 3, 'too large'),
    ("l = [1]\nfor i in range(40):\n    l = l * 2", 3, 'too large'),
    ("a = ['x' * 1000000]\nfor i in range(12):\n    a = a + a\nn = 1", 3, 'variable "a" cannot be kept'),
    ("t = (1,)\nfor i in range(80):\n    t = (t, t)\nh = hash(t)", 4, 'ran too long'),
    ("t = (1,)\nu = (1,)\nfor i in range(80):\n    t = (t, t)\n    u = (u, u)\nsame = t == u", 6, 'ran too long'),
    ("x = 1\nl = []\nl.append(l)\ny = 2", 2, 'contains itself'),
    ("x = 0\nwhile True:\n    x += 1", {2, 3}, 'ran too long'),
    ("def g():\n    while True:\n        yield 1\ntotal = sum(g())", {2, 3}, 'ran too long'),
    ("r = range(3)", 1, 'type range cannot be stored'),
    ("m = math", 1, 'type SimpleNamespace cannot be stored'),
]


@pytest.mark.parametrize('script,line,words', HOSTILE_SCRIPTS, ids=[s.splitlines()[-1] for s, _, _ in HOSTILE_SCRIPTS])
def test_hostile_script_is_refused_with_its_line(script, line, words):
    exc = refusal('exec', script)
    assert isinstance(exc, ScriptRejected), repr(exc)
    assert exc.lineno in (line if isinstance(line, set) else {line})
    assert words in exc.message


def test_a_killed_worker_is_replaced_and_the_next_evaluation_works():
    before = sandbox.stats()['killed']
    refusal('exec', "t = (1,)\nfor i in range(80):\n    t = (t, t)\nh = hash(t)")
    assert sandbox.stats()['killed'] == before + 1
    context = {'a': 2}
    ENV.execute('b = a * 21\nc = sorted([3, 1, 2])', context)
    assert context == {'a': 2, 'b': 42, 'c': [1, 2, 3]}


def test_recursion_is_an_ordinary_error_with_its_line():
    exc = refusal('exec', 'def f(n):\n    return f(n + 1)\nx = f(0)')
    assert type(exc) is RecursionError and exc.sandbox_line == 2


# ---------------------------------------------------------------- through real diagrams

FAST_ENGINE_RUN = make_script_engine({'now': lambda: '2026-03-02T08:00:00+08:00'}, limits=FAST)


@pytest.mark.parametrize('script,line', [
    ("x = 1\ny = 'x'.ljust(10**9)", 2),
    ("a = 1\nb = math.factorial(2*10**6)", 2),
    ("s = 'x'\nfor i in range(40):\n    s = s + s", 3),
    ("t = (1,)\nfor i in range(80):\n    t = (t, t)\nh = hash(t)", 4),
])
def test_hostile_script_task_fails_its_task_with_the_line(script, line):
    with pytest.raises(WorkflowTaskException) as info:
        run(script, engine=FAST_ENGINE_RUN)
    err = info.value
    assert err.error_type == 'ScriptRejected' and err.task.task_spec.bpmn_id == 'script'
    assert err.line_number == line and err.error_line == script.splitlines()[line - 1]


@pytest.mark.parametrize('condition', ["len('x'.ljust(10**9)) > 0", "math.factorial(2*10**6) > 0",
                                       "len(f'{1:>999999999}') > 0", "hash(((1,),) * 3) and 1 << 8*10**9"])
def test_hostile_gateway_condition_fails_with_the_line(condition):
    with pytest.raises(WorkflowTaskException) as info:
        run(condition=condition, engine=FAST_ENGINE_RUN)
    assert info.value.error_type == 'ScriptRejected'
    assert 'line 1:' in str(info.value) and 'Error evaluating expression' in str(info.value)


TIMER = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="timer_p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition id="td"><bpmn:timeDate>{}</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>'''


def _real_engine(limits=FAST):
    engine = Engine(ManualClock('2026-09-28T09:00:00+08:00'))
    engine.script_engine = make_script_engine(engine.functions(), limits=limits)
    return engine


@pytest.mark.parametrize('expression', ["'2026-10-01T00:00:00+08:00'.ljust(10**9)",
                                        "add_working_days(now(), math.factorial(2*10**6))",
                                        "add_days(now(), 1) + '%0999999999d' % 1"])
def test_hostile_timer_expression_fails_when_reached(expression):
    parsed = parse_files({'timer.bpmn': TIMER.format(escape(expression)).encode()}, {}, None)['timer_p']
    engine = _real_engine()
    wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=engine.script_engine)
    with pytest.raises(WorkflowTaskException) as info:
        engine.advance(wf)
    assert info.value.error_type == 'ScriptRejected' and 'line 1:' in str(info.value)


def test_timer_expression_calling_service_functions_from_the_worker():
    # Not a bounded expression (it slices), so it runs in the worker and calls back for the calendar.
    expression = "add_working_days(now()[:25], 3)"
    parsed = parse_files({'timer.bpmn': TIMER.format(escape(expression)).encode()}, {}, None)['timer_p']
    engine = _real_engine()
    wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=engine.script_engine)
    worker_before = sandbox.stats()['worker']
    engine.advance(wf)
    assert sandbox.stats()['worker'] == worker_before + 1
    wait = wf.get_tasks(spec_name='wait')[0]
    assert wait.state == TaskState.WAITING
    expected = calendar.add_working_days('2026-09-28T09:00:00+08:00', 3)
    assert datetime.fromisoformat(wait.internal_data['event_value']) == datetime.fromisoformat(expected)


# ---------------------------------------------------------------- the budget of one write

LOOP = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="loop_p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:scriptTask id="burn"><bpmn:script>n = 0
while n &lt; 20000:
    n += 1
count = count + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="again" default="f_back" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="burn" />
    <bpmn:sequenceFlow id="f2" sourceRef="burn" targetRef="again" />
    <bpmn:sequenceFlow id="f_back" sourceRef="again" targetRef="burn" />
    <bpmn:sequenceFlow id="f_done" sourceRef="again" targetRef="end">
      <bpmn:conditionExpression>count &gt;= 1000</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>'''


def test_write_budget_stops_a_loop_of_script_tasks():
    """1000 script tasks that each stay within their own limit stop together at the write's budget."""
    parsed = parse_files({'loop.bpmn': LOOP.encode()}, {}, None)['loop_p']
    engine = _real_engine(Limits(seconds=10))
    wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=engine.script_engine)
    wf.get_tasks(spec_name='start')[0].data['count'] = 0
    with write_budget(1.0) as budget, pytest.raises(WorkflowTaskException) as info:
        engine.advance(wf)
    assert info.value.error_type == 'ScriptRejected'
    assert 'in total' in str(info.value) and '累计' in str(info.value)
    assert info.value.line_number >= 1
    # It stopped long before the 1000th task; the budget counts what ran (the last one is cut off).
    assert 0 < budget.evaluations < 1000
    assert budget.spent < budget.seconds + sandbox_pool.GRACE + 5


def test_budget_is_per_thread_nested_and_exhausted_budget_refuses_at_once():
    context = {}
    with write_budget(30) as outer:
        with write_budget(0.3) as inner:
            exc = refusal('exec', 'x = 0\nwhile True:\n    x += 1', env=TIMED_ONLY)
            assert 'in total' in exc.message and exc.lineno in (2, 3)
            with pytest.raises(ScriptRejected, match='in total') as info:
                ENV.evaluate('1 == 1', context)
            assert info.value.lineno == 1
        assert inner.evaluations == 1 and outer.evaluations == 1
        assert ENV.evaluate('1 == 1', context) is True
        assert outer.evaluations == 2 and inner.evaluations == 1


def test_budget_belongs_to_its_thread():
    results = []
    with write_budget(0.3) as budget:
        refusal('exec', 'x = 0\nwhile True:\n    x += 1', env=TIMED_ONLY)
        other = threading.Thread(target=lambda: results.append(ENV.evaluate('sorted([2, 1])', {})))
        other.start()
        other.join()
        with pytest.raises(ScriptRejected, match='in total'):
            ENV.evaluate('sorted([2, 1])', {})
    assert results == [[1, 2]] and budget.evaluations == 1


def test_write_budget_must_be_positive():
    with pytest.raises(ValueError):
        with write_budget(0):
            pass


# ---------------------------------------------------------------- legitimate code

def _shipped_code():
    from lxml import etree
    ns = {'bpmn': 'http://www.omg.org/spec/BPMN/20100524/MODEL',
          'dmn': 'https://www.omg.org/spec/DMN/20191111/MODEL/'}
    for path in sorted((ROOT / 'processes').rglob('*.bpmn')):
        root = etree.parse(str(path)).getroot()
        for el in root.xpath('//bpmn:conditionExpression | //bpmn:timeDate | //bpmn:timeDuration | '
                             '//bpmn:timeCycle', namespaces=ns):
            yield path.name, el.text.strip()
    for path in sorted((ROOT / 'processes').rglob('*.dmn')):
        root = etree.parse(str(path)).getroot()
        for el in root.xpath('//dmn:inputExpression/dmn:text | //dmn:outputEntry/dmn:text', namespaces=ns):
            yield path.name, el.text.strip()
        for el in root.xpath('//dmn:inputEntry/dmn:text', namespaces=ns):
            text = el.text.strip()
            if text and text != '-':   # as SpiffWorkflow's DMN engine completes a cell (DMNEngine.needs_eq)
                yield path.name, f'dmninputexpr {text}' if not _parses(text) else f'dmninputexpr == {text}'


def _parses(text):
    import ast
    try:
        ast.parse(text)
    except SyntaxError:   # "> 5", "in (1, 2, 3)": an operator waiting for the input on its left
        return False
    return True


def test_every_shipped_expression_runs_in_the_service_process():
    """Conditions, timers and DMN cells of processes/ are bounded: no worker round trip on the write path."""
    engine = Engine(ManualClock('2026-09-28T09:00:00+08:00'))
    env = engine.script_engine.environment
    found = list(_shipped_code())
    assert len(found) > 20
    for name, text in found:
        compiled = sandbox.compile_source(text, 'eval')
        assert env._bounded(compiled, {}, {}), f'{name}: {text}'


def test_every_shipped_script_runs_in_the_service_process():
    from lxml import etree
    ns = {'bpmn': 'http://www.omg.org/spec/BPMN/20100524/MODEL'}
    env = Engine(ManualClock('2026-09-28T09:00:00+08:00')).script_engine.environment
    scripts = [el.text for path in sorted((ROOT / 'processes').rglob('*.bpmn'))
               for el in etree.parse(str(path)).getroot().xpath('//bpmn:script', namespaces=ns)]
    assert len(scripts) > 5
    for text in scripts:
        assert env._bounded(sandbox.compile_source(text, 'exec'), {}, {}), text


def test_bounded_script_moves_to_the_worker_without_a_trace():
    here, worker = sandbox.stats()['here'], sandbox.stats()['worker']
    context = {'name': '王', 'n': 2}
    ENV.execute("doubled = n * 2\ngreeting = name + '秀兰'\nat = now()", context)
    assert context == {'name': '王', 'n': 2, 'doubled': 4, 'greeting': '王秀兰', 'at': '2026-03-02T08:00:00+08:00'}
    assert sandbox.stats()['worker'] == worker + 1 and sandbox.stats()['here'] == here
    ENV.execute("doubled = n * 3\nat = now()\nf = now", context)
    assert context['doubled'] == 6 and 'f' not in context and sandbox.stats()['here'] == here + 1


def test_default_for_a_missing_variable_runs_in_the_service_process():
    """`try: x = x except NameError: x = None` (how the delegated flows read the entrustment phase)."""
    script = "try:\n    phase = phase\nexcept NameError:\n    phase = None"
    here = sandbox.stats()['here']
    context = {}
    ENV.execute(script, context)
    assert context == {'phase': None} and sandbox.stats()['here'] == here + 1
    context = {'phase': 'transition'}
    ENV.execute(script, context)
    assert context == {'phase': 'transition'} and sandbox.stats()['here'] == here + 2


@pytest.mark.parametrize('script', [
    "try:\n    x = [x, x]\nexcept NameError:\n    x = 1",      # reads what it grows
    "try:\n    x = y\nexcept Exception:\n    x = 1",          # catches more than a missing name
    "try:\n    x = y\nexcept NameError as e:\n    x = e",      # keeps the exception
    "try:\n    x = y\nexcept NameError:\n    x = 1\nfinally:\n    z = 2",
])
def test_other_try_statements_go_to_the_worker(script):
    assert not ENV._bounded(sandbox.compile_source(script, 'exec'), {}, {})


def test_bounded_script_keeps_no_value_too_large_to_store():
    context = {'d': 'x' * 1_000_000}
    exc = refusal('exec', "y = 1\nx = [d, d, d, d, d]", context)
    assert isinstance(exc, ScriptRejected) and exc.lineno == 2 and 'variable "x" cannot be kept' in exc.message


def test_shipped_processes_all_deploy():
    parsed = parse_paths([ROOT / 'processes'], ROOT / 'processes', load_lanes(ROOT / 'processes' / 'lanes.json'),
                         ROOT / 'forms')
    assert len(parsed) >= 5


def test_bounded_expression_with_text_operands_goes_to_the_worker():
    here, worker = sandbox.stats()['here'], sandbox.stats()['worker']
    assert ENV.evaluate("a + 'b' == 'ab'", {'a': 'a'}) is True
    assert ENV.evaluate("a * 2 == 4", {'a': 2}) is True
    stats = sandbox.stats()
    assert stats['here'] == here + 1 and stats['worker'] == worker + 1


def test_data_round_trips_through_the_worker():
    moment = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    context = {'at': moment, 'applicant': {'name': '王秀兰', 'members': [{'income': 300}, {'income': 500}]}}
    ENV.execute("total = sum(m['income'] for m in applicant['members'])\nlater = at\nwhen = now()", context)
    assert context['total'] == 800 and context['later'] == moment and context['when'].startswith('2026-03-02')
    assert 'now' not in context and '__builtins__' not in context


def test_service_function_errors_reach_the_diagram_code():
    engine = _real_engine()
    env = engine.script_engine.environment
    context = {}
    env.execute("try:\n    x = add_working_days(now(), 10**9)\nexcept ValueError as e:\n    x = 'refused'", context)
    assert context['x'] == 'refused'


def test_worker_answers_are_read_as_case_data_only():
    for value in ({'a': [1, 2.5, None, True]}, datetime(2026, 1, 1, tzinfo=timezone.utc), {1, 2}):
        assert sandbox_pool.loads(pickle.dumps(value, protocol=5)) == value
    with pytest.raises(pickle.UnpicklingError):
        sandbox_pool.loads(pickle.dumps(os.system))


def test_limits_come_from_config():
    env = {'JIUZHU_SCRIPT_MAX_SECONDS': '0.75', 'JIUZHU_SCRIPT_MAX_BYTES': '1048576',
           'JIUZHU_SCRIPT_MAX_MEMORY': '33554432', 'JIUZHU_SCRIPT_MAX_STEPS': '5000',
           'JIUZHU_SCRIPT_WRITE_SECONDS': '4'}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        config = app_config.from_environment('.')
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert sandbox.limits_from_config(config) == Limits(seconds=0.75, max_bytes=1048576, max_memory=33554432,
                                                        max_steps=5000)
    assert config['JIUZHU_SCRIPT_WRITE_SECONDS'] == 4.0
    assert sandbox.limits_from_config({}) == Limits()
    with pytest.raises(ValueError):
        Limits(seconds=0)


def test_small_memory_limit_is_applied():
    env = make_script_engine({}, Limits(max_bytes=200_000, max_memory=32 * MB)).environment
    exc = refusal('eval', "'x' * 300_000", env=env)
    assert 'too large' in exc.message
    exc = refusal('eval', "len(('x' * 1000).translate({120: 'y' * 100_000}))", env=env)
    assert 'memory' in exc.message or 'ran too long' in exc.message


def test_case_data_that_cannot_reach_the_worker_is_refused_clearly():
    with pytest.raises(ScriptRejected, match='cannot be handed to the sandbox') as info:
        ENV.execute('x = sorted([1])', {'lock': threading.Lock()})
    assert info.value.lineno == 1


def test_code_stopped_by_the_budget_leaves_none_of_it():
    """The worker's clock stops a loop at the allowance; ours may measure a hair less. The budget is
    spent all the same, so the next evaluation of the write is refused, whatever the machine's timing."""
    with write_budget(0.3) as budget:
        refusal('exec', 'x = 0\nwhile True:\n    x += 1', env=TIMED_ONLY)
        assert budget.remaining <= 0
        with pytest.raises(ScriptRejected, match='in total'):
            ENV.evaluate('1 + 1', {})
