"""Parser rules added after the first validation set: lanes inside subprocesses, event-gateway timers."""

from service.engine.parser import load_lanes, parse_files

from .conftest import ROOT

BPMN = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="lanes_p" name="泳道" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="l_cw" name="%s"><bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>sub</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef><bpmn:flowNodeRef>survey</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>s_start</bpmn:flowNodeRef><bpmn:flowNodeRef>s_end</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l_leader" name="%s"><bpmn:flowNodeRef>confirm</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:subProcess id="sub" name="审核">
      <bpmn:startEvent id="s_start" />
      <bpmn:userTask id="survey" name="入户调查">
        <bpmn:extensionElements><spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="note.schema.json" />
        </spiffworkflow:properties></bpmn:extensionElements>
      </bpmn:userTask>
      <bpmn:userTask id="confirm" name="审核确认">
        <bpmn:extensionElements><spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="note.schema.json" />
        </spiffworkflow:properties></bpmn:extensionElements>
      </bpmn:userTask>
      <bpmn:endEvent id="s_end" />
      <bpmn:sequenceFlow id="sf1" sourceRef="s_start" targetRef="survey" />
      <bpmn:sequenceFlow id="sf2" sourceRef="survey" targetRef="confirm" />
      <bpmn:sequenceFlow id="sf3" sourceRef="confirm" targetRef="s_end" />
    </bpmn:subProcess>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub" />
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
''' % ('镇街经办人', '镇街分管领导')
BPMN = BPMN.encode()


def test_inner_task_keeps_its_own_lane():
    parsed = parse_files({'lanes.bpmn': BPMN}, load_lanes(ROOT / 'processes' / 'lanes.json'),
                         ROOT / 'tests' / 'processes' / 'forms')['lanes_p']
    inner = parsed.subprocess_specs['sub']
    assert inner.task_specs['confirm'].lane == '镇街分管领导'
    assert inner.task_specs['survey'].lane == '镇街经办人'


def test_running_case_gives_the_inner_task_its_lane_role(test_app):
    from sqlalchemy import select

    from service.extensions import db
    from service.models import Task
    from service.services import repository, runtime, tasks
    repository.deploy({'lanes.bpmn': BPMN}, 'designer')
    case = runtime.start_instance('lanes_p', 't01', {}, 'alice')
    survey = db.session.scalars(select(Task).where(Task.instance_id == case.id, Task.state == 'ready')).one()
    assert (survey.bpmn_id, survey.role) == ('survey', 'township_caseworker')
    tasks.complete_task(survey.id, {}, 'alice')
    confirm = db.session.scalars(select(Task).where(Task.instance_id == case.id, Task.state == 'ready')).one()
    assert (confirm.bpmn_id, confirm.role) == ('confirm', 'township_leader')


def test_timer_behind_event_based_gateway_is_refused():
    from service.engine.parser import DefinitionError
    import pytest
    path = ROOT / 'tests' / 'fixtures' / 'invalid_extra' / 'event_gateway_timer.bpmn'
    with pytest.raises(DefinitionError) as err:
        parse_files({'event_gateway_timer.bpmn': path.read_bytes()}, {}, None)
    problems = [(p.file, p.line, p.element) for p in err.value.problems]
    assert problems == [('event_gateway_timer.bpmn', 8, 'wait_publicity')]
    assert '接收任务' in err.value.problems[0].message


# --------------------------------------------------------- the 20 px move (issue 10, item 3)

DIBAO_A = ROOT / 'processes' / 'delegated' / 'dibao_a.bpmn'
LEADER_LANE = '<bpmn:lane id="Lane_township_leader" name="镇街分管领导">'


def _lanes_of_tasks(source):
    """{task id: lane} of every task spec of dibao_a, the subprocess's too, after a spec JSON round trip."""
    from service.engine.serializer import CaseSerializer
    parsed = parse_files({'delegated/dibao_a.bpmn': source}, load_lanes(ROOT / 'processes' / 'lanes.json'),
                         ROOT / 'forms')['dibao_a']
    ser = CaseSerializer()
    spec, subs = ser.load_spec(ser.dump_spec(parsed.spec, parsed.subprocess_specs))
    return {ts.bpmn_id: ts.lane for s in (spec, *subs.values()) for ts in s.task_specs.values()
            if getattr(ts, 'bpmn_id', None)}


def test_moving_the_review_subprocess_into_the_leaders_lane_keeps_every_role():
    """bpmn-js lists a subprocess in the lane it is dropped on; the tasks inside keep their lanes."""
    source = DIBAO_A.read_text(encoding='utf-8')
    assert 'dibao_a_review</bpmn:flowNodeRef>' not in source
    moved = source.replace(LEADER_LANE, LEADER_LANE + '\n        <bpmn:flowNodeRef>dibao_a_review</bpmn:flowNodeRef>')
    before, after = _lanes_of_tasks(source.encode()), _lanes_of_tasks(moved.encode())
    inside = ['home_survey', 'township_confirmation', 'county_guidance_confirmation']
    assert [before[t] for t in inside] == ['镇街经办人', '镇街分管领导', '区民政局']
    assert {t: after[t] for t in inside} == {t: before[t] for t in inside}
    changed = {t for t in before if before[t] != after[t]}
    assert changed == {'dibao_a_review'}   # only the box itself, which no one is offered


def test_a_task_listed_by_two_lanes_after_a_move_is_refused():
    """If the move also lists the tasks inside in the leader's lane, nobody can tell who does them: refused."""
    from service.engine.parser import DefinitionError
    import pytest
    source = DIBAO_A.read_text(encoding='utf-8')
    refs = ''.join(f'<bpmn:flowNodeRef>{t}</bpmn:flowNodeRef>' for t in ('dibao_a_review', 'home_survey'))
    moved = source.replace(LEADER_LANE, LEADER_LANE + refs)
    with pytest.raises(DefinitionError) as err:
        parse_files({'delegated/dibao_a.bpmn': moved.encode()}, load_lanes(ROOT / 'processes' / 'lanes.json'),
                    ROOT / 'forms')
    (problem,) = err.value.problems
    assert (problem.element, problem.line) == ('home_survey', source[:source.index('id="home_survey"')].count('\n') + 1)
    assert '"镇街经办人"、"镇街分管领导"' in problem.message and 'listed by two lanes at the same level' in problem.message
