"""Every element kind either runs or is refused when deployed: no 500, no hang, no stuck start.

tests/fixtures/kinds/ holds one small diagram per kind that SpiffWorkflow's and SpiffArena's own
test and example diagrams use (our own files, written for this). Each is deployed through the API
as a designer, and every process it deploys is started with no data by a caseworker. A started
case must end finished, offer a ready task to a role, or wait for a timer or a message
(kind_helpers.standing); a refused deploy or start must be a 422 naming the element.
"""
import shutil
from io import BytesIO
from pathlib import Path

import pytest

from service.extensions import db
from service.models import Task

from .api_helpers import PASSWORD, add_people
from .kind_helpers import deploy, standing

ROOT = Path(__file__).resolve().parent.parent
KINDS = ROOT / 'tests' / 'fixtures' / 'kinds'

# Files deployed together with the diagram that uses them.
BUNDLES = {'business_rule.bpmn': ['business_rule.dmn'], 'business_rule11.bpmn': ['dmn11.dmn']}

# file -> {process key: how its start stands} for what runs; ('refused', element, text) for a 422 at deploy.
RUNS = {
    'plain_task.bpmn': {'k_plain_task': 'finished'},
    'manual_task.bpmn': {'k_manual_task': 'offered'},
    'user_task.bpmn': {'k_user_task': 'offered'},
    'script_task.bpmn': {'k_script_task': 'finished'},
    'exclusive_gateway.bpmn': {'k_exclusive_gateway': 'finished'},
    'parallel_gateway.bpmn': {'k_parallel_gateway': 'finished'},
    'inclusive_gateway.bpmn': {'k_inclusive_gateway': 'finished'},
    'event_gateway.bpmn': {'k_event_gateway': 'waiting_message'},
    'timer_catch.bpmn': {'k_timer_catch': 'waiting_timer'},
    'timer_boundary.bpmn': {'k_timer_boundary': 'offered'},
    'timer_start.bpmn': {'k_timer_start': 'waiting_timer'},
    'message_catch.bpmn': {'k_message_catch': 'waiting_message'},
    'message_no_variable.bpmn': {'k_message_no_variable': 'waiting_message'},
    'message_start.bpmn': {'k_message_start': 'waiting_message'},
    'message_boundary.bpmn': {'k_message_boundary': 'offered'},
    'receive_task.bpmn': {'k_receive_task': 'waiting_message'},
    'send_message.bpmn': {'k_send_message': 'finished'},
    'signal.bpmn': {'k_signal': 'finished'},
    'signal_start_event_sub_ok.bpmn': {'k_signal_start_event_sub_ok': 'finished'},
    'error_boundary.bpmn': {'k_error_boundary': 'finished'},
    'escalation.bpmn': {'k_escalation': 'finished'},
    'event_subprocess.bpmn': {'k_event_subprocess': 'finished'},
    'terminate_end.bpmn': {'k_terminate_end': 'finished'},
    'transaction_cancel.bpmn': {'k_transaction_cancel': 'finished'},
    'call_activity.bpmn': {'k_call_activity': 'finished', 'k_called': 'finished'},
    'embedded_subprocess.bpmn': {'k_embedded_subprocess': 'finished'},
    'business_rule.bpmn': {'k_business_rule': 'finished'},
    'business_rule11.bpmn': {'k_business_rule11': 'finished'},
    'multi_instance_parallel.bpmn': {'k_multi_instance_parallel': 'finished'},
    'multi_instance_sequential.bpmn': {'k_multi_instance_sequential': 'finished'},
    'standard_loop.bpmn': {'k_standard_loop': 'finished'},
    'data_object.bpmn': {'k_data_object': 'finished'},
    'io_spec.bpmn': {'k_io_spec': 'finished'},
    'nested_lanes.bpmn': {'k_nested_lanes': 'offered'},
    'subprocess_lanes.bpmn': {'k_subprocess_lanes': 'offered'},
    'unknown_extension.bpmn': {'k_unknown_extension': 'finished'},
    'collaboration.bpmn': {'k_collab_office': 'waiting_message'},
    'correlation.bpmn': {'k_correlation': 'waiting_message'},
    'script_error_at_start.bpmn': {'k_script_error_at_start': 'start_refused'},
    'multi_instance_no_collection.bpmn': {'k_multi_instance_no_collection': 'start_refused'},
}
# A refused start names the element the engine failed at (not only the first one with a task in ERROR).
START_REFUSED_AT = {'k_script_error_at_start': None, 'k_multi_instance_no_collection': 'each_member'}
REFUSED = {
    'service_task.bpmn': ('lookup', 'no implementation is registered for service operator "hukou/Lookup"'),
    'data_store.bpmn': ('store_ref', 'data stores are not supported'),
    'ad_hoc.bpmn': ('adhoc', 'ad-hoc subprocesses are not supported'),
    'complex_gateway.bpmn': ('cgw', 'complex gateways are not supported'),
    'compensation.bpmn': ('undo', 'compensation events are not supported'),
    'signal_start.bpmn': ('start', 'nothing in jiuzhu triggers it'),
    'signal_orphan.bpmn': ('wait', 'no element throws signal "k_nobody"'),
    'conditional_catch.bpmn': ('until', 'conditional catch event is evaluated only when reached'),
    'catch_nothing.bpmn': ('idle', 'intermediate catch event with no event definition'),
    'endless_loop.bpmn': ('again', 'standard loop has neither loopCondition nor loopMaximum'),
    'not_executable.bpmn': (None, 'no executable process in this file'),
    'manual_task_no_lane.bpmn': ('hand', 'manual task is not inside any lane'),
    'manual_task_unlisted.bpmn': ('hand', 'no lane lists this task'),
    # SpiffArena's interstitial.bpmn: the lane lists the task but has no name to map to a role.
    'manual_task_unnamed_lane.bpmn': ('hand', 'the lane listing it has no name'),
    'two_lanes.bpmn': ('ut', 'listed by two lanes at the same level'),
    'receive_no_message.bpmn': ('recv', 'receiveTask has no messageRef'),
    'link_events.bpmn': ('go', 'link events are not supported'),
    'multi_instance_huge.bpmn': ('each', 'loopCardinality 100000 is above 100'),
    'timer_in_multiple.bpmn': ('either', 'a timer combined with other event definitions on one event is never scheduled'),
    'doctype_entity.bpmn': (None, 'a DOCTYPE/DTD declaration is refused'),
    'xsd_error.bpmn': ('calc', 'XSD violation'),
    'dmn12.dmn': (None, 'unsupported DMN version: DMN 1.2'),
    'dmn14.dmn': (None, 'unsupported DMN version: DMN 1.4'),
    'malformed.dmn': (None, 'malformed XML'),
    'invalid_dmn.dmn': ('out_level', 'XSD violation'),
}
ROLES = {'k_manual_task': 'township_caseworker', 'k_user_task': 'township_caseworker',
         'k_timer_boundary': 'township_caseworker', 'k_message_boundary': 'township_caseworker',
         'k_nested_lanes': 'township_leader', 'k_subprocess_lanes': 'village_assistant'}


def test_fixture_set_is_covered():
    bundled = {name for names in BUNDLES.values() for name in names}
    on_disk = {p.name for p in KINDS.iterdir() if p.suffix in ('.bpmn', '.dmn')} - bundled
    assert on_disk == set(RUNS) | set(REFUSED)


@pytest.fixture
def designer(make_app, tmp_path, monkeypatch):
    """An app with nothing deployed (uploads stand alone), the real forms and lanes; its people."""
    processes = tmp_path / 'processes'
    processes.mkdir()
    shutil.copy(ROOT / 'processes' / 'lanes.json', processes / 'lanes.json')
    app = make_app(JIUZHU_PROCESSES_DIR=str(processes))
    with app.app_context():
        yield add_people(app, monkeypatch)


def _start(people, key):
    r = people['cw1'].post('/api/v1/instances', json={'process_key': key, 'township': 't01', 'data': {}})
    assert r.status_code in (201, 422), (key, r.status_code, r.get_json())
    if r.status_code == 422:
        body = r.get_json()
        assert body['error'] == 'process_error' and '案件未创建' in body['message'] and body['details']['element'], body
        assert START_REFUSED_AT.get(key) in (None, body['details']['element']), body
        return 'start_refused', None
    return standing(r.get_json()['id']), r.get_json()


def test_every_kind_runs_or_is_refused(designer):
    people = designer
    seen, wrong = {}, []
    for name in sorted(set(RUNS) | set(REFUSED)):
        files = {name: (KINDS / name).read_bytes(), **{n: (KINDS / n).read_bytes() for n in BUNDLES.get(name, [])}}
        r = deploy(people['des'], files)
        assert r.status_code in (201, 422), (name, r.status_code, r.get_data(as_text=True)[:500])
        body = r.get_json()
        if name in REFUSED:
            element, text = REFUSED[name]
            assert r.status_code == 422, (name, body)
            hits = [d for d in body['details'] if d['file'] == name and d['element'] == element
                    and text in d['message'] and d['line']]
            assert hits, (name, body['details'])
            seen[name] = 'refused'
            continue
        assert r.status_code == 201, (name, body)
        keys = {d['key'] for d in body['deployed']}
        assert keys == set(RUNS[name]), (name, keys)
        for key, expected in RUNS[name].items():
            got, started = _start(people, key)
            if got != expected:
                wrong.append((name, key, expected, got))
            elif got == 'offered':
                assert {t['role'] for t in started['ready_tasks']} == {ROLES[key]}, (key, started['ready_tasks'])
            seen[f'{name}:{key}'] = got
    counts = {}
    for outcome in seen.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    print('\nkinds:', len(RUNS) + len(REFUSED), 'files;', dict(sorted(counts.items())))
    assert not wrong, wrong
    assert 'stuck' not in counts


def test_manual_task_is_offered_with_a_done_action_and_no_form(designer):
    people = designer
    assert deploy(people['des'], {'manual_task.bpmn': (KINDS / 'manual_task.bpmn').read_bytes()}).status_code == 201
    started = people['cw1'].post('/api/v1/instances', json={'process_key': 'k_manual_task', 'township': 't01',
                                                            'data': {}}).get_json()
    (task,) = started['ready_tasks']
    row = db.session.get(Task, task['id'])
    assert (row.bpmn_id, row.form, row.role) == ('hand', None, 'township_caseworker')
    page = people['cw1'].get(f'/api/v1/tasks/{task["id"]}').get_json()
    assert page['form'] is None
    assert people['cw1'].post(f'/api/v1/tasks/{task["id"]}/claim').status_code == 200
    web, token = _signed_in(people, 'cw1', f'/tasks/{task["id"]}')
    page = web.get(f'/tasks/{task["id"]}').get_data(as_text=True)
    assert '办理完毕' in page and '提交办理' not in page
    done = web.post(f'/tasks/{task["id"]}', data={'csrf_token': token})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    assert standing(started['id']) == 'finished'
    assert db.session.get(Task, task['id']).completed_by == 'cw1'


def test_message_without_variable_deploys_with_a_warning(designer):
    r = deploy(designer['des'], {'message_no_variable.bpmn': (KINDS / 'message_no_variable.bpmn').read_bytes()})
    assert r.status_code == 201
    (warning,) = r.get_json()['warnings']
    assert (warning['file'], warning['line'], warning['element']) == ('message_no_variable.bpmn', 3, 'm_k_plain')
    assert 'messageVariable' in warning['message']


def _signed_in(people, username, page):
    """A browser-like client signed in as `username`, and the CSRF token of `page`."""
    import re
    client = people.app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get('/login').get_data(as_text=True)).group(1)
    r = client.post('/login', data={'username': username, 'password': PASSWORD, 'csrf_token': token})
    assert r.status_code == 302
    return client, re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).get_data(as_text=True)).group(1)


def test_designer_page_answers_hostile_and_unsupported_files_with_a_problem_table(designer):
    client, token = _signed_in(designer, 'des', '/designer')
    for name in ('doctype_entity.bpmn', 'dmn12.dmn', 'service_task.bpmn', 'not_executable.bpmn'):
        r = client.post('/designer/preview', content_type='multipart/form-data', data={
            'csrf_token': token, 'files': [(BytesIO((KINDS / name).read_bytes()), name)]})
        assert r.status_code == 422, (name, r.status_code)
        assert name in r.get_data(as_text=True)
    r = client.post('/designer/preview', content_type='multipart/form-data', follow_redirects=True, data={
        'csrf_token': token, 'files': [(BytesIO((KINDS / 'message_no_variable.bpmn').read_bytes()),
                                        'message_no_variable.bpmn')]})
    assert r.status_code == 200 and '缺少 spiffworkflow:messageVariable' in r.get_data(as_text=True)


def test_a_correlated_receive_takes_the_message_addressed_to_its_case(designer):
    """SpiffArena's correlation keys: the send set the case's key; the API's message (sent to this case by id) is caught."""
    people = designer
    assert deploy(people['des'], {'correlation.bpmn': (KINDS / 'correlation.bpmn').read_bytes()}).status_code == 201
    started = people['cw1'].post('/api/v1/instances', json={'process_key': 'k_correlation', 'township': 't01',
                                                            'data': {}}).get_json()
    assert standing(started['id']) == 'waiting_message'
    r = people['cw1'].post(f"/api/v1/instances/{started['id']}/messages/k_answer",
                           json={'payload': {'ref': 'Q-1', 'eligible': True}})
    assert r.status_code == 200, r.get_json()
    assert standing(started['id']) == 'finished'


def test_a_registered_service_that_fails_at_start_is_a_clear_422(designer, monkeypatch):
    from service.engine import service_operators

    def lookup(params):
        raise ConnectionError('户籍系统无响应')
    monkeypatch.setitem(service_operators.OPERATORS, 'hukou/Lookup', lookup)
    people = designer
    assert deploy(people['des'], {'service_task.bpmn': (KINDS / 'service_task.bpmn').read_bytes()}).status_code == 201
    r = people['cw1'].post('/api/v1/instances', json={'process_key': 'k_service_task', 'township': 't01', 'data': {}})
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body['details']['element'] == 'lookup' and '户籍系统无响应' in body['message']
