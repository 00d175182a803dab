"""The web pages without a browser: who may see what, CSRF, error pages, the form renderer, the figures."""
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.security import generate_password_hash

from service import calendar, demo
from service.extensions import db
from service.models import ProcessInstance
from service.services import cases, repository, supervision, users
from service.services.auth import find_user
from service.services.context import clock
from service.web import formrender

from .flow_helpers import COLLECTIVE
from .security_helpers import pre_verify_case

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = ('legacy/dibao.bpmn', 'delegated/dibao_a.bpmn', 'delegated/dibao_b.bpmn')
APPLICATION = {
    'applicant': {'name': '王秀兰', 'id_number': '11010519491231002X', 'phone': '13800001234',
                  'address': '城关镇幸福社区3号楼', 'household_size': 3},
    'authorization_signed': True, 'commitment_signed': True,
}


@pytest.fixture
def app(make_app, monkeypatch):
    monkeypatch.setattr(users, 'hash_password', lambda pw: generate_password_hash(pw, method='pbkdf2:sha256:1000'))
    app = make_app()
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({name: tree[name] for name in DIAGRAMS}, 'tester')
        demo.load_users()
        demo.load_entrustments()
        yield app


def token_of(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def signed_in(app, username):
    client = app.test_client()
    token = token_of(client.get('/login').get_data(as_text=True))
    r = client.post('/login', data={'username': username, 'password': demo.DEMO_PASSWORD, 'csrf_token': token})
    assert r.status_code == 302, r.get_data(as_text=True)
    client.csrf = token_of(client.get('/cases').get_data(as_text=True)) if username != 'sheji' else \
        token_of(client.get('/designer').get_data(as_text=True))
    return client


def start(township='t01', data=None, business_key=None, verified=True):
    """A dibao_a case, by default past its verification (seed 001: before acceptance)."""
    user = find_user(f'{township}_jingban')
    case = cases.start_case(user, 'dibao_a', township, data or APPLICATION, business_key)
    if verified:
        pre_verify_case(case.id, township)
    return case


def test_pages_need_a_session(app):
    client = app.test_client()
    r = client.get('/tasks')
    assert r.status_code == 302 and '/login?next=/tasks' in r.headers['Location']
    page = client.get('/login').get_data(as_text=True)
    assert '登录' in page and 'lang="zh-CN"' in page


def test_wrong_password_stays_on_the_login_page(app):
    client = app.test_client()
    token = token_of(client.get('/login').get_data(as_text=True))
    r = client.post('/login', data={'username': 't01_jingban', 'password': 'nope', 'csrf_token': token})
    assert r.status_code == 401 and '用户名或密码错误' in r.get_data(as_text=True)


def test_another_townships_case_is_not_found(app):
    case = start('t01')
    task = cases.ready_tasks(case.id)[0]
    other = signed_in(app, 't02_jingban')
    for url in (f'/cases/{case.id}', f'/tasks/{task.id}'):
        r = other.get(url)
        assert r.status_code == 404, url
        assert '页面不存在' in r.get_data(as_text=True) or '没有' in r.get_data(as_text=True)
    r = other.post(f'/tasks/{task.id}/claim', data={'csrf_token': other.csrf})
    assert r.status_code == 404
    assert signed_in(app, 't01_jingban').get(f'/cases/{case.id}').status_code == 200


def test_close_relative_is_kept_out(app):
    case = start('t01', dict(APPLICATION, close_relative_of_staff='t01_jingban2'))
    r = signed_in(app, 't01_jingban2').get(f'/cases/{case.id}')
    assert r.status_code == 403 and '回避' in r.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(app):
    case = start('t01')
    task = cases.ready_tasks(case.id)[0]
    client = signed_in(app, 't01_jingban')
    for data in ({}, {'csrf_token': 'forged'}):
        r = client.post(f'/tasks/{task.id}/claim', data=data)
        assert r.status_code == 400 and '安全校验失败' in r.get_data(as_text=True)
    db.session.expire_all()
    assert cases.ready_tasks(case.id)[0].assignee is None
    anonymous = app.test_client()
    r = anonymous.post('/login', data={'username': 't01_jingban', 'password': demo.DEMO_PASSWORD})
    assert r.status_code == 400
    assert client.post('/logout').status_code == 400


@pytest.mark.parametrize('username, url', [
    ('t01_jingban', '/supervision'),
    ('t01_jingban', '/designer'),
    ('t01_lingdao', '/supervision'),
    ('hedui', '/supervision'),
    ('sheji', '/tasks'),
    ('sheji', '/cases'),
    ('jianguan', '/cases/new'),
    ('jianguan', '/designer'),
])
def test_role_restricted_pages(app, username, url):
    r = signed_in(app, username).get(url)
    assert r.status_code == 403
    assert '无权' in r.get_data(as_text=True)


def test_clock_moves_only_for_supervisors_and_admins(app):
    client = signed_in(app, 't01_jingban')
    assert 'value="week"' not in client.get('/tasks').get_data(as_text=True)
    r = client.post('/clock', data={'csrf_token': client.csrf, 'action': 'week'})
    assert r.status_code == 403
    sup = signed_in(app, 'jianguan')
    assert 'value="week"' in sup.get('/supervision').get_data(as_text=True)
    r = sup.post('/clock', data={'csrf_token': sup.csrf, 'action': 'workday', 'next': '//evil.example/'})
    assert r.status_code == 302 and r.headers['Location'] == '/'      # no open redirect
    page = sup.get('/supervision').get_data(as_text=True)
    assert '2026-09-29 09:00' in page                                    # Monday → Tuesday, Shanghai time


def test_role_home_pages_and_navigation(app):
    assert signed_in(app, 'jianguan').get('/').headers['Location'].endswith('/supervision')
    assert signed_in(app, 'sheji').get('/').headers['Location'].endswith('/designer')
    page = signed_in(app, 't01_xieli').get('/tasks').get_data(as_text=True)
    nav = page.split('<nav', 1)[1].split('</nav>', 1)[0]
    assert '新申请' in nav and '流程设计' not in nav and '监管' not in nav


def test_unknown_addresses(app):
    client = signed_in(app, 't01_jingban')
    r = client.get('/no-such-page')
    assert r.status_code == 404 and '页面不存在' in r.get_data(as_text=True)
    r = client.get('/api/v1/no-such-thing')
    assert r.status_code == 404 and r.is_json and r.json['error'] == 'not_found'


def test_bpmn_js_is_served_from_node_modules(app):
    from service.web.vendor import bpmn_js_installed
    client = signed_in(app, 't01_jingban')
    r = client.get('/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js')
    if bpmn_js_installed():
        assert r.status_code == 200 and b'BpmnJS' in r.data
    else:
        assert r.status_code == 404 and 'npm ci' in r.get_data(as_text=True)
    assert client.get('/vendor/bpmn-js/../../package.json').status_code == 404


def test_task_page_keeps_typed_values_and_shows_errors(app):
    case = start('t01')
    task = cases.ready_tasks(case.id)[0]
    client = signed_in(app, 't01_jingban')
    client.post(f'/tasks/{task.id}/claim', data={'csrf_token': client.csrf})
    r = client.post(f'/tasks/{task.id}', data={'csrf_token': client.csrf, 'acceptance.result': 'ineligible',
                                                'acceptance.checked_on': '2026-13-01'})
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert '日期格式应为 YYYY-MM-DD' in page and 'value="2026-13-01"' in page
    assert re.search(r'id="f-acceptance-reason-error">必填<', page)
    r = client.post(f'/tasks/{task.id}', data={'csrf_token': client.csrf, 'acceptance.result': 'complete',
                                                'acceptance.checked_on': '2026-09-28'})
    assert r.status_code == 302 and r.headers['Location'] == '/tasks'


def test_case_page_masks_numbers_and_marks_the_diagram(app):
    case = start('t01')
    page = signed_in(app, 't01_jingban').get(f'/cases/{case.id}').get_data(as_text=True)
    assert '110105********002X' in page and '11010519491231002X' not in page.split('id="diagram-xml"')[0]
    assert '"active": ["check_materials"' in page or '"check_materials"' in page
    assert 'bpmn-navigated-viewer.production.min.js' in page


# ------------------------------------------------------------------ the form renderer

DECISION = {
    'type': 'object',
    'properties': {'decision': {'type': 'object', 'title': '决定', 'properties': {
        'approved': {'type': 'boolean', 'title': '批准'},
        'amount': {'type': 'number', 'title': '金额'},
        'people': {'type': 'integer'},
        'kind': {'type': 'string', 'oneOf': [{'const': 'a', 'title': '甲'}, {'const': 'b', 'title': '乙'}]},
        'names': {'type': 'array', 'items': {'type': 'string'}},
        'level': {'type': 'integer', 'enum': [1, 2], 'enumNames': ['一级', '二级']},
        'signed': {'type': 'boolean'},
    }, 'required': ['approved']}},
    'required': ['decision'],
}
UI = {'decision': {'ui:order': ['kind', '*'], 'signed': {'ui:widget': 'checkbox'}}}


def test_form_renderer_fields_and_parsing():
    fields = formrender.fields(DECISION, UI)
    group = fields[0]
    assert group.kind == 'group' and group.title == '决定'
    kinds = {f.path: f.kind for f in group.children}
    assert [f.path for f in group.children][0] == 'decision.kind'
    assert kinds == {'decision.kind': 'select', 'decision.approved': 'boolean', 'decision.amount': 'number',
                     'decision.people': 'integer', 'decision.names': 'list', 'decision.level': 'select',
                     'decision.signed': 'checkbox'}
    level = next(f for f in group.children if f.path == 'decision.level')
    assert level.options == [('1', '一级'), ('2', '二级')]
    form = MultiDict({'decision.approved': 'true', 'decision.amount': '650.5', 'decision.people': '三',
                      'decision.kind': 'b', 'decision.names': '李明\n\n 赵强 ', 'decision.level': '2'})
    assert formrender.parse(DECISION, form, UI) == {'decision': {
        'approved': True, 'amount': 650.5, 'people': '三', 'kind': 'b', 'names': ['李明', '赵强'], 'level': 2,
        'signed': False}}
    assert formrender.parse(DECISION, MultiDict(), UI) == {'decision': {'signed': False}}
    placed, loose = formrender.place_errors(fields, {'decision.names.0': '应为文本', 'decision.people': '应为整数',
                                                     'stray': '表单中没有这个字段'})
    assert placed == {'decision.names': '应为文本', 'decision.people': '应为整数'}
    assert loose == ['stray：表单中没有这个字段']
    values = formrender.values_from_data(DECISION, {'decision': {'approved': False, 'names': ['甲', '乙'],
                                                                 'level': 1}})
    assert values == {'decision.approved': 'false', 'decision.names': '甲\n乙', 'decision.level': '1'}


def test_forms_prefill_defaults_case_data_and_today_and_keep_known_data_read_only(app):
    from service.services import forms
    intake = formrender.prefill(forms.load('temporary_aid_intake.schema.json'), {}, '2026-09-28')
    assert intake['dibao_standard'] == '900' and intake['intake.accepted_on'] == '2026-09-28'
    deadline = formrender.prefill(forms.load('missing_materials_notice.schema.json'), {}, '2026-09-28')
    assert 'missing_materials_notice.deadline' not in deadline       # a deadline is not "today"
    backfill = forms.load('temporary_aid_backfill.schema.json')
    case = {'applicant': {'name': '王秀兰', 'id_number': '11010519491231002X'},
            'first_aid': {'amount': 1500, 'paid_on': '2026-09-27'}}
    known = formrender.fixed(backfill, case)
    assert known == {'registration.recipient_name': '王秀兰', 'registration.recipient_id_number': '11010519491231002X',
                     'registration.amount': 1500, 'registration.paid_on': '2026-09-27'}
    fields = formrender.mark_fixed(formrender.fields(backfill), backfill, known)
    shown = {f.path: f.fixed_text for f in fields[0].children}
    assert shown['registration.recipient_id_number'] == '110105********002X'
    assert shown['registration.reason'] is None
    # What is posted for a known field is ignored: the case's value is sent.
    posted = formrender.parse(backfill, MultiDict({'registration.recipient_name': '别人', 'registration.reason': '火灾'}))
    data = formrender.with_fixed(posted, known)
    assert data['registration'] == {'recipient_name': '王秀兰', 'recipient_id_number': '11010519491231002X',
                                    'amount': 1500, 'paid_on': '2026-09-27', 'reason': '火灾'}


def test_people_statuses_and_processes_in_words(app):
    from types import SimpleNamespace

    from service.web import fmt, people
    with app.test_request_context():
        assert people.name('t01_jingban') == '李经办（城关镇） · 镇街经办人'
        assert people.name('hedui') == '孙核对（区核对中心）'
        assert str(people.person('t01_jingban')) == '<span class="person" title="t01_jingban">李经办（城关镇） · 镇街经办人</span>'
        assert people.name('system:calendar') == '系统（每月自动发起）' and people.name(None) == '—'
        assert ('t01_jingban2', '赵经办（城关镇） · 镇街经办人') in people.staff_options('t01')
        assert not [u for u, _ in people.staff_options('t01') if u.startswith('t02_')]
    assert fmt.timer_state(SimpleNamespace(kind='deadline', state='cancelled')) == '按期完成'
    assert fmt.timer_state(SimpleNamespace(kind='wait', state='waiting')) == '计时中'
    assert fmt.variant('delegated_a', 'dibao') == '下放 A（审批后村内公示）'
    assert fmt.variant('delegated_a', 'temporary_aid') == '下放（镇街审核确认）'
    roster = SimpleNamespace(key='monthly_roster', name='月度保障名册报送（备案）', version=1, category='roster')
    assert fmt.definition(roster) == '月度保障名册报送（备案） · 第 1 版' and fmt.category('roster') == '月度名册与发放'


def test_every_form_renders(app):
    from service.services import forms
    for path in sorted(forms.forms_dir().glob('*.schema.json')):
        fields = formrender.fields(forms.load(path.name))
        assert fields, path.name
        assert all(f.kind != 'text' or f.title for f in fields)


# ------------------------------------------------------------------ supervision figures

def _do(case, bpmn_id, data, username):
    worker = find_user(username)
    task = next(t for t in cases.ready_tasks(case.id) if t.bpmn_id == bpmn_id)
    cases.claim(worker, task.id)
    cases.complete(worker, task.id, data)


def test_township_table_median_working_days(app, clock):
    supervisor = find_user('jianguan')
    decided, open_case = start('t01'), start('t02')
    _do(decided, 'check_materials', {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}}, 't01_jingban')
    _do(decided, 'issue_acceptance_notice', {'acceptance_notice': {
        'document_no': '1', 'issued_on': '2026-09-28', 'delivery': 'in_person'}}, 't01_jingban')
    assert supervision.township_table(supervisor)[0]['median_days'] is None      # accepted, not decided
    _do(decided, 'home_survey', {'survey': {'surveyed_on': '2026-09-29', 'investigators': ['李明', '赵强'],
                                            'per_capita_income': 420, 'findings': '无收入',
                                            'signed_by_applicant': True}}, 't01_jingban2')
    clock.set('2026-10-09T10:00:00+08:00')      # Monday 28 Sep → Friday 9 Oct across National Day
    _do(decided, 'township_confirmation', {'decision': {'approved': True, 'amount': 650, 'decided_on': '2026-10-09'},
                                           **COLLECTIVE}, 't01_lingdao')
    rows = {r['township']: r for r in supervision.township_table(supervisor)}
    expected = calendar.working_days_between('2026-09-28T09:00:00+08:00', '2026-10-09T10:00:00+08:00')
    assert rows['t01']['median_days'] == expected and rows['t01']['decided'] == 1
    assert rows['t01']['delegated'] == 1 and rows['t01']['legacy'] == 0
    assert rows['t02'] == dict(rows['t02'], open=1, overdue=0, median_days=None)
    assert [r['township'] for r in supervision.township_table(supervisor, township='t02')] == ['t02']
    assert supervision.township_table(supervisor, variant='legacy') == []
    assert set(supervision.case_summaries(supervisor, [decided.id, open_case.id])) == {decided.id, open_case.id}
    assert set(supervision.case_summaries(find_user('t02_jingban'), [decided.id, open_case.id])) == {open_case.id}
    page = signed_in(app, 'jianguan').get('/supervision').get_data(as_text=True)
    assert '<svg class="chart"' in page and f'{expected} 个工作日' in page


def test_times_read_in_shanghai():
    from service.web import fmt
    assert fmt.when('2026-09-28T01:00:00+00:00') == '2026-09-28 09:00'
    assert fmt.due('2026-10-20T16:00:00+00:00') == '2026-10-20 24:00'    # 24:00 of the last working day
    assert fmt.due('2026-10-20T17:30:00+00:00') == '2026-10-21 01:30'
    assert fmt.when(None) == '' and fmt.due(None) == ''


def test_leader_extends_a_running_deadline_from_the_case_page(app):
    from service.services import tasks as task_service
    case = start('t01')
    cw = find_user('t01_jingban')
    for bpmn_id, data in (('check_materials', {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}}),
                          ('issue_acceptance_notice', {'acceptance_notice': {
                              'document_no': '城民救〔2026〕1号', 'issued_on': '2026-09-28', 'delivery': 'in_person'}})):
        row = next(t for t in cases.ready_tasks(case.id) if t.bpmn_id == bpmn_id)
        task_service.claim(row.id, cw.username)
        cases.complete(cw, row.id, data)
    caseworker_page = signed_in(app, 't01_jingban').get(f'/cases/{case.id}').get_data(as_text=True)
    assert '延长时限' not in caseworker_page            # only the confirming authority decides an extension
    leader = signed_in(app, 't01_lingdao')
    page = leader.get(f'/cases/{case.id}').get_data(as_text=True)
    assert 'deadlines/deadline/extend' in page and '人户分离' in page
    bad = leader.post(f'/cases/{case.id}/deadlines/deadline/extend', follow_redirects=True,
                      data={'working_days': '20', 'reason': 'boredom', 'csrf_token': leader.csrf})
    assert '未能延长时限' in bad.get_data(as_text=True)
    ok = leader.post(f'/cases/{case.id}/deadlines/deadline/extend', follow_redirects=True,
                     data={'working_days': '20', 'reason': 'separated_household', 'note': '在外务工',
                           'csrf_token': leader.csrf})
    assert '办理时限已延长为受理后 20 个工作日' in ok.get_data(as_text=True)
    assert '2026-10-30 24:00' in ok.get_data(as_text=True)       # 20 working days from 09-28


def test_verifier_sees_the_cases_waiting_for_a_report(app):
    from service.services import tasks as task_service
    waiting = start('t01', business_key='T01-WAIT', verified=False)
    untouched = start('t02', business_key='T02-NEW', verified=False)
    cw = find_user('t01_jingban')
    for bpmn_id, data in (('request_verification', {'verification_request': {
                              'requested_on': '2026-09-28', 'authorization_confirmed': True}}),):
        row = next(t for t in cases.ready_tasks(waiting.id) if t.bpmn_id == bpmn_id)
        task_service.claim(row.id, cw.username)
        cases.complete(cw, row.id, data)
    assert [(c.business_key, names) for c, names in cases.cases_awaiting_answers(find_user('hedui'))] == \
        [('T01-WAIT', ['verification_result'])]
    assert cases.cases_awaiting_answers(find_user('t02_jingban')) == []   # nothing owed, other township
    # Waiting since the request went out (migration 0031: the inbox's order), not since any write.
    db.session.expire_all()
    assert db.session.get(ProcessInstance, waiting.id).waiting_since == clock().now()
    assert db.session.get(ProcessInstance, untouched.id).waiting_since is None
    page = signed_in(app, 'hedui').get('/tasks').get_data(as_text=True)
    assert '待登记的结果' in page and 'T01-WAIT' in page and 'T02-NEW' not in page
    api = app.test_client()
    from service.services.auth import issue_token
    token, _ = issue_token(find_user('hedui'))
    listed = api.get('/api/v1/instances?waiting_for=verification_result',
                     headers={'Authorization': f'Bearer {token}'}).json
    assert [(i['business_key'], i['waiting_for']) for i in listed['items']] == [('T01-WAIT', ['verification_result'])]
    assert untouched.id not in [i['id'] for i in listed['items']]
    # A part of a name, or one with quotes and wildcards, finds nothing (the condition compares whole
    # names: an array overlap on PostgreSQL, an escaped LIKE on SQLite).
    for odd in ('verification', "verif'ication_result", '%', ',', ''):
        r = api.get('/api/v1/instances', query_string={'waiting_for': odd}, headers={'Authorization': f'Bearer {token}'})
        assert r.status_code == 200 and (odd == '' or r.json['items'] == []), (odd, r.json)
