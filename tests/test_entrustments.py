"""The entrustment registry decides which flow a new case starts on (issue 12, items 4 and 5).

Seed 002: a written 委托书 with 授权事项、权限范围、责任边界、委托期限, renewed yearly; seed 004: a township
goes through preparation → transition → full delegation on set dates. Real app, real database.
"""
from datetime import date

import pytest
from sqlalchemy import select

from service.models import AuditEntry, ProcessInstance
from service.services import repository

from .api_helpers import ROOT, add_people

DIAGRAMS = ('legacy/dibao.bpmn', 'delegated/dibao_a.bpmn', 'delegated/dibao_b.bpmn')
APPLICATION = {
    'applicant': {'name': '王秀兰', 'id_number': '11010519491231002X', 'phone': '13800001234',
                  'address': '城关镇幸福社区3号楼', 'household_size': 3},
    'authorization_signed': True, 'commitment_signed': True,
}


@pytest.fixture
def world(make_app, monkeypatch):
    """The three dibao flows deployed; people in t01, t02 and the county; no entrustment yet."""
    import tests.api_helpers as helpers
    monkeypatch.setattr(helpers, 'entrust', lambda *a, **kw: None)
    app = make_app()
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({name: tree[name] for name in DIAGRAMS}, 'tester')
        people = add_people(app, monkeypatch)
        yield app, people


def _start(client, township='t01', **how):
    return client.post('/api/v1/instances', json={'township': township, 'data': APPLICATION, **how})


def _entrust(sup, township='t01', **fields):
    body = {'township': township, 'category': 'dibao', 'phase': 'full', 'variant': 'delegated_a',
            'valid_from': '2026-01-01', 'valid_to': '2026-12-31', 'letter_no': '区民委〔2026〕1号',
            'matters': '最低生活保障审核确认', 'scope_text': '本镇辖区', 'responsibility': '承担审核确认行为的后果',
            'signed_by': '区民政局局长', 'signed_on': '2025-12-20', **fields}
    return sup.post('/api/v1/entrustments', json=body)


def _process_of(app, instance_id):
    with app.app_context():
        from service.extensions import db
        return db.session.get(ProcessInstance, instance_id).process_key


def test_without_an_entrustment_a_township_starts_only_the_legacy_flow(world):
    app, p = world
    refused = _start(p['cw1'], process_key='dibao_a')
    assert refused.status_code == 422, refused.json
    assert refused.json['error'] == 'not_entrusted'
    assert '委托书' in refused.json['message']
    by_category = _start(p['cw1'], category='dibao')
    assert by_category.status_code == 201, by_category.json
    assert _process_of(app, by_category.json['id']) == 'dibao_legacy'


def test_the_entrustment_in_force_picks_the_flow_and_only_that_one(world):
    app, p = world
    assert _entrust(p['sup']).status_code == 201
    started = _start(p['cw1'], category='dibao')
    assert started.status_code == 201, started.json
    assert _process_of(app, started.json['id']) == 'dibao_a'
    assert started.json['id']
    for other in ('dibao_b', 'dibao_legacy'):
        refused = _start(p['cw1'], process_key=other)
        assert refused.status_code == 422 and refused.json['error'] == 'not_entrusted', other
    # The other township has no 委托书: still the county's flow.
    assert _start(p['cw2'], process_key='dibao_a', township='t02').status_code == 422


def test_a_township_entrusted_only_for_dibao_cannot_start_temporary_aid_on_the_delegated_flow(world):
    app, p = world
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({n: tree[n] for n in ('delegated/temporary_aid.bpmn', 'legacy/temporary_aid.bpmn')
                           if n in tree} | {n: s for n, s in tree.items() if n.endswith('.dmn')}, 'tester')
    assert _entrust(p['sup']).status_code == 201
    refused = p['cw1'].post('/api/v1/instances', json={'township': 't01', 'process_key': 'temporary_aid_delegated',
                                                        'data': {}})
    assert refused.status_code == 422
    assert refused.json['error'] == 'not_entrusted'


def test_switching_phase_on_a_date_changes_new_cases_and_leaves_running_ones(world):
    app, p = world
    clock = app.extensions['jiuzhu.clock']
    # Preparation until 10-15 (the county still confirms), full delegation from 10-16 (seed 004's steps).
    assert _entrust(p['sup'], phase='preparation', variant=None, valid_to='2026-10-15').status_code == 201
    assert _entrust(p['sup'], valid_from='2026-10-16', letter_no='区民委〔2026〕9号').status_code == 201
    before = _start(p['cw1'], category='dibao')
    assert _process_of(app, before.json['id']) == 'dibao_legacy'
    clock.set('2026-10-16T09:00:00+08:00')
    after = _start(p['cw1'], category='dibao')
    assert _process_of(app, after.json['id']) == 'dibao_a'
    # The case started before the switch keeps its flow and goes on.
    old = p['sup'].get(f"/api/v1/instances/{before.json['id']}")
    assert old.status_code == 200 and old.json['process_key'] == 'dibao_legacy'
    assert old.json['status'] == 'running'
    report = p['sup'].get('/api/v1/reports/phases?township=t01').json['items']
    assert {(r['variant'], r['month'], r['cases']) for r in report} == {('legacy', '2026-09', 1),
                                                                        ('delegated_a', '2026-10', 1)}


def test_terms_that_overlap_are_refused_and_every_change_is_audited(world):
    app, p = world
    first = _entrust(p['sup'])
    assert first.status_code == 201
    overlap = _entrust(p['sup'], valid_from='2026-06-01', valid_to=None)
    assert overlap.status_code == 409 and overlap.json['error'] == 'entrustment_overlap'
    entrustment = first.json
    ended = p['sup'].put(f"/api/v1/entrustments/{entrustment['id']}",
                         json={'version': entrustment['version'], 'valid_to': '2026-05-31'})
    assert ended.status_code == 200, ended.json
    stale = p['sup'].put(f"/api/v1/entrustments/{entrustment['id']}",
                         json={'version': entrustment['version'], 'valid_to': '2026-04-30'})
    assert stale.status_code == 409
    assert _entrust(p['sup'], valid_from='2026-06-01', valid_to=None).status_code == 201
    revoked = p['sup'].post(f"/api/v1/entrustments/{entrustment['id']}/revoke",
                            json={'version': ended.json['version'], 'reason': '镇街机构调整'})
    assert revoked.status_code == 200 and revoked.json['revoked_by'] == 'sup'
    with app.app_context():
        from service.extensions import db
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like('entrustment_%'))
                                     .order_by(AuditEntry.id)).all()
        changed = db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == 'entrustment_update')).one()
    assert actions == ['entrustment_create', 'entrustment_update', 'entrustment_create', 'entrustment_revoke']
    assert changed['changed'] == {'valid_to': ['2026-12-31', '2026-05-31']}


def test_only_the_county_keeps_the_registry_and_townships_read_their_own(world):
    app, p = world
    assert _entrust(p['sup']).status_code == 201
    assert _entrust(p['sup'], township='t02').status_code == 201
    for name in ('cw1', 'ld1', 'ver', 'des'):
        assert _entrust(p[name], township='t02', valid_from='2027-01-01').status_code == 403, name
    own = p['ld1'].get('/api/v1/entrustments').json['items']
    assert {e['township'] for e in own} == {'t01'} and own[0]['in_force'] is True
    other_id = p['sup'].get('/api/v1/entrustments?township=t02').json['items'][0]['id']
    assert p['ld1'].get(f'/api/v1/entrustments/{other_id}').status_code == 404
    assert p['cw1'].get('/api/v1/reports/phases').status_code == 403


def test_bad_entrustments_get_field_errors(world):
    app, p = world
    bad = _entrust(p['sup'], phase='full', variant=None)
    assert bad.status_code == 422 and 'variant' in bad.json['details']['fields']
    bad = _entrust(p['sup'], valid_from='2026-12-31', valid_to='2026-01-01')
    assert bad.status_code == 422 and 'valid_to' in bad.json['details']['fields']
    bad = _entrust(p['sup'], variant='delegated_z')
    assert bad.status_code == 422 and 'variant' in bad.json['details']['fields']
    assert _entrust(p['sup'], phase='sometime').status_code == 422
    with app.app_context():
        from service.models import Entrustment
        from service.extensions import db
        assert db.session.scalar(select(Entrustment.id)) is None
    assert date(2026, 1, 1)


# ------------------------------------------------------------------ the pages

def test_the_county_registers_and_revokes_on_the_page_and_leaders_read_their_own(make_app, monkeypatch):
    from .security_helpers import demo_app, page_csrf, signed_in
    app = demo_app(make_app, monkeypatch)
    sup = signed_in(app, 'jianguan')
    page = sup.get('/entrustments').get_data(as_text=True)
    assert '委托书登记' in page and '城关镇' in page and '完全下放' in page and 'id="entrustment-form"' in page
    token = page_csrf(sup, '/entrustments')
    form = {'csrf_token': token, 'township': 't01', 'category': 'dibao', 'phase': 'full', 'variant': 'delegated_a',
            'valid_from': '2027-01-01', 'valid_to': '2027-12-31', 'letter_no': '区民委〔2027〕1号'}
    bad = sup.post('/entrustments', data=dict(form, valid_from='明年'))
    assert bad.status_code == 422 and '日期格式' in bad.get_data(as_text=True)
    assert sup.post('/entrustments', data=form).status_code == 302
    again = sup.post('/entrustments', data=form)
    assert again.status_code == 409 and '期限重叠' in again.get_data(as_text=True)
    report = sup.get('/entrustments/report')
    assert report.status_code == 200 and '分阶段办件情况' in report.get_data(as_text=True)

    leader = signed_in(app, 't02_lingdao')
    own = leader.get('/entrustments').get_data(as_text=True)
    assert '河西街道' in own and '城关镇' not in own and 'entrustment-form' not in own
    assert leader.post('/entrustments', data=dict(form, csrf_token=page_csrf(leader, '/entrustments'))).status_code == 403
    worker = signed_in(app, 't01_jingban')
    assert '委托书' not in worker.get('/').get_data(as_text=True)
    assert worker.get('/entrustments').status_code == 403


def test_a_case_started_in_the_transition_phase_carries_the_phase_its_diagram_reads(world):
    """Seed 004's 下放过渡: the start data says so; the delegated diagrams then put 县级指导 before
    each township decision (tests/test_flow_dibao_*.py, test_flow_temporary_aid.py, test_flow_tekun.py)."""
    from service.services import runtime
    app, p = world
    assert _entrust(p['sup'], phase='transition', variant='delegated_b').status_code == 201
    started = _start(p['cw1'], category='dibao')
    assert started.status_code == 201, started.json
    assert _process_of(app, started.json['id']) == 'dibao_b'
    assert runtime.case_data(started.json['id'])['entrustment_phase'] == 'transition'
