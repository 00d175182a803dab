"""Validation of element kinds, lanes, hostile XML and DMN versions: refused with file, line, element, never a traceback.

The end-to-end run of every kind through the API is tests/test_third_party_kinds.py; these are
the parser's own answers, fast and without a database.
"""
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from service.cli import main
from service.engine import lanes as lane_rules
from service.engine.parser import _XML_PARSER, DefinitionError, load_lanes, parse_files

ROOT = Path(__file__).resolve().parent.parent
KINDS = ROOT / 'tests' / 'fixtures' / 'kinds'
LANES = load_lanes(ROOT / 'processes' / 'lanes.json')
FORMS = ROOT / 'forms'


def problems(files, forms=FORMS):
    with pytest.raises(DefinitionError) as info:
        parse_files(files, LANES, forms)
    return info.value.problems


def kind(name):
    return {name: (KINDS / name).read_bytes()}


# ---------------------------------------------------------------------------- hostile XML

def test_doctype_is_refused_before_parsing_and_no_entity_is_resolved(tmp_path):
    secret = tmp_path / 'secret.txt'
    secret.write_text('TOP-SECRET-42')
    text = (KINDS / 'doctype_entity.bpmn').read_text().replace('file:///etc/hostname', secret.as_uri())
    (p,) = problems({'x.bpmn': text.encode()})
    assert (p.file, p.line, p.element) == ('x.bpmn', 2, None)
    assert 'DOCTYPE' in p.message and 'TOP-SECRET' not in p.message


def test_doctype_in_another_encoding_is_refused_too(tmp_path):
    """The byte scan misses UTF-16; lxml reads it without expanding the entity and the DOCTYPE is still refused."""
    secret = tmp_path / 'secret.txt'
    secret.write_text('TOP-SECRET-42')
    text = ('<?xml version="1.0" encoding="UTF-16"?>\n'
            f'<!DOCTYPE d [ <!ENTITY s SYSTEM "{secret.as_uri()}"> ]>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">'
            '<bpmn:documentation>&s;</bpmn:documentation></bpmn:definitions>')
    (p,) = problems({'utf16.bpmn': text.encode('utf-16')})
    assert 'DOCTYPE' in p.message and 'TOP-SECRET' not in p.message
    root = etree.fromstring(text.encode('utf-16'), parser=_XML_PARSER)
    assert 'TOP-SECRET' not in etree.tostring(root, encoding='unicode')


def test_cli_validate_answers_lines_not_tracebacks():
    names = ['doctype_entity.bpmn', 'dmn12.dmn', 'dmn14.dmn', 'malformed.dmn', 'not_executable.bpmn', 'xsd_error.bpmn']
    result = CliRunner().invoke(main, ['validate', *[str(KINDS / n) for n in names]])
    assert result.exit_code == 1, result.output
    assert 'Traceback' not in result.output
    lines = result.output.splitlines()
    for name in names:
        assert any(f'{name}:' in line and not line.startswith('warning') for line in lines), (name, result.output)


# ---------------------------------------------------------------------------- DMN versions

@pytest.mark.parametrize('name,version', [('dmn12.dmn', '1.2'), ('dmn14.dmn', '1.4')])
def test_dmn_versions_spiffworkflow_cannot_read_are_named(name, version):
    (p,) = problems(kind(name))
    assert (p.file, p.line) == (name, 2)
    assert f'DMN {version}' in p.message and 'DMN 1.3' in p.message


def test_dmn_11_and_13_are_read():
    for bpmn, dmn in (('business_rule.bpmn', 'business_rule.dmn'), ('business_rule11.bpmn', 'dmn11.dmn')):
        assert parse_files({**kind(bpmn), **kind(dmn)}, LANES, FORMS)


# ---------------------------------------------------------------------------- warnings, executability

def test_message_without_variable_is_a_warning_not_an_error():
    parsed = parse_files(kind('message_no_variable.bpmn'), LANES, FORMS)
    assert set(parsed) == {'k_message_no_variable'}
    (w,) = parsed.warnings
    assert (w.file, w.line, w.element) == ('message_no_variable.bpmn', 3, 'm_k_plain')


def test_unknown_extension_elements_are_noted():
    (w,) = parse_files(kind('unknown_extension.bpmn'), LANES, FORMS).warnings
    assert (w.line, w.element) == (5, 'calc') and 'camunda:inputOutput' in w.message


def test_warnings_travel_with_the_refusal_too():
    files = {**kind('message_no_variable.bpmn'), **kind('service_task.bpmn')}
    with pytest.raises(DefinitionError) as info:
        parse_files(files, LANES, FORMS)
    assert [p.element for p in info.value.problems] == ['lookup']
    assert [w.element for w in info.value.warnings] == ['m_k_plain']


def test_a_file_without_an_executable_process_is_refused():
    (p,) = problems(kind('not_executable.bpmn'))
    assert (p.line, p.element) == (2, None) and 'isExecutable' in p.message


def test_service_operator_registry_decides(monkeypatch):
    from service.engine import service_operators
    monkeypatch.setitem(service_operators.OPERATORS, 'hukou/Lookup', lambda params: {'found': params['id_number']})
    parsed = parse_files(kind('service_task.bpmn'), LANES, FORMS)['k_service_task']
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from service.engine.sandbox import make_script_engine
    wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine({}))
    wf.do_engine_steps()
    assert wf.is_completed() and wf.last_task.data['hukou'] == {'found': '1'}


# ---------------------------------------------------------------------------- lanes

def _lanes(name):
    return lane_rules.resolve(etree.fromstring((KINDS / name).read_bytes()))


def test_child_lane_wins_over_its_parent():
    assert _lanes('nested_lanes.bpmn').lane['ut'] == '镇街分管领导'
    spec = parse_files(kind('nested_lanes.bpmn'), LANES, FORMS)['k_nested_lanes'].spec
    assert spec.task_specs['ut'].lane == '镇街分管领导'


def test_subprocess_own_lanes_win_over_the_process_lane():
    lanes = _lanes('subprocess_lanes.bpmn')
    assert (lanes.lane['sub'], lanes.lane['survey'], lanes.lane['s_start']) == ('镇街分管领导', '村（社区）', '镇街分管领导')
    parsed = parse_files(kind('subprocess_lanes.bpmn'), LANES, FORMS)['k_subprocess_lanes']
    assert parsed.subprocess_specs['sub'].task_specs['survey'].lane == '村（社区）'


def test_unlisted_task_in_an_unlisted_subprocess_of_a_laned_process_is_refused():
    text = (KINDS / 'subprocess_lanes.bpmn').read_text()
    text = text.replace('<bpmn:flowNodeRef>sub</bpmn:flowNodeRef>', '').replace(
        '<bpmn:laneSet id="sls"><bpmn:lane id="l_village" name="村（社区）"><bpmn:flowNodeRef>survey</bpmn:flowNodeRef>'
        '</bpmn:lane></bpmn:laneSet>', '')
    (p,) = problems({'s.bpmn': text.encode()})
    assert p.element == 'survey' and 'no lane lists this task' in p.message


def test_task_in_a_listed_subprocess_takes_its_lane():
    text = (KINDS / 'subprocess_lanes.bpmn').read_text().replace(
        '<bpmn:laneSet id="sls"><bpmn:lane id="l_village" name="村（社区）"><bpmn:flowNodeRef>survey</bpmn:flowNodeRef>'
        '</bpmn:lane></bpmn:laneSet>', '')
    parsed = parse_files({'s.bpmn': text.encode()}, LANES, FORMS)['k_subprocess_lanes']
    assert parsed.subprocess_specs['sub'].task_specs['survey'].lane == '镇街分管领导'


def test_subprocess_listed_by_two_lanes_refuses_the_unlisted_tasks_inside():
    text = (KINDS / 'subprocess_lanes.bpmn').read_text().replace(
        '<bpmn:laneSet id="sls"><bpmn:lane id="l_village" name="村（社区）"><bpmn:flowNodeRef>survey</bpmn:flowNodeRef>'
        '</bpmn:lane></bpmn:laneSet>', '').replace(
        '</bpmn:lane></bpmn:laneSet>',
        '</bpmn:lane><bpmn:lane id="l_cw" name="镇街经办人"><bpmn:flowNodeRef>sub</bpmn:flowNodeRef></bpmn:lane>'
        '</bpmn:laneSet>', 1)
    (p,) = problems({'s.bpmn': text.encode()})
    assert p.element == 'survey' and 'through its subprocess sub' in p.message
