"""The unified notices (统一行政文书): real dibao_a cases through the services, pages over HTTP."""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from service.documents import notices
from service.extensions import db
from service.models import AuditEntry, Task, Timer
from service.services import auth, repository, runtime, tasks, users

from .flow_helpers import decline_move, COLLECTIVE

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = 'secret-pass-1'
ID_NUMBER = '11010519491231002X'
APPLICATION = {
    'applicant': {'name': '王秀兰', 'id_number': ID_NUMBER, 'phone': '13800000000',
                  'address': '城关镇幸福社区3号楼', 'household_size': 3},
    'authorization_signed': True, 'commitment_signed': True,
}
COMPLETE = {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}}
DELIVERY = {'issued_on': '2026-09-28', 'delivery': 'in_person'}
SURVEY = {'survey': {'surveyed_on': '2026-09-29', 'investigators': ['李明', '赵强'], 'per_capita_income': 420,
                     'findings': '家庭无稳定收入', 'signed_by_applicant': True}}
FILES = ('delegated/dibao_a.bpmn',)
MISSING = ['户口簿复印件', '家庭成员收入证明', '残疾人证复印件']


@pytest.fixture
def app(make_app):
    app = make_app(JIUZHU_DISTRICT_NAME='山亭区')
    with app.app_context():
        # Only the diagram these tests run: a colleague's half-edited diagram elsewhere must not fail them.
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({name: tree[name] for name in FILES}, 'tester')
        for username, name, role, township in (
                ('cw1', '李经办', 'township_caseworker', 't01'), ('ld1', '张镇长', 'township_leader', 't01'),
                ('cw2', '刘经办', 'township_caseworker', 't02'), ('sup', '吴科长', 'county_supervisor', 'county')):
            users.add_user(username, name, role, township, PASSWORD, 'tester')
        db.session.commit()
        yield app


def bearer(username):
    token, _ = auth.issue_token(auth.find_user(username))
    return {'Authorization': f'Bearer {token}'}


def page(app, url, username='cw1'):
    response = app.test_client().get(url, headers=bearer(username) if username else {})
    return response, response.get_data(as_text=True)


def ready(case):
    return {t.bpmn_id: t for t in db.session.scalars(
        select(Task).where(Task.instance_id == case.id, Task.state == 'ready'))}


def do(case, bpmn_id, data=None, actor='cw1'):
    open_tasks = ready(case)
    assert bpmn_id in open_tasks, f'{bpmn_id} not ready; ready: {sorted(open_tasks)}'
    tasks.complete_task(open_tasks[bpmn_id].id, data or {}, actor)
    db.session.refresh(case)


def start(eligible=True):
    """A dibao_a case past its verification (seed 001: before acceptance), at the acceptance check."""
    case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'cw1')
    do(case, 'request_verification', {'verification_request': {'requested_on': '2026-09-28',
                                                               'authorization_confirmed': True}})
    runtime.deliver_message(case.id, 'verification_result',
                            {'eligible': eligible, 'report_no': 'HD-2026-017', 'summary': '名下登记商品住房两套'},
                            'hedui')
    db.session.refresh(case)
    return case


def accept_and_investigate(case):
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': dict(DELIVERY, document_no='〔2026〕城民救受字第 000001 号')})
    do(case, 'home_survey', SURVEY, actor='va1')


def expire_publicity(clock, case):
    timer = db.session.scalar(select(Timer).where(Timer.instance_id == case.id, Timer.bpmn_id == 'publicity_expired',
                                                  Timer.state == 'waiting'))
    clock.set((timer.due_at + timedelta(seconds=1)).isoformat())
    runtime.fire_due_timers(case.id)
    db.session.refresh(case)


def kinds(app, case, username='cw1'):
    response, html = page(app, f'/cases/{case.id}/notices', username)
    assert response.status_code == 200, html
    return html


# ------------------------------------------------------------------ acceptance

def test_acceptance_notice_is_a_draft_until_issued_then_shows_the_recorded_number(app, clock):
    case = start()
    response, html = page(app, f'/cases/{case.id}/notices/acceptance_notice')
    assert response.status_code == 404 and '本案尚无受理通知书' in html
    do(case, 'check_materials', COMPLETE)

    listing = kinds(app, case)
    assert '受理通知书' in listing and '待出具' in listing and '一次性告知书' not in listing
    response, html = page(app, f'/cases/{case.id}/notices/acceptance_notice')
    assert response.status_code == 200
    assert response.headers['Content-Type'].startswith('text/html')
    # Before issuing: the number derived from the township's sequence of cases, dated today,
    # with a screen-only note.
    assert '〔2026〕城民救受字第 1 号' in html
    assert '待出具' in html and '2026年9月28日' in html
    assert '城关镇人民政府' in html and '王秀兰' in html and '决定予以受理' in html
    # The applicant's own notice: their ID number in full, never the phone number.
    assert html.count(ID_NUMBER) == 2 and '13800000000' not in html   # the facts table and the receipt
    assert '/static/web/notice.css' in html and '（盖章）' in html and '经办人（签字）' in html
    # The A4 layout is a static file (the Content-Security-Policy allows no inline styles).
    assert '@page { size: A4; margin: 20mm; }' in app.test_client().get('/static/web/notice.css').get_data(as_text=True)

    do(case, 'issue_acceptance_notice', {'acceptance_notice': {
        'document_no': '〔2026〕城民救受字第 000077 号', 'issued_on': '2026-09-29', 'delivery': 'in_person'}})
    response, html = page(app, f'/cases/{case.id}/notices/acceptance_notice')
    assert '〔2026〕城民救受字第 000077 号' in html and '2026年9月29日' in html and '当面送达' in html
    assert 'draft-note' not in html   # the class is in notice.css now, not in the page
    listing = kinds(app, case)
    assert '已出具' in listing and 'cw1' in listing and '〔2026〕城民救受字第 000077 号' in listing


# ------------------------------------------------------------------ one-time notice

def test_one_time_notice_lists_every_missing_item_and_the_deadline(app, clock):
    case = start()
    do(case, 'check_materials', {'acceptance': {'result': 'incomplete', 'missing_items': MISSING,
                                                'checked_on': '2026-09-28'}})
    do(case, 'notify_missing', {'missing_materials_notice': dict(
        DELIVERY, document_no='〔2026〕城民救补字第 000009 号', deadline='2026-10-12')})
    response, html = page(app, f'/cases/{case.id}/notices/missing_materials_notice')
    assert response.status_code == 200
    assert all(f'<li>{item}</li>' in html for item in MISSING)
    assert '以上共3项为需要补正的全部材料' in html and '请于2026年10月12日前' in html
    assert '补正材料一次性告知书' in html and '〔2026〕城民救补字第 000009 号' in html

    # The supplement arrives and the case is accepted: the notice still says what was missing then.
    runtime.deliver_message(case.id, 'supplement_received', {'items': MISSING}, 'cw1')
    db.session.refresh(case)
    do(case, 'check_materials', COMPLETE)
    _, html = page(app, f'/cases/{case.id}/notices/missing_materials_notice')
    assert all(f'<li>{item}</li>' in html for item in MISSING)
    listing = kinds(app, case)
    assert '补正材料一次性告知书' in listing and '受理通知书' in listing


# ------------------------------------------------------------------ refusal

def test_refusal_gives_the_reason_and_the_remedies(app, clock):
    case = start()
    do(case, 'check_materials', {'acceptance': {'result': 'ineligible', 'reason': '申请人户籍不在本镇',
                                                'checked_on': '2026-09-28'}})
    do(case, 'issue_refusal', {'refusal_notice': dict(DELIVERY, document_no='', reason='申请人户籍不在本镇')})
    response, html = page(app, f'/cases/{case.id}/notices/refusal_notice')
    assert response.status_code == 200
    assert '不予受理告知书' in html and '决定不予受理' in html and '申请人户籍不在本镇' in html
    assert html.count('申请人户籍不在本镇') == 1     # the same reason twice is said once
    assert f'〔2026〕城民救不受字第 1 号' in html   # no recorded number: derived
    assert '六十日内向山亭区人民政府申请行政复议' in html and '六个月内向山亭区人民法院提起行政诉讼' in html


# ------------------------------------------------------------------ verification

def test_verification_ineligible_names_the_right_to_reexamination_and_where(app, clock):
    case = start(eligible=False)
    do(case, 'notify_verification_ineligible', {'verification_ineligible_notice': dict(
        DELIVERY, document_no='〔2026〕城民救核字第 000003 号', reason='名下有两套住房', reexamination_right=True)})
    response, html = page(app, f'/cases/{case.id}/notices/verification_ineligible_notice')
    assert response.status_code == 200
    assert '家庭经济状况核对结果告知书' in html and 'HD-2026-017' in html
    assert '名下有两套住房' in html and '名下登记商品住房两套' in html
    # dibao_a (Fucheng) sends the re-examination to the county: the diagram's lane says so.
    assert '向山亭区民政局申请复查' in html


# ------------------------------------------------------------------ decisions

def test_rejection_gives_reasons_and_remedies_with_the_bodies(app, clock):
    case = start()
    accept_and_investigate(case)
    do(case, 'township_confirmation', {'decision': {'approved': False, 'reasons': '家庭人均收入高于当地低保标准',
                                                    'decided_on': '2026-10-12'}, **COLLECTIVE}, actor='ld1')
    assert '不予确认通知书' in kinds(app, case)
    do(case, 'issue_rejection_notice', {'rejection_notice': dict(
        DELIVERY, issued_on='2026-10-13', document_no='〔2026〕城民救不确字第 000004 号',
        reason='经核算家庭月人均收入 920 元', remedies='可依法申请行政复议或提起行政诉讼')})
    decline_move(case, 'marginal_dibao')
    assert case.status == 'completed'
    response, html = page(app, f'/cases/{case.id}/notices/rejection_notice')
    assert response.status_code == 200
    assert '最低生活保障不予确认通知书' in html and '2026年10月12日决定不予确认' in html
    assert '家庭人均收入高于当地低保标准' in html and '经核算家庭月人均收入 920 元' in html
    assert '六十日内向山亭区人民政府申请行政复议' in html
    assert '六个月内向山亭区人民法院提起行政诉讼' in html
    assert '〔2026〕城民救不确字第 000004 号' in html and '2026年10月13日' in html
    assert '王秀兰' in html and ID_NUMBER in html
    response, _ = page(app, f'/cases/{case.id}/notices/approval_notice')
    assert response.status_code == 404


def test_approval_shows_amount_and_start_month_after_the_publicity(app, clock):
    case = start()
    accept_and_investigate(case)
    do(case, 'township_confirmation', {'decision': {'approved': True, 'amount': 650, 'decided_on': '2026-10-12'},
                                       **COLLECTIVE}, actor='ld1')
    # During the village publicity the approval may still be revoked: no approval notice yet.
    response, html = page(app, f'/cases/{case.id}/notices/approval_notice')
    assert response.status_code == 404 and '本案尚无审核确认通知书' in html
    response, html = page(app, f'/cases/{case.id}/notices/dibao_certificate')
    assert response.status_code == 404 and '本案尚无最低生活保障证' in html
    expire_publicity(clock, case)
    do(case, 'issue_approval_notice', {'approval_notice': dict(
        DELIVERY, issued_on='2026-10-20', document_no='〔2026〕城民救确字第 000005 号', certificate_no='DB-T01-0042',
        monthly_amount=650, start_month='2026-11')})
    response, html = page(app, f'/cases/{case.id}/notices/approval_notice')
    assert response.status_code == 200
    assert '城关镇人民政府' in html and '最低生活保障审核确认通知书' in html
    assert '650.00 元' in html and '2026年11月起' in html and 'DB-T01-0042' in html
    assert '2026年10月12日决定予以确认' in html and '2026年10月20日' in html
    assert '王秀兰' in html and ID_NUMBER in html and '3 人' in html
    assert '〔2026〕城民救确字第 000005 号' in html

    listing = kinds(app, case)
    for title in ('受理通知书', '审核确认通知书'):
        assert title in listing
    assert '不予确认通知书' not in listing and '核对结果告知书' not in listing

    # The category's certificate (低保证), printed from the issued notice: the same decision, nothing more.
    assert '最低生活保障证' in listing
    response, html = page(app, f'/cases/{case.id}/notices/dibao_certificate')
    assert response.status_code == 200
    assert '最低生活保障证' in html and '证号：DB-T01-0042' in html and '城关镇人民政府' in html
    assert '王秀兰' in html and ID_NUMBER in html and '3 人' in html and '650.00 元' in html
    assert '2026年11月起' in html and '〔2026〕城民救确字第 000005 号' in html and '审核确认' in html


def test_revoked_after_a_publicity_objection_says_so(app, clock):
    case = start()
    accept_and_investigate(case)
    do(case, 'township_confirmation', {'decision': {'approved': True, 'amount': 650, 'decided_on': '2026-10-12'},
                                       **COLLECTIVE}, actor='ld1')
    runtime.deliver_message(case.id, 'objection', {'reason': '隐瞒车辆', 'raised_by': '村民'}, 'va1')
    db.session.refresh(case)
    do(case, 'county_investigation', {'objection_review': {'result': 'approval_revoked',
                                                           'findings': '家庭成员名下有小型轿车一辆'}}, actor='sup')
    response, html = page(app, f'/cases/{case.id}/notices/rejection_notice')
    assert response.status_code == 200
    assert '决定撤销原决定' in html and '经山亭区民政局调查核实' in html and '家庭成员名下有小型轿车一辆' in html
    assert '六十日内向山亭区人民政府申请行政复议' in html
    assert page(app, f'/cases/{case.id}/notices/approval_notice')[0].status_code == 404


def test_sup_reads_any_township_and_the_reads_are_audited(app, clock):
    case = start()
    do(case, 'check_materials', COMPLETE)
    response, _ = page(app, f'/cases/{case.id}/notices/acceptance_notice', 'sup')
    assert response.status_code == 200
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == case.id,
                                                        AuditEntry.action == 'read_case')).all()[-1]
    assert entry.actor == 'sup' and entry.detail['notice'] == 'acceptance_notice'
    assert entry.detail['document_no'] == '〔2026〕城民救受字第 1 号'


# ------------------------------------------------------------------ access

def test_another_township_gets_404_and_strangers_are_sent_to_sign_in(app, clock):
    case = start()
    do(case, 'check_materials', COMPLETE)
    for url in (f'/cases/{case.id}/notices', f'/cases/{case.id}/notices/acceptance_notice'):
        response, html = page(app, url, 'cw2')
        assert response.status_code == 404 and '没有编号为' in html
        response, html = page(app, url, None)
        assert response.status_code in (302, 401)
        if response.status_code == 302:
            assert 'login' in response.headers['Location']
        else:
            assert '请先登录' in html
    response, html = page(app, '/cases/99999/notices', 'cw1')
    assert response.status_code == 404
    response, html = page(app, f'/cases/{case.id}/notices/no_such_kind', 'cw1')
    assert response.status_code == 404 and '本案尚无这种文书' in html
    response = app.test_client().get(f'/cases/{case.id}/notices', headers={'Authorization': 'Bearer forged'})
    assert response.status_code == 401


def test_a_web_session_works_too(app, clock):
    case = start()
    client = app.test_client()
    user = auth.find_user('cw1')
    with client.session_transaction() as session:
        session.update(sid=auth.start_session(user, 'web'), csrf='x')
    response = client.get(f'/cases/{case.id}/notices')
    assert response.status_code == 200 and '本案尚未办理到出具文书的环节' in response.get_data(as_text=True)


# ------------------------------------------------------------------ pure parts

def test_formatting_rules():
    assert notices.format_date('2026-10-08') == '2026年10月8日'
    # A timestamp prints as the Shanghai day: 20:00 UTC is already the next morning there.
    assert notices.format_date(datetime(2026, 9, 30, 20, 0, tzinfo=timezone.utc)) == '2026年10月1日'
    assert notices.next_month('2026-12-15') == (2027, 1) and notices.next_month(date(2026, 10, 31)) == (2026, 11)
    assert notices.document_number('rejection_notice', 123, '河', '2026-03-01') == '〔2026〕河民救不确字第 123 号'
    assert notices.format_amount(650) == '650.00' and notices.format_amount(None) == ''


def test_diagram_facts_follow_the_lanes():
    lanes = {'区民政局': 'county_supervisor', '镇街经办人': 'township_caseworker'}
    facts = notices.diagram_facts([({'notice': 'approval_notice'}, '镇街经办人'),
                                   ({'reexamination': 'true'}, '镇街经办人')], lanes)
    assert facts == {'produced': {'approval_notice'}, 'county_reexamines': False}
    facts = notices.diagram_facts([({'reexamination': 'true'}, '区民政局')], lanes)
    assert facts['county_reexamines'] is True


def _row(bpmn_id, notice, state, data=None, at=None):
    from types import SimpleNamespace
    at = at or datetime(2026, 10, 12, 2, 0, tzinfo=timezone.utc)
    return SimpleNamespace(id=bpmn_id, bpmn_id=bpmn_id, name=bpmn_id, properties={'notice': notice} if notice else {},
                           state=state, data=data, created_at=at, completed_at=at if state == 'completed' else None,
                           completed_by='cw1' if state == 'completed' else None)


def test_legacy_decisions_are_the_county_s_and_say_approve():
    district = {'name': '山亭区', 'bureau': '山亭区民政局', 'reconsideration_body': '山亭区人民政府',
                'court': '山亭区人民法院'}
    data = dict(APPLICATION, decision={'approved': False, 'reasons': '收入超标', 'decided_on': '2026-10-12'})
    rows = [_row('issue_rejection_notice', 'rejection_notice', 'ready')]
    ctx = notices.build('rejection_notice', {'id': 7, 'sequence': 7, 'created_at': '2026-09-28', 'category': 'dibao',
                                             'variant': 'legacy', 'status': 'running'},
                        data, rows, 'draft', township={'name': '城关镇人民政府', 'short': '城'}, district=district,
                        county_reexamines=False, today=date(2026, 10, 13))
    assert ctx['issuer'] == '山亭区民政局' and ctx['title'] == '最低生活保障不予批准通知书' and ctx['verb'] == '批准'
    assert ctx['document_no'] == '〔2026〕城民救不确字第 7 号' and ctx['issued_on'] == '2026年10月13日'
    assert ctx['reasons'] == ['收入超标'] and '山亭区人民法院' in ctx['remedies']


def test_a_case_without_a_category_names_the_household_s():
    # A county escalated review of a household carries no category of its own: the notice takes the household's.
    district = {'name': '山亭区', 'bureau': '山亭区民政局', 'reconsideration_body': '山亭区人民政府',
                'court': '山亭区人民法院'}
    data = dict(APPLICATION, household={'category': 'tekun'},
                decision={'approved': False, 'reasons': '收入超标', 'decided_on': '2026-10-12'})
    rows = [_row('issue_rejection_notice', 'rejection_notice', 'ready')]
    ctx = notices.build('rejection_notice', {'id': 8, 'sequence': 8, 'created_at': '2026-09-28', 'category': None,
                                             'variant': 'legacy', 'status': 'running'},
                        data, rows, 'draft', township={'name': '城关镇人民政府', 'short': '城'}, district=district,
                        county_reexamines=False, today=date(2026, 10, 13))
    assert '特困' in ctx['title'], ctx['title']


def test_a_notice_no_task_produces_follows_the_data():
    # e.g. dibao_b: verification clearly ineligible, but no task in the diagram issues that notice.
    data = dict(APPLICATION, verification={'eligible': False, 'summary': '名下有车辆'})
    case = {'id': 1, 'status': 'running'}
    found = notices.available(case, data, [], produced={'acceptance_notice', 'approval_notice'})
    assert [n['kind'] for n in found] == ['verification_ineligible_notice']
    # A decision only counts once the case has ended (publicity may still revoke it).
    data = dict(APPLICATION, decision={'approved': True, 'amount': 500})
    assert notices.available(case, data, [], produced=set()) == []
    assert [n['kind'] for n in notices.available(dict(case, status='completed'), data, [], produced=set())] == [
        'approval_notice']
