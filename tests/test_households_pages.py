"""The household page and API (issue 13): scoped by township, ID numbers masked, reachable from the
case page; a reported change (a death) opens a review case due within 3 months, one at a time."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.extensions import db
from service.models import AuditEntry
from service.services import auth, users
from service.services.households import register, schedule
from service.services.households.effects import today

from .api_helpers import PASSWORD
from .flow_helpers import APPLICATION, deployed_app
from .security_helpers import csrf_of, signed_in
from .test_households import FILES, granted_household

ID_NUMBER = APPLICATION['applicant']['id_number']


@pytest.fixture
def app(make_app):
    for _ in deployed_app(make_app, FILES):
        for name, role, township in (('cw1', 'township_caseworker', 't01'), ('cw2', 'township_caseworker', 't02'),
                                     ('sup', 'county_supervisor', None), ('des', 'designer', None)):
            users.add_user(name, '测试' + name, role, township, 'secret-pass-1', 'tester')
        db.session.commit()
        yield _


def client_of(app, username):
    client = app.test_client()
    token, _ = auth.issue_token(auth.find_user(username))
    client.environ_base['HTTP_AUTHORIZATION'] = f'Bearer {token}'
    return client




def test_household_page_api_and_reported_change(app, clock):
    case, household = granted_household(clock)
    cw1, cw2, sup = client_of(app, 'cw1'), client_of(app, 'cw2'), client_of(app, 'sup')
    web1, web2 = signed_in(app, 'cw1', PASSWORD), signed_in(app, 'cw2', PASSWORD)

    page = web1.get(f'/households/{household.id}')
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '王秀兰' in html and '享受中' in html and '650.00' in html
    assert ID_NUMBER not in html and ID_NUMBER[:6] in html                # masked, not hidden
    assert f'/cases/{case.id}' in html and '下次复核' in html
    assert f'/households/{household.id}' in web1.get(f'/cases/{case.id}').get_data(as_text=True)
    assert '王秀兰' in web1.get('/households').get_data(as_text=True)
    assert web2.get(f'/households/{household.id}').status_code == 404      # another township's
    assert '王秀兰' not in web2.get('/households').get_data(as_text=True)
    assert client_of(app, 'des').get(f'/api/v1/households/{household.id}').status_code == 403

    body = sup.get(f'/api/v1/households/{household.id}').get_json()
    assert body['status'] == 'receiving' and body['amount'] == 650 and ID_NUMBER not in str(body)
    assert [a['effective_month'] for a in body['amounts']] == ['2026-11']
    assert [c['id'] for c in body['cases']] == [case.id]
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == 'household_read'))
    assert sup.get(f'/api/v1/households/{household.id}/entitlement?month=2026-11').get_json()['amount'] == 650
    bad = sup.get(f'/api/v1/households/{household.id}/entitlement?month=2026-13')
    assert bad.status_code == 422 and '格式' in str(bad.get_json())

    # a reported death opens a review at once, due within 3 months; a second report waits for it
    bad = cw1.post(f'/api/v1/households/{household.id}/reviews', json={'kind': 'periodic', 'report': 'x'})
    assert bad.status_code == 422
    form = web1.get(f'/households/{household.id}').get_data(as_text=True)
    empty = web1.post(f'/households/{household.id}/reviews', data={'kind': 'death', 'report': ' ',
                                                                     'csrf_token': csrf_of(form)})
    assert empty.status_code == 422 and '请写明变化情况' in empty.get_data(as_text=True)
    answer = web1.post(f'/households/{household.id}/reviews', data={
        'kind': 'death', 'report': '户主配偶于上月去世', 'csrf_token': csrf_of(form)})
    assert answer.status_code == 302
    started = {'instance_id': register.open_review(household.id),
               'review_due_on': schedule.working_day_on_or_after(schedule.add_months(today(), 3)).isoformat()}
    assert answer.headers['Location'].endswith(f'/cases/{started["instance_id"]}')
    conflict = cw1.post(f'/api/v1/households/{household.id}/reviews', json={'kind': 'reported', 'report': '就业'})
    assert conflict.status_code == 409 and '复核案件在办' in conflict.get_json()['message']
    assert cw2.post(f'/api/v1/households/{household.id}/reviews',
                    json={'kind': 'reported', 'report': '就业'}).status_code == 404
    review = web1.get(f'/cases/{started["instance_id"]}').get_data(as_text=True)
    assert '入户复核调查' in review and f'/households/{household.id}' in review
    assert due_is_deadline(started) is True


def due_is_deadline(started):
    from service.models import Timer
    timer = db.session.scalar(select(Timer).where(Timer.instance_id == started['instance_id'],
                                                  Timer.bpmn_id == 'review_overdue'))
    shanghai_day = (timer.due_at + timedelta(hours=8)).date()
    return timer.kind == 'deadline' and shanghai_day.isoformat() > started['review_due_on']
