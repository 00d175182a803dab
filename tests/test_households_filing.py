"""Monthly filing from the household records and the county's spot-check draw (issue 13, item 3):
the payment roster is the records' own; a reported roster that differs is caught line by line; the
draw covers ≥ 30 % of each township's new households, is re-drawable from its recorded seed, and
opens a county home-visit case per drawn household."""
import math
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from service import crypto
from service.extensions import db
from service.models import Household, HouseholdAmount, HouseholdCase, ProcessInstance, Task
from service.services import auth, users
from service.services.households import filing, spot_checks

from .flow_helpers import deployed_app

FILES = ('common/spot_check_visit.bpmn', 'common/monthly_roster.bpmn', 'common/monthly_payment.bpmn')


@pytest.fixture
def app(make_app):
    for app in deployed_app(make_app, FILES):
        for name, role, township in (('cw1', 'township_caseworker', 't01'), ('sup', 'county_supervisor', None)):
            users.add_user(name, '测试' + name, role, township, 'secret-pass-1', 'tester')
        db.session.commit()
        yield app


def household(township, n, month, amount_fen, recorded_at, changes=()):
    number = f'1101051980010{n:04d}'
    row = Household(category='dibao', township=township, review_type='stable', status='receiving',
                    head_name=f'户主{n}', head_id_hash=crypto.active().id_hash(number + 'X'),
                    members=[{'name': f'户主{n}', 'id_number': number + 'X'}], size=2, amount_fen=amount_fen)
    db.session.add(row)
    db.session.flush()
    for change, effective, fen in (('grant', month, amount_fen), *changes):
        db.session.add(HouseholdAmount(household_id=row.id, effective_month=effective, amount_fen=fen, change=change,
                                       reason='复核' if change != 'grant' else None, recorded_by='tester',
                                       recorded_at=recorded_at))
    return row.id


def api(app, username):
    client = app.test_client()
    token, _ = auth.issue_token(auth.find_user(username))
    client.environ_base['HTTP_AUTHORIZATION'] = f'Bearer {token}'
    return client


IN_2026 = datetime(2026, 6, 1, tzinfo=timezone.utc)


def test_the_payment_roster_comes_from_the_records_and_a_mismatch_is_caught(app):
    a = household('t01', 1, '2026-10', 60000, IN_2026)
    b = household('t01', 2, '2026-11', 45000, IN_2026)                                  # new in November
    c = household('t01', 3, '2026-05', 50000, IN_2026, [('lower', '2026-11', 30000)])  # adjusted
    d = household('t01', 4, '2026-05', 40000, IN_2026, [('stop', '2026-11', 0)])       # exited
    household('t02', 5, '2026-05', 70000, IN_2026)                                     # another township
    db.session.commit()
    roster = filing.build(auth.find_user('cw1'), 't01', '2026-11')
    assert [x['household_id'] for x in roster['changes']['new']] == [b]
    assert [x['household_id'] for x in roster['changes']['adjusted']] == [c]
    assert [x['household_id'] for x in roster['changes']['exited']] == [d]
    assert {(x['household_id'], x['amount']) for x in roster['payment']} == {(a, 600), (b, 450), (c, 300)}
    assert roster['totals'] == {'households': 3, 'persons': 6, 'amount': 1350}
    assert filing.build(auth.find_user('cw1'), 't01', '2026-10')['totals']['amount'] == 600 + 500 + 400

    good = [{'household_id': a, 'amount': 600}, {'household_id': b, 'amount': 450}, {'household_id': c, 'amount': 300}]
    assert filing.compare(roster, good) == []
    reported = [{'household_id': a, 'amount': 600}, {'household_id': c, 'amount': 500},   # the old amount
                {'household_id': d, 'amount': 400}]                                      # stopped, still listed
    problems = {(p['household_id'], p['problem']) for p in filing.compare(roster, reported)}
    assert problems == {(b, 'missing'), (c, 'amount'), (d, 'extra'), (None, 'total')}
    # the same through the API, in Chinese; the township's own staff only
    answer = api(app, 'cw1').post('/api/v1/filings/check', json={'township': 't01', 'month': '2026-11',
                                                                 'lines': reported})
    body = answer.get_json()
    assert answer.status_code == 200 and body['agrees'] is False and len(body['problems']) == 4
    assert {p['problem_zh'] for p in body['problems']} >= {'金额与核定不一致', '不应发放而列入'}
    assert api(app, 'cw1').get('/api/v1/filings?township=t02&month=2026-11').status_code == 404
    assert api(app, 'sup').get('/api/v1/filings?township=t02&month=2026-11').get_json()['totals']['amount'] == 700
    assert api(app, 'sup').get('/api/v1/filings?township=t02&month=11').status_code == 422
    assert api(app, 'sup').get('/api/v1/filings?month=2026-11').get_json()['totals']['amount'] == 1350 + 700
    assert api(app, 'cw1').get('/api/v1/filings?month=2026-11').get_json()['totals']['amount'] == 1350


def test_the_spot_check_draw_is_reproducible_and_covers_30_percent(app, clock):
    ids = {'t01': [household('t01', n, '2026-07', 50000, IN_2026) for n in range(10)],
           't02': [household('t02', 100 + n, '2026-07', 50000, IN_2026) for n in range(7)]}
    household('t01', 999, '2025-07', 50000, datetime(2025, 6, 1, tzinfo=timezone.utc))  # not new in 2026
    db.session.commit()
    assert api(app, 'cw1').post('/api/v1/spot-checks', json={'year': 2026}).status_code == 403
    assert api(app, 'sup').post('/api/v1/spot-checks', json={'year': 2026, 'percent': 20}).status_code == 422
    answer = api(app, 'sup').post('/api/v1/spot-checks', json={'year': 2026, 'seed': 'county-2026-draw'})
    assert answer.status_code == 201, answer.get_json()
    drawn = answer.get_json()
    assert drawn['population'] == {t: sorted(v) for t, v in ids.items()}
    for township, population in drawn['population'].items():
        sample = drawn['sample'][township]
        assert len(sample) == math.ceil(len(population) * 0.3) and len(sample) / len(population) >= 0.3
        assert set(sample) <= set(population)
    # re-drawable by anyone from what is recorded; another seed draws another sample
    again = api(app, 'sup').get(f'/api/v1/spot-checks/{drawn["id"]}').get_json()
    assert again['reproduced'] is True and again['sample'] == drawn['sample']
    assert spot_checks.redraw('county-2026-draw', drawn['population'], 30) == drawn['sample']
    assert spot_checks.redraw('another-seed-0001', drawn['population'], 30) != drawn['sample']
    # a county home visit per drawn household, linked to it, in the county's lane
    visits = db.session.execute(select(HouseholdCase.household_id, ProcessInstance).join(
        ProcessInstance, ProcessInstance.id == HouseholdCase.instance_id).where(HouseholdCase.role == 'spot_check')).all()
    assert sorted(h for h, _ in visits) == sorted(drawn['sample']['t01'] + drawn['sample']['t02'])
    for hid, instance in visits:
        assert instance.process_key == 'spot_check_visit'
        assert instance.township == db.session.get(Household, hid).township
        task = db.session.scalar(select(Task).where(Task.instance_id == instance.id, Task.state == 'ready'))
        assert (task.bpmn_id, task.role) == ('county_home_visit', 'county_supervisor')
