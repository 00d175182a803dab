"""故障案件 pages without a browser: the list, the case banner and the operator's forms.

fragile_case (tests/processes) fails on purpose at `compute` (核算金额) when the factor is 0.
"""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from service import demo
from service.extensions import db
from service.models import AuditEntry, ProcessInstance, Task
from service.scheduler.sweep import sweep_due
from service.services import repository, runtime, tasks, users

from .test_web_pages import signed_in

ROOT = Path(__file__).resolve().parent.parent
TEST_PROCESSES = ROOT / 'tests' / 'processes'
APPLICANT = {'name': '王秀兰', 'id_number': '11010519491231002X'}
OPERATORS = ('jianguan', 'admin')
OTHERS = ('t01_xieli', 't01_jingban', 't01_lingdao', 'hedui', 'sheji')
ACTIONS = {'retry': {'data': '{"factor": 2}'}, 'suspend': {'reason': '待核实'}, 'resume': {},
           'terminate': {'reason': '撤回', 'confirm': '1'}}


@pytest.fixture
def app(make_app, monkeypatch):
    monkeypatch.setattr(users, 'hash_password', lambda pw: generate_password_hash(pw, method='pbkdf2:sha256:1000'))
    app = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with app.app_context():
        repository.deploy(repository.read_tree(TEST_PROCESSES), 'tester')
        demo.load_users()
        yield app


def broken(township='t01'):
    case = runtime.start_instance('fragile_case', township, {'divisor': 4, 'applicant': APPLICANT},
                                  f'{township}_jingban')
    accept = db.session.scalar(select(Task.id).where(Task.instance_id == case.id, Task.bpmn_id == 'accept'))
    tasks.complete_task(accept, {'note': '齐全', 'factor': 0}, f'{township}_jingban')
    return case.id


def running():
    return runtime.start_instance('core_case', 't01', {'applicant': APPLICANT}, 't01_jingban').id


def status(instance_id):
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance_id).status


def actions_of(instance_id):
    db.session.expire_all()
    return [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.instance_id == instance_id)
                                                 .order_by(AuditEntry.id))]


def text(response):
    return response.get_data(as_text=True)


def nav(html):
    return html.split('<nav', 1)[1].split('</nav>', 1)[0]


def plain(html):
    """The words on the page (tags and attribute values removed), for the no-raw-values checks."""
    body = html.split('<main', 1)[1].split('</main>', 1)[0] if '<main' in html else html
    body = re.sub(r'<script.*?</script>', '', body, flags=re.S)
    return re.sub(r'<[^>]+>', ' ', body)


# ------------------------------------------------------------------ who sees what

def test_navigation_counts_open_incidents_for_operators_only(app):
    broken()
    broken('t02')
    for name in OPERATORS:
        html = text(signed_in(app, name).get('/cases'))
        link = nav(html).split('id="nav-incidents"', 1)[1].split('</a>', 1)[0]
        assert '故障案件' in link and '>2<' in link, name
    for name in OTHERS:
        page = signed_in(app, name).get('/designer' if name == 'sheji' else '/cases')
        assert '故障案件' not in nav(text(page)), name


@pytest.mark.parametrize('name', OTHERS)
def test_the_list_is_refused_to_other_roles(app, name):
    r = signed_in(app, name).get('/incidents')
    assert r.status_code == 403 and '无权' in text(r)


def test_the_list_names_case_step_line_message_trigger_and_person(app):
    iid = broken()
    html = text(signed_in(app, 'jianguan').get('/incidents'))
    row = html.split(f'data-case="{iid}"', 1)[1].split('</tr>', 1)[0]
    assert f'href="/cases/{iid}#case-banner"' in row
    assert '王秀兰' in row and '110105********002X' in row and '11010519491231002X' not in html
    assert '易错测试案件' in row and '第 1 版' in row and '城关镇' in row
    assert '核算金额' in row and 'title="流程图中的元素标识：compute"' in row
    assert 'data-label="行">2<' in row and 'ZeroDivisionError' in row
    assert '办理任务' in row and '李经办（城关镇）' in row
    words = plain(html)
    for raw in ('t01_jingban', 'None', 'fragile_case', 'process_error', 'complete'):
        assert raw not in words, raw


def test_a_failed_timer_is_shown_as_the_systems_doing(app, clock):
    case = runtime.start_instance('fragile_case', 't01', {'divisor': 4, 'applicant': APPLICANT}, 't01_jingban')
    clock.advance(timedelta(hours=3))
    sweep_due(app)
    html = text(signed_in(app, 'jianguan').get('/incidents'))
    row = html.split(f'data-case="{case.id}"', 1)[1].split('</tr>', 1)[0]
    assert '升级处理' in row and '定时器到期' in row and '系统自动' in row and 'system:timer' not in html
    banner = text(signed_in(app, 'jianguan').get(f'/cases/{case.id}')).split('id="case-banner"', 1)[1]
    assert '定时器到期时发生（系统自动）' in banner.split('</section>', 1)[0]


def test_the_list_filters_and_shows_how_an_incident_was_resolved(app):
    first, second = broken('t01'), broken('t02')
    sup = signed_in(app, 'jianguan')
    html = text(sup.get('/incidents?township=t02'))
    assert f'data-case="{second}"' in html and f'data-case="{first}"' not in html
    assert 'data-case' not in text(sup.get('/incidents?process=core_case'))
    r = sup.post(f'/cases/{first}/retry', data={'csrf_token': sup.csrf, 'data': '{"factor": 2}', 'note': '补录系数'})
    assert r.status_code == 302
    assert f'data-case="{first}"' not in text(sup.get('/incidents'))
    resolved = text(sup.get('/incidents?state=resolved'))
    row = resolved.split(f'data-case="{first}"', 1)[1].split('</tr>', 1)[0]
    assert '已重试' in row and '吴科长（区民政局）' in row and '补录系数' in row
    assert 'jianguan' not in plain(resolved)
    assert '没有待处理的故障案件' in text(sup.get('/incidents?township=t09'))
    assert text(sup.get('/incidents?state=bogus')).count('data-case=') == 1     # unknown filter: open ones


# ------------------------------------------------------------------ the case page

def test_caseworkers_see_the_banner_without_forms(app):
    iid = broken()
    html = text(signed_in(app, 't01_jingban').get(f'/cases/{iid}'))
    banner = html.split('id="case-banner"', 1)[1].split('</section>', 1)[0]
    assert '流程故障' in banner and '核算金额' in banner and '第 2 行' in banner and 'ZeroDivisionError' in banner
    assert '等待区民政局处理' in banner
    assert '/retry' not in html and '/terminate' not in html and '/suspend' not in html
    assert 'badge-incident">流程故障<' in html
    assert '流程故障，待办已暂停。' in html
    markers = re.search(r'id="diagram-markers">(.*?)</script>', html).group(1)
    assert '"failed": ["compute"]' in markers


def test_operators_get_the_forms_and_the_newest_version(app):
    iid = broken()
    sup = signed_in(app, 'jianguan')
    html = text(sup.get(f'/cases/{iid}'))
    banner = html.split('id="case-banner"', 1)[1].split('</section>', 1)[0]
    for action in ('retry', 'terminate'):
        form = banner.split(f'action="/cases/{iid}/{action}"', 1)[1].split('</form>', 1)[0]
        assert f'name="csrf_token" value="{sup.csrf}"' in form, action
    assert '/suspend' not in banner and '/resume' not in banner
    assert '已是最新版本（第 1 版）' in banner and 'name="latest_version"' not in banner
    assert '李经办（城关镇）' in banner and 't01_jingban' not in plain(banner)
    source = (TEST_PROCESSES / 'fragile_case.bpmn').read_text()
    repository.deploy({'fragile_case.bpmn': source.replace('base // factor', 'base // max(factor, 1)').encode()},
                      'sheji')
    banner = text(sup.get(f'/cases/{iid}')).split('id="case-banner"', 1)[1].split('</section>', 1)[0]
    assert 'name="latest_version" value="1" checked' in banner
    assert '迁移到最新版本：第 2 版' in banner and '本案现为第 1 版' in banner
    # A running case offers suspend and terminate; a completed one nothing.
    html = text(sup.get(f'/cases/{running()}'))
    assert '/suspend"' in html and '/terminate"' in html and '/retry"' not in html


@pytest.mark.parametrize('typed, error', [
    ('{factor: 2}', '不是有效的 JSON：第 1 行第 2 个字符附近有误'),
    ('[1, 2]', '应为 JSON 对象'),
    ('{"factor": NaN}', '不能使用 NaN'),
    ('"2"', '应为 JSON 对象'),
    ('{"": 1}', '字段名不能为空'),
])
def test_a_bad_data_correction_comes_back_with_a_chinese_field_error(app, typed, error):
    iid = broken()
    sup = signed_in(app, 'jianguan')
    r = sup.post(f'/cases/{iid}/retry', data={'csrf_token': sup.csrf, 'data': typed, 'note': '补录'})
    assert r.status_code == 422
    html = text(r)
    field = html.split('id="retry-data"', 1)[1].split('</div>', 1)[0]
    assert error in field and 'id="retry-data-error"' in field
    assert typed.replace('"', '&#34;') in field or typed in field            # what was typed is kept
    assert 'value="补录"' in html
    assert status(iid) == 'incident' and 'retry' not in actions_of(iid)


def test_retry_from_the_case_page_goes_on_and_is_audited(app):
    iid = broken()
    sup = signed_in(app, 'jianguan')
    r = sup.post(f'/cases/{iid}/retry', data={'csrf_token': sup.csrf, 'data': '{"factor": 2}', 'note': '补录系数'})
    assert r.status_code == 302 and r.headers['Location'].endswith(f'/cases/{iid}#case-banner')
    html = text(sup.get(f'/cases/{iid}'))
    assert '已重试，案件继续办理' in html and 'badge-running">办理中<' in html
    assert 'id="case-banner"' in html and '流程故障：本案已暂停办理' not in html
    assert '审核确认' in html.split('id="ready-tasks"', 1)[1].split('</section>', 1)[0]
    assert [a for a in actions_of(iid) if a != 'read_case'][-2:] == ['incident', 'retry']
    history = html.split('id="history"', 1)[1].split('</section>', 1)[0]
    assert '重试：补录系数' in history


def test_retry_on_the_newest_version_says_so(app):
    iid = broken()
    source = (TEST_PROCESSES / 'fragile_case.bpmn').read_text()
    repository.deploy({'fragile_case.bpmn': source.replace('base // factor', 'base // max(factor, 1)').encode()},
                      'sheji')
    sup = signed_in(app, 'admin')
    sup.post(f'/cases/{iid}/retry', data={'csrf_token': sup.csrf, 'latest_version': '1'})
    html = text(sup.get(f'/cases/{iid}'))
    assert '已重试，已迁移到第 2 版，案件继续办理' in html and '第 2 版' in html
    assert status(iid) == 'running'


def test_a_retry_that_fails_again_says_so(app):
    iid = broken()
    sup = signed_in(app, 'jianguan')
    r = sup.post(f'/cases/{iid}/retry', data={'csrf_token': sup.csrf})
    assert r.status_code == 302
    html = text(sup.get(f'/cases/{iid}'))
    assert '重试后仍然出错，已记为新的故障' in html and '流程故障：本案已暂停办理' in html
    assert '重试时发生（吴科长（区民政局））' in html


def test_suspend_resume_and_terminate_from_the_case_page(app):
    iid = running()
    sup = signed_in(app, 'jianguan')
    r = sup.post(f'/cases/{iid}/suspend', data={'csrf_token': sup.csrf, 'reason': ' '})
    assert r.status_code == 422 and '必填' in text(r).split('id="suspend"', 1)[1].split('</details>', 1)[0]
    assert status(iid) == 'running'
    assert sup.post(f'/cases/{iid}/suspend', data={'csrf_token': sup.csrf, 'reason': '待核实户籍'}).status_code == 302
    html = text(sup.get(f'/cases/{iid}'))
    banner = html.split('id="case-banner"', 1)[1].split('</section>', 1)[0]
    assert '本案已挂起' in banner and '待核实户籍' in banner and '吴科长（区民政局）' in banner
    assert f'action="/cases/{iid}/resume"' in banner and 'badge-suspended">已挂起<' in html
    cw_html = text(signed_in(app, 't01_jingban').get(f'/cases/{iid}'))
    assert '本案已挂起' in cw_html and '/resume' not in cw_html

    # Terminating needs a reason and the confirmation; both errors come back at once.
    r = sup.post(f'/cases/{iid}/terminate', data={'csrf_token': sup.csrf, 'reason': ''})
    assert r.status_code == 422
    form = text(r).split('id="terminate"', 1)[1].split('</details>', 1)[0]
    assert '请填写终止理由' in form and '请勾选确认' in form and '<details class="operate" id="terminate" open' in text(r)
    assert status(iid) == 'suspended'

    assert sup.post(f'/cases/{iid}/resume', data={'csrf_token': sup.csrf, 'note': '已核实'}).status_code == 302
    assert status(iid) == 'running'
    r = sup.post(f'/cases/{iid}/terminate', data={'csrf_token': sup.csrf, 'reason': '申请人撤回申请', 'confirm': '1'})
    assert r.status_code == 302
    html = text(sup.get(f'/cases/{iid}'))
    banner = html.split('id="case-banner"', 1)[1].split('</section>', 1)[0]
    assert '本案已终止' in banner and '申请人撤回申请' in banner and '<form' not in banner
    assert 'badge-terminated">已终止<' in html and '案件已终止。' in html
    assert [a for a in actions_of(iid) if a in ACTIONS] == ['suspend', 'resume', 'terminate']


def test_a_case_in_the_wrong_state_gets_a_message(app):
    iid = running()
    sup = signed_in(app, 'jianguan')
    for action, body in (('retry', {}), ('resume', {})):
        r = sup.post(f'/cases/{iid}/{action}', data={'csrf_token': sup.csrf, **body})
        assert r.status_code == 302, action
    html = text(sup.get(f'/cases/{iid}'))
    assert '未能重试：案件当前没有待处理的故障' in html and '未能恢复：案件未挂起' in html
    assert status(iid) == 'running'
    assert sup.get('/cases/999999').status_code == 404
    r = sup.post('/cases/999999/suspend', data={'csrf_token': sup.csrf, 'reason': '理由'})
    assert r.status_code == 404 and '没有编号为 999999 的案件' in text(r)


@pytest.mark.parametrize('action', list(ACTIONS))
def test_every_action_needs_the_csrf_token(app, action):
    iid = broken() if action in ('retry', 'terminate') else running()
    sup = signed_in(app, 'jianguan')
    if action == 'resume':
        sup.post(f'/cases/{iid}/suspend', data={'csrf_token': sup.csrf, 'reason': '先挂起'})
    before = status(iid)
    for token in ({}, {'csrf_token': 'forged'}):
        r = sup.post(f'/cases/{iid}/{action}', data={**ACTIONS[action], **token})
        assert r.status_code == 400 and '安全校验失败' in text(r)
    assert status(iid) == before


@pytest.mark.parametrize('name', OTHERS)
def test_other_roles_are_refused_every_action(app, name):
    iid, other = broken(), running()
    client = signed_in(app, name)
    for action, body in ACTIONS.items():
        target = iid if action in ('retry', 'terminate') else other
        r = client.post(f'/cases/{target}/{action}', data={'csrf_token': client.csrf, **body})
        assert r.status_code == 403 and '无权' in text(r), action
    assert (status(iid), status(other)) == ('incident', 'running')


def test_status_words_in_the_case_list(app):
    iid, other = broken(), running()
    sup = signed_in(app, 'jianguan')
    sup.post(f'/cases/{other}/suspend', data={'csrf_token': sup.csrf, 'reason': '待核实'})
    html = text(sup.get('/cases'))
    assert '流程故障' in html and '已挂起' in html
    only = text(sup.get('/cases?status=incident'))
    assert f'/cases/{iid}"' in only and f'/cases/{other}"' not in only
    for word in ('incident', 'suspended'):
        assert f'>{word}<' not in html
