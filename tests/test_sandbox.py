"""The restricted script environment, exercised through real SpiffWorkflow runs."""
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from service.engine.sandbox import ScriptRejected, check_source, make_script_engine
from service.engine import sandbox

FIXED_NOW = '2026-03-02T08:00:00+08:00'


def add_days(start, n):
    from datetime import datetime, timedelta
    return (datetime.fromisoformat(start) + timedelta(days=n)).isoformat()


FUNCTIONS = {'now': lambda: FIXED_NOW, 'add_days': add_days}
ENGINE = make_script_engine(FUNCTIONS)


def bpmn(script='x = 1', condition='True'):
    """start -> script -> exclusive gateway (condition -> end_yes, default -> end_no)."""
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="script" name="脚本">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" default="f_no"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_yes"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script" />
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="gw" />
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="end_yes">
      <bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end_no" />
  </bpmn:process>
</bpmn:definitions>'''.encode()


def run(script='x = 1', condition='True', data=None, engine=ENGINE):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(bpmn(script, condition), 'sandbox_test.bpmn')
    wf = BpmnWorkflow(parser.get_spec('p'), parser.get_subprocess_specs('p'), script_engine=engine)
    start = wf.get_tasks(spec_name='start')[0]
    start.data.update(data or {})
    wf.do_engine_steps()
    assert wf.is_completed()
    ended = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)
             if t.task_spec.bpmn_id in ('end_yes', 'end_no')]
    return ended[0], wf.last_task.data


# ---------------------------------------------------------------- allowed code

def test_condition_on_nested_dict():
    branch, _ = run(condition="acceptance['result'] == 'complete'",
                    data={'acceptance': {'result': 'complete'}})
    assert branch == 'end_yes'
    branch, _ = run(condition="acceptance['result'] == 'complete'",
                    data={'acceptance': {'result': 'incomplete'}})
    assert branch == 'end_no'


def test_condition_with_method_call_and_default():
    assert run(condition="survey.get('income', 0) < 500", data={'survey': {}})[0] == 'end_yes'
    assert run(condition="survey.get('income', 0) < 500", data={'survey': {'income': 800}})[0] == 'end_no'


def test_script_sets_variables_and_dict_items():
    script = ("decision = {'approved': False}\n"
              "decision['approved'] = True\n"
              "decision['amount'] = 300\n"
              "decision['amount'] += 50\n"
              "members = [1, 2]\n"
              "members[0] = 5\n"
              "total = sum(members)")
    branch, data = run(script, condition="decision['approved'] and total == 7")
    assert branch == 'end_yes'
    assert data['decision'] == {'approved': True, 'amount': 350}
    assert data['members'] == [5, 2]


def test_comprehensions_loops_and_builtins():
    script = ("incomes = [m['income'] for m in household]\n"
              "by_name = {m['name']: m['income'] for m in household}\n"
              "count = 0\n"
              "for i, m in enumerate(household):\n"
              "    count += 1\n"
              "pairs = sorted(zip(by_name, incomes))\n"
              "per_capita = round(sum(incomes) / len(incomes), 2)\n"
              "ok = all(isinstance(v, int) for v in incomes) and max(incomes) > min(incomes)")
    household = [{'name': '甲', 'income': 300}, {'name': '乙', 'income': 500}]
    branch, data = run(script, condition='per_capita < 500 and ok', data={'household': household})
    assert branch == 'end_yes'
    assert data['incomes'] == [300, 500]
    assert data['by_name'] == {'甲': 300, '乙': 500}
    assert data['count'] == 2 and data['per_capita'] == 400


def test_passed_in_functions_are_callable_and_not_left_in_data():
    branch, data = run("accepted_at = now()\ndeadline = add_days(accepted_at, 7)",
                       condition="deadline > accepted_at")
    assert branch == 'end_yes'
    assert data['accepted_at'] == FIXED_NOW
    assert data['deadline'] == '2026-03-09T08:00:00+08:00'
    assert 'now' not in data and 'add_days' not in data and '__builtins__' not in data


def test_datetime_is_not_available_unless_passed():
    with pytest.raises(WorkflowTaskException, match='datetime'):
        run('x = datetime.now()')
    from datetime import datetime
    engine = make_script_engine({'datetime': datetime})
    _, data = run('x = datetime(2026, 1, 1).year', engine=engine)
    assert data['x'] == 2026


def test_task_data_cannot_replace_guards():
    branch, _ = run(condition='x == 1', data={'__builtins__': {'open': 'nope'}})
    assert branch == 'end_yes'


def test_missing_attribute_raises_rather_than_none():
    with pytest.raises(WorkflowTaskException, match='AttributeError'):
        run(condition="survey.nonexistent == None", data={'survey': {}})


# ---------------------------------------------------------------- refused code

REFUSED = [
    ("__import__('os')", '__import__'),
    ("().__class__.__base__.__subclasses__()", '__class__'),
    ("open('/etc/hostname').read()", 'open'),
    ("getattr(x, '__class__')", '__class__'),
    ("().__class__", '__class__'),
    ("eval('1 + 1')", 'eval'),
    ("exec('y = 1')", 'exec'),
]


@pytest.mark.parametrize('source,word', REFUSED)
def test_check_source_refuses(source, word):
    with pytest.raises(ScriptRejected) as info:
        check_source(source, 'eval')
    assert word in info.value.message
    assert info.value.lineno == 1


@pytest.mark.parametrize('source', ['import os', 'from os import path', 'import subprocess as s'])
def test_import_statement_refused(source):
    with pytest.raises(ScriptRejected, match='import is not allowed'):
        check_source(source, 'exec')


def test_refused_line_number_in_multiline_script():
    with pytest.raises(ScriptRejected) as info:
        check_source("a = 1\nb = 2\nc = ().__class__\n", 'exec')
    assert info.value.lineno == 3


def test_syntax_error_is_converted_with_line():
    with pytest.raises(ScriptRejected) as info:
        check_source("a = 1\nx = = 1", 'exec')
    assert info.value.lineno == 2
    assert 'SyntaxError' in info.value.message
    assert not isinstance(info.value, SyntaxError)
    with pytest.raises(ScriptRejected, match='SyntaxError'):
        check_source('x <<< ', 'eval')


def test_getattr_with_computed_underscore_name_refused_at_run_time():
    with pytest.raises(WorkflowTaskException) as info:
        run("name = '_' + '_class__'\ny = getattr(name, name)")
    assert 'ScriptRejected' in info.value.error_type
    assert '"__class__"' in str(info.value)


@pytest.mark.parametrize('script,line', [
    ("x = __import__('os').getcwd()", 1),
    ("import os\nx = os.getcwd()", 1),
    ("a = 1\nx = ().__class__.__base__.__subclasses__()", 2),
    ("x = open('/etc/hostname').read()", 1),
    ("x = 1\ny = 2\nz = getattr(x, '__class__')", 3),
])
def test_refused_in_script_task(script, line):
    with pytest.raises(WorkflowTaskException) as info:
        run(script)
    err = info.value
    assert err.error_type == 'ScriptRejected'
    assert err.task.task_spec.bpmn_id == 'script'
    assert err.line_number == line
    assert err.error_line == script.splitlines()[line - 1]


@pytest.mark.parametrize('condition', [
    "__import__('os').system('true') == 0",
    "().__class__.__base__.__subclasses__() != []",
    "open('/etc/hostname') is not None",
])
def test_refused_in_gateway_condition(condition):
    with pytest.raises(WorkflowTaskException) as info:
        run(condition=condition)
    assert info.value.error_type == 'ScriptRejected'
    assert 'Error evaluating expression' in str(info.value)
    assert 'not allowed' in str(info.value) or 'invalid' in str(info.value)


def test_runtime_error_in_script_keeps_spiff_line_number():
    with pytest.raises(WorkflowTaskException) as info:
        run("a = 1\nb = a / 0")
    assert info.value.line_number == 2
    assert info.value.error_line == 'b = a / 0'


def test_compiled_code_is_cached():
    sandbox._compile.cache_clear()
    check_source("x == 1", 'eval')
    check_source("x == 1", 'eval')
    check_source("x == 1", 'exec')
    info = sandbox._compile.cache_info()
    assert info.hits == 1 and info.misses == 2
    assert sandbox.compile_source(" x == 1\n", 'eval') is sandbox.compile_source("x == 1", 'eval')


def test_bad_mode_and_function_names():
    with pytest.raises(ValueError):
        check_source('1', 'single')
    with pytest.raises(ValueError):
        make_script_engine({'_private': len})


# ---------------------------------------------------------------- resource bounds

@pytest.mark.parametrize('script, lines, words', [
    ("a = 1\nwhile True:\n    a = a + 1", {2, 3}, 'ran too long'),
    ("n = 0\nfor i in range(999):\n    for j in range(999):\n        n = n + 1", {3, 4}, 'ran too long'),
    ("s = 'x' * 10 ** 9", {1}, 'too large'),
    ("x = 2\ny = x ** 10 ** 7", {2}, 'too large'),
    ("a = [0]\na *= 10 ** 8", {2}, 'too large'),
    ("q = pow(7, 10 ** 7)", {1}, 'too large'),
])
def test_runaway_script_fails_its_task_instead_of_hanging(script, lines, words):
    with pytest.raises(WorkflowTaskException) as info:
        run(script)
    assert info.value.error_type == 'ScriptRejected' and words in str(info.value)
    assert info.value.line_number in lines   # the budget runs out on one of the loop's lines


def test_runaway_condition_fails_too():
    with pytest.raises(WorkflowTaskException) as info:
        run(condition="len([i for i in range(999) for j in range(999)]) > 0")
    assert 'ran too long' in str(info.value)


def test_ordinary_arithmetic_is_untouched():
    _, data = run("a = 2 ** 10\nb = [1, 2] * 3\nc = 2.5 ** 2\nd = 'ab' * 2\ne = {'k': 2}\ne['k'] *= 3")
    assert (data['a'], data['b'], data['c'], data['d'], data['e']) == (1024, [1, 2] * 3, 6.25, 'abab', {'k': 6})
