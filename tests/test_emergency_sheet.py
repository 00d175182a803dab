"""The emergency temporary-aid registration and signature sheet, and the backfill form that does
not ask again what the case knows."""
import pytest
from werkzeug.security import generate_password_hash

from service import demo
from service.documents import emergency
from service.services import cases, repository, users
from service.services.auth import find_user

from .test_flow_temporary_aid import APPLICATION, NOTICE, backfill, first_aid, intake
from .test_web_pages import ROOT, signed_in

DIAGRAMS = ('delegated/temporary_aid.bpmn', 'decisions/temporary_aid_ceiling.dmn')


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


def _do(case_id, bpmn_id, data, username='t01_jingban'):
    user = find_user(username)
    task = next(t for t in cases.ready_tasks(case_id) if t.bpmn_id == bpmn_id)
    cases.claim(user, task.id)
    cases.complete(user, task.id, data)
    return task


def test_amount_in_words():
    assert emergency.amount_in_words(2000) == '贰仟元整'
    assert emergency.amount_in_words(1005.5) == '壹仟零伍元伍角'
    assert emergency.amount_in_words(10010.07) == '壹万零壹拾元零柒分'
    assert emergency.amount_in_words(0.3) == '叁角'
    assert emergency.amount_in_words('abc') == ''


def test_the_backfill_prints_a_sheet_with_the_case_data_and_asks_nothing_known_again(app):
    case = cases.start_case(find_user('t01_jingban'), 'temporary_aid_delegated', 't01', APPLICATION)
    _do(case.id, 'intake', intake('emergency'))
    _do(case.id, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    cw = signed_in(app, 't01_jingban')
    assert cw.get(f'/cases/{case.id}/sheets/emergency_registration').status_code == 404   # not paid yet
    _do(case.id, 'first_aid', first_aid())
    backfill_task = next(t for t in cases.ready_tasks(case.id) if t.bpmn_id == 'backfill')
    cw.post(f'/tasks/{backfill_task.id}/claim', data={'csrf_token': cw.csrf})

    page = cw.get(f'/tasks/{backfill_task.id}').get_data(as_text=True)
    # Name, ID number, amount and date come from the case, read-only; the cause is filled in from the application.
    for path in ('registration.recipient_name', 'registration.recipient_id_number', 'registration.amount',
                 'registration.paid_on'):
        block = page.split(f'data-field="{path}"')[1].split('</div>')[0]
        assert '已从案件资料带入' in block and '<input' not in block, path
    assert '王秀兰' in page and '110105********002X' in page and '2000' in page
    reason = page.split('data-field="registration.reason"')[1].split('</div>')[0]
    assert '家中突发火灾，房屋和生活用品烧毁' in reason
    assert f'/cases/{case.id}/sheets/emergency_registration' in page and '打印登记及签字表' in page

    sheet = cw.get(f'/cases/{case.id}/sheets/emergency_registration')
    html = sheet.get_data(as_text=True)
    assert sheet.status_code == 200
    for text in ('临时救助（急难型）先行救助登记及签字表', '城关镇人民政府', '王秀兰', '11010519491231002X',
                 '火灾等灾害', '急难型', '家中突发火灾', '贰仟元整', '2,000.00', '2026年9月28日', '张华',
                 '受助人（或代领人）签字', '分管领导（签字）', '待补办', '〔2026〕城民救急字第 1 号'):
        assert text in html, text
    assert '13800000000' not in html       # the phone never prints
    assert '临时救助（急难型）先行救助登记及签字表' in cw.get(f'/cases/{case.id}/notices').get_data(as_text=True)
    assert 'sheets/emergency_registration' in cw.get(f'/cases/{case.id}').get_data(as_text=True)
    assert signed_in(app, 't02_jingban').get(f'/cases/{case.id}/sheets/emergency_registration').status_code == 404
    assert cw.get(f'/cases/{case.id}/sheets/other').status_code == 404

    # Submitted from the page: the known values are taken from the case, not from what was posted.
    form = {'csrf_token': cw.csrf, 'registration.reason': '家中突发火灾', 'registration.amount': '99999',
            **{f'signatures.{k}': 'true' for k in backfill()['signatures']}}
    r = cw.post(f'/tasks/{backfill_task.id}', data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    html = cw.get(f'/cases/{case.id}/sheets/emergency_registration').get_data(as_text=True)
    assert '待补办' not in html and '已登记签字' in html and '已登记加盖公章' in html and '99,999' not in html
