"""Bad input of every class answers {error, message, details} with the right status, never a 5xx."""
import io
from pathlib import Path

from sqlalchemy import text

import pytest

from service.extensions import db
from service.models import AuditEntry

from .api_helpers import dibao_people, people, pre_verify, ready_tasks, start_core  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent


def _error(r, status, code=None):
    assert r.status_code == status, r.get_data(as_text=True)
    assert set(r.json) == {'error', 'message', 'details'}, r.json
    if code:
        assert r.json['error'] == code, r.json
    return r.json


def test_malformed_json_wrong_types_missing_fields(people):
    cw = people['cw1']
    _error(cw.post('/api/v1/instances', data='{"process_key": ', content_type='application/json',
                   headers={}), 400, 'malformed_json')
    d = _error(cw.post('/api/v1/instances', json={'township': 5, 'data': []}), 422, 'validation_error')['details']
    assert d == {'process_key': '必填', 'township': '应为文本', 'data': '应为对象'}
    _error(cw.post('/api/v1/instances', json=[1, 2]), 422)
    _error(cw.get('/api/v1/tasks?page=0'), 422)
    _error(cw.get('/api/v1/tasks?overdue=maybe'), 422)
    _error(cw.get('/api/v1/tasks?due_before=2026-13-01'), 422)
    _error(cw.post('/api/v1/instances', json={'process_key': 'nope', 'township': 't01'}), 404, 'definition_not_found')


def test_flask_404_405_are_json(people):
    _error(people['cw1'].get('/api/v1/no-such-thing'), 404, 'not_found')
    r = _error(people['cw1'].c.delete('/api/v1/clock', headers=people['cw1'].headers()), 405, 'method_not_allowed')
    assert r['message']
    _error(people['cw1'].get('/api/v1/instances/abc'), 404)


def test_unknown_task_twice_completed_and_other_township(people):
    cw = people['cw1']
    _error(cw.get('/api/v1/tasks/00000000-0000-0000-0000-000000000000'), 404, 'task_not_found')
    _error(cw.post('/api/v1/tasks/nope/complete', json={'data': {}}), 404, 'task_not_found')
    case = start_core(cw)
    accept = ready_tasks(cw, case['id'])['accept']
    assert cw.post(f"/api/v1/tasks/{accept['id']}/complete", json={'data': {'note': 'ok'}}).status_code == 200
    d = _error(cw.post(f"/api/v1/tasks/{accept['id']}/complete", json={'data': {'note': 'ok'}}), 409, 'task_not_ready')
    assert '已不在待办' in d['message']
    _error(cw.post(f"/api/v1/tasks/{accept['id']}/claim"), 409)
    other = start_core(people['cw2'], township='t02')
    missing = _error(cw.get('/api/v1/instances/999999'), 404)
    hidden = _error(cw.get(f"/api/v1/instances/{other['id']}"), 404)
    assert missing['error'] == hidden['error'] == 'instance_not_found'   # existence does not leak
    _error(cw.post(f"/api/v1/instances/{other['id']}/messages/objection", json={'payload': {}}), 404)


def test_message_no_case_waits_for_is_409(people):
    cw = people['cw1']
    case = start_core(cw)
    d = _error(cw.post(f"/api/v1/instances/{case['id']}/messages/supplement_received", json={'payload': {}}),
               409, 'not_waiting')
    assert d['details'] == {'waiting_for': []}
    _error(cw.post(f"/api/v1/instances/{case['id']}/messages/supplement_received", json={'payload': 'x'}), 422)


def test_form_errors_are_field_errors_in_chinese(dibao_people):
    cw = dibao_people['cw1']
    bad = {'applicant': {'name': '', 'id_number': '110105194912310021', 'phone': '12', 'household_size': 0},
           'authorization_signed': 'yes', 'extra': 1}
    d = _error(cw.post('/api/v1/instances', json={'process_key': 'dibao_a', 'township': 't01', 'data': bad}),
               422, 'validation_error')['details']
    assert d['applicant.id_number'] == '身份证号码无效（校验位或出生日期错误）'
    assert d['applicant.address'] == '必填'
    assert d['applicant.household_size'] == '不能小于 1'
    assert d['applicant.name'] == '必填'
    assert d['authorization_signed'] == '应为是/否'
    assert d['extra'] == '表单中没有这个字段'
    assert 'applicant.phone' in d
    good = {'applicant': {'name': '王秀兰', 'id_number': '11010519491231002X', 'phone': '13800001234',
                          'address': '城关镇', 'household_size': 2}, 'authorization_signed': True, 'commitment_signed': True}
    case = cw.post('/api/v1/instances', json={'process_key': 'dibao_a', 'township': 't01', 'data': good}).json
    pre_verify(cw, dibao_people['ver'], case['id'])
    task = ready_tasks(cw, case['id'])['check_materials']
    d = _error(cw.post(f"/api/v1/tasks/{task['id']}/complete",
                       json={'data': {'acceptance': {'result': 'maybe', 'checked_on': '2026-02-30'}}}), 422)['details']
    assert d['acceptance.checked_on'].startswith('日期格式应为')
    assert d['acceptance.result'].startswith('应为以下之一')
    _error(cw.post(f"/api/v1/tasks/{task['id']}/complete", json={'data': {'acceptance': {
        'result': 'complete', 'checked_on': '20260928'}}}), 422)
    # Nothing was written by the refused attempts.
    assert ready_tasks(cw, case['id'])['check_materials']['state'] == 'ready'


def test_tokens_expired_forged_disabled(people, monkeypatch):
    from service.services import auth, users
    cw = people['cw1']
    good = cw.token
    for header in ('Bearer ' + good[:-2] + 'xx', 'Bearer nonsense', 'Basic abc', 'Bearer'):
        _error(cw.c.get('/api/v1/tasks', headers={'Authorization': header}), 401)
    # A token no session row was made for: forged.
    import secrets
    forged = secrets.token_urlsafe(32)
    _error(cw.c.get('/api/v1/tasks', headers={'Authorization': f'Bearer {forged}'}), 401, 'token_invalid')
    # Expired: JIUZHU_SESSION_MAX_HOURS later (wall time; the case clock does not extend tokens).
    from service.clock import ManualClock
    wall = people.app.extensions['jiuzhu.wall_clock'] = ManualClock()
    wall.advance(hours=8, seconds=5)
    _error(cw.get('/api/v1/tasks'), 401, 'token_expired')
    # An ended session stays ended; a new token works.
    _error(cw.get('/api/v1/tasks'), 401, 'session_ended')
    cw.token, _ = auth.issue_token(auth.find_user('cw1'))
    assert cw.get('/api/v1/tasks').status_code == 200
    users.set_active('cw1', False, 'tester')
    _error(cw.get('/api/v1/tasks'), 401, 'user_disabled')
    _error(people.anonymous.post('/api/v1/auth/token', json={'username': 'cw1', 'password': 'secret-pass-1'}), 401)


def test_login_success_and_failure_are_audited(people):
    anon = people.anonymous
    r = anon.c.post('/api/v1/auth/token', json={'username': 'ld1', 'password': 'secret-pass-1'},
                    environ_base={'REMOTE_ADDR': '192.0.2.7'})
    assert r.status_code == 200 and r.json['token_type'] == 'Bearer'
    token = r.json['token']
    assert anon.c.get('/api/v1/users/me', headers={'Authorization': f'Bearer {token}'}).json['role'] == 'township_leader'
    _error(anon.post('/api/v1/auth/token', json={'username': 'ld1', 'password': 'wrong'}), 401, 'invalid_credentials')
    _error(anon.post('/api/v1/auth/token', json={'username': 'ghost', 'password': 'x'}), 401, 'invalid_credentials')
    rows = db.session.query(AuditEntry).filter(AuditEntry.action.in_(['login', 'login_failed'])).order_by(
        AuditEntry.id).all()
    assert [(e.actor, e.action) for e in rows] == [('ld1', 'login'), ('ld1', 'login_failed'), ('ghost', 'login_failed')]
    assert rows[0].remote_addr == '192.0.2.7'
    assert 'wrong' not in str([e.detail for e in rows])


def test_clock_put_refused_on_a_real_clock(make_app, monkeypatch):
    from .api_helpers import add_people
    app = make_app(JIUZHU_CLOCK='real')
    with app.app_context():
        p = add_people(app, monkeypatch)
        d = _error(p['adm'].put('/api/v1/clock', json={'now': '2030-01-01T00:00:00+08:00'}), 409, 'clock_not_manual')
        assert 'JIUZHU_CLOCK=manual' in d['message']
        assert p['adm'].get('/api/v1/clock').json['manual'] is False
        _error(p['adm'].put('/api/v1/clock', json={'now': '2030-01-01T00:00:00'}), 422)


def test_audit_log_refuses_update_and_delete_in_the_database(people):
    start_core(people['cw1'])
    for sql in ('UPDATE audit_log SET actor = :a', 'DELETE FROM audit_log'):
        with pytest.raises(Exception) as err:
            db.session.execute(text(sql), {'a': 'x'})
            db.session.flush()
        db.session.rollback()
        assert 'append-only' in str(err.value)
    assert db.session.query(AuditEntry).count() >= 1


def test_sandbox_escape_in_an_uploaded_diagram_is_rejected_with_file_line_element(people):
    des = people['des']
    # Uploads are validated together with the deployed tree: here, the test processes and their forms.
    people.app.config['JIUZHU_PROCESSES_DIR'] = str(ROOT / 'tests' / 'processes')
    src = (ROOT / 'tests' / 'fixtures' / 'invalid' / 'script_refused.bpmn').read_bytes()
    escape = src.replace(b'import os', b"__import__('os').system('id')")
    r = des.c.post('/api/v1/process-definitions/preview', headers=des.headers(), content_type='multipart/form-data',
                   data={'files': (io.BytesIO(escape), 'escape.bpmn')})
    d = _error(r, 422, 'invalid_definition')['details']
    assert any(p['file'] == 'escape.bpmn' and p['element'] == 'calc' and p['line'] for p in d), d
    # A good upload deploys after its preview, and a second identical one changes nothing.
    note = (ROOT / 'tests' / 'processes' / 'core_case.bpmn').read_bytes().replace(b'id="core_case"', b'id="core_copy"')
    note = note.replace(b'processRef="core_case"', b'processRef="core_copy"')
    for expect_new in (True, False):
        r = des.c.post('/api/v1/process-definitions/preview', headers=des.headers(),
                       content_type='multipart/form-data', data={'files': (io.BytesIO(note), 'core_copy.bpmn')})
        assert r.status_code == 200, r.json
        assert [p['status'] for p in r.json['processes']] == ['new_process' if expect_new else 'unchanged']
        r = des.c.post('/api/v1/process-definitions', headers=des.headers(), content_type='multipart/form-data',
                       data={'files': (io.BytesIO(note), 'core_copy.bpmn'), 'preview_token': r.json['preview_token']})
        assert r.status_code == 201, r.json
        assert [d['key'] for d in r.json['deployed' if expect_new else 'unchanged']] == ['core_copy']
    _error(des.c.post('/api/v1/process-definitions', headers=des.headers(), content_type='multipart/form-data',
                      data={}), 422)


def test_input_no_database_can_hold_is_refused_not_a_500(people):
    # Found by the schemathesis run on PostgreSQL: NUL characters and ids past 32 bits.
    cw = people['cw1']
    _error(cw.get('/api/v1/instances/43918592859'), 404)
    _error(cw.get('/api/v1/tasks?instance_id=43918592859'), 422)
    _error(cw.get('/api/v1/tasks?township=t%00'), 400, 'bad_request')
    _error(people.anonymous.post('/api/v1/auth/token', json={'username': 'a\u0000', 'password': 'x'}), 400)


def test_behind_a_proxy_the_audit_log_records_the_client(make_app):
    """With JIUZHU_PROXIES=1 the address nginx forwards is the one audited; without it, never."""
    from sqlalchemy import select

    from service.extensions import db
    from service.models import AuditEntry
    for proxies, expected in ((1, '203.0.113.7'), (0, '127.0.0.1')):
        app = make_app(JIUZHU_PROXIES=proxies)
        with app.app_context():
            app.test_client().post('/api/v1/auth/token', json={'username': 'nobody', 'password': 'x'},
                                   headers={'X-Forwarded-For': '203.0.113.7'})
            entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
            assert entry.action.startswith('login') and entry.remote_addr == expected


def test_a_process_error_at_start_is_422_with_the_element_not_500(make_app, monkeypatch):
    """monthly_roster started by hand without its period: NameError in a timer expression at start."""
    from .api_helpers import add_people
    app = make_app()
    with app.app_context():
        from service.services import repository
        source = (ROOT / 'processes' / 'common' / 'monthly_roster.bpmn').read_bytes()
        repository.deploy({'common/monthly_roster.bpmn': source}, 'tester')
        people = add_people(app, monkeypatch)
        r = people['cw1'].post('/api/v1/instances', json={'process_key': 'monthly_roster', 'township': 't01',
                                                          'data': {}})
        assert r.status_code == 422, r.json
        assert r.json['error'] == 'process_error'
        assert r.json['details']['element'] and 'period_start' in r.json['details']['error']
        assert people['cw1'].get('/api/v1/instances?process_key=monthly_roster').json['total'] == 0


def test_error_responses_are_documented_without_wrapping_the_view(people):
    """`errors()` documents each status; the view runs through no wrapper per status (each asked Flask
    on every request whether the next one was a coroutine)."""
    doc = people.anonymous.get('/api/v1/openapi.json').json
    responses = doc['paths']['/api/v1/tasks/{task_id}/complete']['post']['responses']
    assert set(responses) == {'200', '400', '401', '403', '404', '409', '422', 'default'}
    for status in ('400', '401', '403', '404', '409', '422'):
        assert responses[status]['content']['application/json']['schema'] == {'$ref': '#/components/schemas/Error'}
    assert responses['409']['description'] == '与当前状态冲突'
    view, layers = people.app.view_functions['tasks.complete'], []
    while view is not None:
        layers.append(view.__code__.co_filename.replace('\\', '/').rsplit('/', 2)[-2])
        view = getattr(view, '__wrapped__', None)
    assert layers == ['webargs', 'flask_smorest', 'flask_smorest', 'api'], layers
