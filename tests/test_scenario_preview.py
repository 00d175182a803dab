"""The deploy preview runs the scenarios of what it previews (API field `scenarios`, the designer page):
a lane moved in dibao_a shows which scenarios no longer hold and where; a scenario file uploaded
beside the diagram is the one that runs."""
import json

import pytest

from service.services import repository

from .api_helpers import ROOT, add_people
from .test_deploy_bundles import DIBAO_A, edited_dibao_a, preview

SCENARIOS = json.loads((ROOT / 'processes' / 'delegated' / 'dibao_a.scenarios.json').read_text(encoding='utf-8'))


@pytest.fixture
def des(make_app, monkeypatch):
    app = make_app()
    with app.app_context():
        repository.deploy(repository.read_tree(ROOT / 'processes'), 'tester', only={'delegated/dibao_a.bpmn'})
        people = add_people(app, monkeypatch)
        yield people['des']


def test_a_moved_lane_fails_the_scenarios_that_complete_the_moved_task(des):
    result = preview(des, [('delegated/dibao_a.bpmn', edited_dibao_a())])
    run = result['scenarios']
    assert run['failed'] >= 1 and run['passed'] >= 1, run
    failed = [r for r in run['results'] if not r['passed']]
    # 出具批准通知书 moved to the leader's lane: the caseworker of the scenario may not do it any more;
    # and the publicity, now 5 days, is over when a scenario expects it still running on day 6.
    lane = [r for r in failed if '只能由镇街分管领导办理' in r['message']]
    assert lane and {r['element'] for r in lane} == {'issue_approval_notice'}, failed
    assert any('预期停在' in r['message'] for r in failed), failed
    assert all(r['file'] == 'delegated/dibao_a.scenarios.json' for r in run['results'])


def test_an_uploaded_scenario_file_runs_instead_of_the_one_on_disk(des):
    one = dict(SCENARIOS, scenarios=[dict(SCENARIOS['scenarios'][1], expect={'status': 'running'})])
    text = DIBAO_A.replace('add_days(publicity_started_at, 7)', 'add_days(publicity_started_at, 5)')
    result = preview(des, [('delegated/dibao_a.bpmn', text),
                           ('delegated/dibao_a.scenarios.json', json.dumps(one, ensure_ascii=False))])
    run = result['scenarios']
    assert [(r['name'], r['passed']) for r in run['results']] == [(SCENARIOS['scenarios'][1]['name'], False)]
    assert '预期案件状态为 running' in run['results'][0]['message']
