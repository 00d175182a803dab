"""Definition validation: every problem a designer can make, with file, line and element."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from service.engine.parser import DefinitionError, Problem, load_lanes, parse_files, parse_paths
from service.engine.sandbox import make_script_engine

FIXTURES = Path(__file__).parent / 'fixtures'
VALID = FIXTURES / 'valid'
INVALID = FIXTURES / 'invalid'
FORMS = FIXTURES / 'forms'
LANES = load_lanes(Path(__file__).parent.parent / 'processes' / 'lanes.json')


def problems_for(*names, forms=FORMS):
    with pytest.raises(DefinitionError) as info:
        parse_paths([INVALID / n for n in names], INVALID, LANES, forms)
    return info.value.problems


def find(problems, file, line, element, text=''):
    hits = [p for p in problems if (p.file, p.line, p.element) == (file, line, element) and text in p.message]
    assert hits, f'no problem at {file}:{line} {element}; got:\n' + '\n'.join(map(str, problems))
    return hits[0]


# ------------------------------------------------------------------- valid

def test_valid_fixture_parses_with_metadata_and_dependencies():
    parsed = parse_paths([VALID], VALID, LANES, FORMS)
    assert set(parsed) == {'dibao_test', 'common_notice'}   # applicant_side is not executable
    p = parsed['dibao_test']
    assert (p.key, p.name, p.category, p.variant, p.file) == (
        'dibao_test', '低保申请（测试）', 'dibao', 'delegated_a', 'dibao_test.bpmn')
    assert p.source == (VALID / 'dibao_test.bpmn').read_bytes()
    assert p.dependencies == ['amount.dmn', 'common_notice.bpmn']
    assert set(p.subprocess_specs) == {'common_notice'}
    assert p.spec.name == 'dibao_test'
    assert parsed['common_notice'].dependencies == []
    assert parsed['common_notice'].category is None


def test_valid_fixture_runs_under_the_sandbox():
    """The parsed spec runs end to end with the restricted engine: post-script,
    timer expression, script, gateway condition, message payload, DMN, call activity."""
    t0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)

    def add_hours(start, n):
        return (datetime.fromisoformat(start) + timedelta(hours=n)).isoformat()

    engine = make_script_engine({'now': lambda: t0.isoformat(), 'add_hours': add_hours})
    p = parse_paths([VALID], VALID, LANES, FORMS)['dibao_test']
    wf = BpmnWorkflow(p.spec, p.subprocess_specs, script_engine=engine)
    wf.get_tasks(spec_name='Start')[0].data.update(
        {'received_at': t0.isoformat(), 'applicant': {'members': [{'name': '甲'}]}, 'survey': {'income': 200}})
    wf.do_engine_steps()
    accept = wf.get_tasks(state=TaskState.READY, spec_name='accept')[0]
    assert accept.task_spec.lane == '镇街经办人'
    accept.data['acceptance'] = {'result': 'complete'}
    accept.run()
    wf.do_engine_steps()
    wf.send_event(BpmnEvent(MessageEventDefinition('verification_result'), payload={'eligible': True}))
    wf.do_engine_steps()
    deliver = wf.get_tasks(state=TaskState.READY, spec_name='deliver')[0]
    assert deliver.data['verification'] == {'eligible': True}
    assert deliver.data['accepted_at'] == t0.isoformat()
    assert deliver.data['members'] == ['甲'] and deliver.data['acceptance']['checked'] is True
    assert deliver.data['decision'] == {'amount': 600}
    deliver.run()
    wf.do_engine_steps()
    assert wf.is_completed()


def test_parse_files_takes_bytes_and_forms_are_optional():
    files = {'dibao_test.bpmn': (VALID / 'dibao_test.bpmn').read_bytes(),
             'common_notice.bpmn': (VALID / 'common_notice.bpmn').read_bytes(),
             'amount.dmn': (VALID / 'amount.dmn').read_bytes()}
    assert set(parse_files(files, LANES, None)) == {'dibao_test', 'common_notice'}
    # Without its called process and decision table the main process is refused.
    with pytest.raises(DefinitionError) as info:
        parse_files({'dibao_test.bpmn': files['dibao_test.bpmn']}, LANES, None)
    elements = {p.element for p in info.value.problems}
    assert {'notify', 'amount_rule'} <= elements


def test_problem_str():
    assert str(Problem('a.bpmn', 3, 'gw', 'msg')) == 'a.bpmn:3: gw: msg'
    assert str(Problem('a.bpmn', None, None, 'msg')) == 'a.bpmn:?: -: msg'


# ----------------------------------------------------------------- invalid

CASES = [
    # 1 malformed XML
    ('malformed.bpmn', 5, None, 'malformed XML'),
    # 2 XSD
    ('xsd_violation.bpmn', 8, 'bogus', 'XSD violation'),
    # 3 process ids
    ('process_no_id.bpmn', 3, None, 'bpmn:process has no id'),
    ('duplicate_process.bpmn', 9, 'p_dup', 'duplicate process id "p_dup", first defined at duplicate_process.bpmn:3'),
    # 4 flows naming missing elements
    ('flow_missing_ref.bpmn', 8, 'f_ghost', 'sequence flow targetRef "ghost" names no element'),
    ('flow_missing_ref.bpmn', 9, 'f_phantom', 'sequence flow sourceRef "phantom" names no element'),
    # 5 gateway branches
    ('exclusive_no_condition.bpmn', 8, 'f_other', 'exclusive gateway branch has neither condition nor default'),
    ('inclusive_no_condition.bpmn', 8, 'f_other', 'inclusive gateway branch has neither condition nor default'),
    # 6 code
    ('condition_syntax.bpmn', 7, 'f_yes', 'condition rejected by the sandbox): SyntaxError'),
    ('script_refused.bpmn', 11, 'calc', 'line 5 of the script)): import is not allowed'),
    ('prescript_refused.bpmn', 6, 't_pre', '"__class__" is an invalid attribute name'),
    # 7 call activities and messages
    ('call_activity_missing.bpmn', 6, 'call_none', 'call activity has no calledElement'),
    ('call_activity_missing.bpmn', 8, 'call_unknown', 'calledElement "does_not_exist" names no known process'),
    ('call_cycle_self.bpmn', 5, 'call_me', '调用活动形成循环调用（p_self → p_self）'),
    # 7b loops SpiffWorkflow cannot create a case for, or that no case could leave
    ('loop_no_choice.bpmn', 5, 'check', 'loop check → recheck → check with no exclusive, inclusive or event-based'),
    ('loop_in_subprocess.bpmn', 7, 'again', '循环（again → again）上没有排他网关'),
    ('loop_no_exit.bpmn', 5, 'review', 'the loop review → decide → review has no way out'),
    ('message_missing.bpmn', 6, 'wait_msg', 'messageRef names no bpmn:message'),
    # 8 timers
    ('timer_bare_duration.bpmn', 8, 'wait_timer', 'quote it: "P1D"'),
    ('timer_bare_cycle.bpmn', 8, 'wait_timer', 'quote it: "R3/PT10M"'),
    ('timer_bare_date.bpmn', 8, 'wait_timer', 'quote it: "2026-01-01T00:00:00"'),
    ('timer_syntax.bpmn', 8, 'wait_timer', "timeDate expression rejected by the sandbox): SyntaxError: '(' was never closed"),
    ('timer_no_time.bpmn', 6, 'wait_timer', 'timerEventDefinition has no timeDate, timeDuration or timeCycle'),
    # 9 user tasks
    ('usertask_no_lane.bpmn', 5, 'ut', 'user task is not inside any lane'),
    ('usertask_unmapped_lane.bpmn', 6, 'ut', '"财务科" 未在 lanes.json 中映射角色 (lane is not mapped to a role'),
    ('usertask_no_form.bpmn', 6, 'ut', 'user task has no formJsonSchemaFilename property'),
    ('usertask_form_missing.bpmn', 6, 'ut', '"nonexistent.schema.json" 不存在 (formJsonSchemaFilename names no file'),
    # 10 start events, unsupported elements
    ('no_start_event.bpmn', 3, 'p_nostart', 'executable process has no start event'),
    ('unsupported_element.bpmn', 6, 'cgw', 'complex gateways are not supported'),
    # DMN
    ('bad_decision.dmn', 7, 'r1', 'XSD violation'),
    ('decision_missing.bpmn', 6, 'rule_missing', 'No DMN Diagram available with id "no_such_decision"'),
]


@pytest.mark.parametrize('file,line,element,text', CASES, ids=[f'{c[0]}:{c[1]}' for c in CASES])
def test_invalid_fixture(file, line, element, text):
    problems = problems_for(file)
    find(problems, file, line, element, text)


def test_each_invalid_file_reports_only_its_own_problems():
    """No noise: Spiff's misleading follow-up errors are not repeated."""
    expected = {}
    for file, line, element, _ in CASES:
        expected.setdefault(file, set()).add((line, element))
    for file, wanted in expected.items():
        got = {(p.line, p.element) for p in problems_for(file)}
        if file == 'duplicate_process.bpmn':   # the XSD also flags the repeated xs:ID
            assert got == wanted | {(9, 'p_dup')}
        else:
            assert got == wanted, file


def test_duplicate_process_across_files():
    problems = problems_for('duplicate_across')
    p = find(problems, 'duplicate_across/second.bpmn', 3, 'p_shared')
    assert 'first defined at duplicate_across/first.bpmn:3' in p.message
    assert len(problems) == 1


def test_duplicate_process_in_one_file_also_named_by_xsd():
    problems = problems_for('duplicate_process.bpmn')
    assert any(p.message.startswith('元素 id "p_dup" 重复 (duplicate element id') for p in problems)


def test_all_problems_are_reported_not_just_the_first():
    problems = problems_for('many_problems.bpmn')
    assert {(p.line, p.element) for p in problems} == {(8, 'f_yes'), (9, 'f_other'), (16, 'late')}
    assert 'quote it: "PT24H"' in find(problems, 'many_problems.bpmn', 16, 'late').message


def test_problems_across_several_files_in_one_call():
    problems = problems_for('malformed.bpmn', 'timer_bare_duration.bpmn', 'usertask_no_lane.bpmn')
    assert {p.file for p in problems} == {'malformed.bpmn', 'timer_bare_duration.bpmn', 'usertask_no_lane.bpmn'}


def test_form_checks_skipped_without_forms_dir():
    parse_paths([INVALID / 'usertask_no_form.bpmn'], INVALID, LANES, None)
    parse_paths([INVALID / 'usertask_form_missing.bpmn'], INVALID, LANES, None)


def test_unmapped_lane_depends_on_lanes_json():
    parse_paths([INVALID / 'usertask_unmapped_lane.bpmn'], INVALID, {**LANES, '财务科': 'finance'}, FORMS)


def test_quoted_iso_timer_is_accepted():
    text = (INVALID / 'timer_bare_duration.bpmn').read_text().replace('>P1D<', '>"P1D"<')
    parse_files({'timer_ok.bpmn': text.encode()}, LANES, FORMS)


def test_problem_messages_are_readable_lines():
    for p in problems_for('script_refused.bpmn'):
        assert str(p).startswith('script_refused.bpmn:11: calc: 脚本无法通过沙箱检查')


def test_message_variable_on_event_definition_is_accepted():
    text = (INVALID / 'message_no_variable.bpmn').read_text().replace(
        '<bpmn:messageEventDefinition id="med1" messageRef="msg_objection" />',
        '<bpmn:messageEventDefinition id="med1" messageRef="msg_objection"><bpmn:extensionElements>'
        '<spiffworkflow:messageVariable>objection</spiffworkflow:messageVariable>'
        '</bpmn:extensionElements></bpmn:messageEventDefinition>')
    assert 'objection</spiffworkflow:messageVariable>' in text
    assert parse_files({'msg_ok.bpmn': text.encode()}, LANES, FORMS).warnings == []


def test_call_cycle_across_files_names_every_call_on_it():
    problems = problems_for('call_cycle_across')
    find(problems, 'call_cycle_across/first.bpmn', 5, 'call_second', 'p_first → p_second → p_first')
    find(problems, 'call_cycle_across/second.bpmn', 7, 'call_first', 'p_second → p_first → p_second')
    assert len(problems) == 2


def test_loop_without_a_choice_is_what_breaks_spiffworkflow():
    """The refused loop is not a style rule: SpiffWorkflow cannot create a case for it."""
    from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(INVALID / 'loop_no_choice.bpmn')])
    with pytest.raises(RecursionError):
        BpmnWorkflow(parser.get_spec('p_loop'), parser.get_subprocess_specs('p_loop'))


LOOP = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:message id="m" name="m" />
  <bpmn:process id="p_ok" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:task id="a" />
    <bpmn:task id="b" />
    %s
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="a" />
  </bpmn:process>
</bpmn:definitions>'''
WAYS_OUT = {
    'exclusive gateway': '<bpmn:exclusiveGateway id="g" default="back" /><bpmn:sequenceFlow id="f1" sourceRef="a" '
                         'targetRef="b" /><bpmn:sequenceFlow id="f2" sourceRef="b" targetRef="g" /><bpmn:sequenceFlow '
                         'id="back" sourceRef="g" targetRef="a" /><bpmn:sequenceFlow id="out" sourceRef="g" '
                         'targetRef="end"><bpmn:conditionExpression>done</bpmn:conditionExpression></bpmn:sequenceFlow>',
    'inclusive gateway': '<bpmn:inclusiveGateway id="g" default="back" /><bpmn:sequenceFlow id="f1" sourceRef="a" '
                         'targetRef="b" /><bpmn:sequenceFlow id="f2" sourceRef="b" targetRef="g" /><bpmn:sequenceFlow '
                         'id="back" sourceRef="g" targetRef="a" /><bpmn:sequenceFlow id="out" sourceRef="g" '
                         'targetRef="end"><bpmn:conditionExpression>done</bpmn:conditionExpression></bpmn:sequenceFlow>',
    'boundary event': '<bpmn:boundaryEvent id="late" attachedToRef="b"><bpmn:timerEventDefinition><bpmn:timeDuration>'
                      '"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:sequenceFlow '
                      'id="f1" sourceRef="a" targetRef="b" /><bpmn:sequenceFlow id="f2" sourceRef="b" targetRef="end" />'
                      '<bpmn:sequenceFlow id="back" sourceRef="late" targetRef="a" />',
}


@pytest.mark.parametrize('way_out', sorted(WAYS_OUT))
def test_loops_with_a_way_out_are_accepted_and_run(way_out):
    parsed = parse_files({'ok.bpmn': (LOOP % WAYS_OUT[way_out]).encode()}, LANES, None)['p_ok']
    wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine({}))
    assert wf.get_tasks(spec_name='a')
