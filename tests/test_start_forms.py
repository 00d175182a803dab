"""Seed 002 「共同生活的家庭成员必须签订《家庭经济状况核对授权书》」 and the 守信承诺 (seed 001):
a case cannot start without both, over the API or on the page; an agent application (代办)
records the agent. The rules are in the start forms' JSON schemas, nothing in Python.
"""
import json
import re

import pytest

from service.demo import demo_id_number

from .api_helpers import dibao_people  # noqa: F401  (fixture)
from .security_helpers import APPLICATION, web_login
from .api_helpers import PASSWORD, ROOT

AGENT = {'name': '李四', 'id_number': demo_id_number(7), 'relation': '儿子', 'power_of_attorney': True}


def _start(client, data, key='dibao_a'):
    return client.post('/api/v1/instances', json={'process_key': key, 'township': 't01', 'data': data})


@pytest.mark.parametrize('bad, field', [
    ({k: v for k, v in APPLICATION.items() if k != 'commitment_signed'}, 'commitment_signed'),
    (dict(APPLICATION, commitment_signed=False), 'commitment_signed'),
    (dict(APPLICATION, authorization_signed=False), 'authorization_signed'),
    (dict(APPLICATION, applied_by='agent'), 'agent'),
    (dict(APPLICATION, applied_by='agent', agent={k: v for k, v in AGENT.items() if k != 'id_number'}),
     'agent.id_number'),
    (dict(APPLICATION, applied_by='agent', agent=dict(AGENT, power_of_attorney=False)), 'agent.power_of_attorney'),
    (dict(APPLICATION, applied_by='village', agent={'power_of_attorney': True}), 'agent.name'),
])
def test_the_api_refuses_a_start_without_the_signatures_or_the_agent(dibao_people, bad, field):
    r = _start(dibao_people['cw1'], bad)
    assert r.status_code == 422, r.json
    assert field in r.json['details'], r.json['details']


def test_an_agent_application_records_the_agent(dibao_people):
    r = _start(dibao_people['cw1'], dict(APPLICATION, applied_by='agent', agent=AGENT))
    assert r.status_code == 201, r.json
    r = _start(dibao_people['cw1'], dict(APPLICATION, applied_by='village',
                                         agent={'name': '幸福社区居委会', 'power_of_attorney': True}))
    assert r.status_code == 201, r.json


@pytest.mark.parametrize('name', ['dibao_application.schema.json', 'temporary_aid_application.schema.json',
                                  'tekun_application.schema.json'])
def test_every_start_form_requires_both_signatures(name):
    schema = json.loads((ROOT / 'forms' / name).read_text(encoding='utf-8'))
    assert {'authorization_signed', 'commitment_signed'} <= set(schema['required'])
    for field in ('authorization_signed', 'commitment_signed'):
        assert schema['properties'][field]['const'] is True


def test_the_page_refuses_with_field_errors(dibao_people):
    client = dibao_people.app.test_client()
    assert web_login(client, 'cw1', PASSWORD).status_code == 302
    page = client.get('/cases/new').get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {'csrf_token': token, 'process_key': 'dibao_a', 'applicant.name': '王秀兰',
            'applicant.id_number': '11010519491231002X', 'applicant.phone': '13800001234',
            'applicant.address': '城关镇幸福社区3号楼', 'applicant.household_size': '3',
            'authorization_signed': 'true'}
    r = client.post('/cases/new', data=form)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="f-commitment_signed-error"' in html
