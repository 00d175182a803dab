"""Exact search by ID number through its keyed hash (issue 9): API and case list, township scoping,
audited; and migration 0005 filling the hashes of a database made at 0004."""
import json

from click.testing import CliRunner
from sqlalchemy import select, text

from service.cli import main
from service.extensions import db
from service.migrations import runner
from service.models import AuditEntry, ProcessInstance
from service.services import keys, runtime, users

from .api_helpers import dibao_people  # noqa: F401  (fixture)
from .conftest import PRODUCTION_KEYS, TEST_PROCESSES
from .migration_helpers import connect, load_rows, url_of
from .security_helpers import csrf_of, signed_in, web_app  # noqa: F401  (fixture)

ID_A = '11010519491231002X'
ID_B = '110105196001010017'
APPLICATION = {'applicant': {'name': '王秀兰', 'id_number': ID_A, 'phone': '13800000000',
                             'address': '城关镇幸福社区3号楼', 'household_size': 3}, 'authorization_signed': True, 'commitment_signed': True}


def start(client, township, id_number, name):
    data = json.loads(json.dumps(APPLICATION))
    data['applicant'].update(id_number=id_number, name=name)
    r = client.post('/api/v1/instances', json={'process_key': 'dibao_a', 'township': township, 'data': data})
    assert r.status_code == 201, r.json
    return r.json['id']


def found(client, number):
    r = client.get(f'/api/v1/instances?id_number={number}')
    assert r.status_code == 200, r.json
    return [item['id'] for item in r.json['items']]


def test_search_by_id_number_finds_the_case_only_within_the_callers_scope(dibao_people):
    cw1, cw2, sup = dibao_people['cw1'], dibao_people['cw2'], dibao_people['sup']
    a = start(cw1, 't01', ID_A, '王秀兰')
    b = start(cw1, 't01', ID_B, '李四')
    c = start(cw2, 't02', ID_A, '王秀兰')          # the same person applied in the other township too
    assert found(cw1, ID_A) == [a]                   # not b, not the other township's c
    assert found(cw1, ID_A.lower()) == [a]           # normalised: upper-case X
    assert found(cw2, ID_A) == [c] and found(cw2, ID_B) == []
    assert sorted(found(sup, ID_A)) == sorted([a, c]) and found(sup, ID_B) == [b]
    assert found(sup, '110105194912310038') == []
    # The number is stored only as ciphertext and hash: no column holds it.
    row = db.session.get(ProcessInstance, a)
    assert row.id_hash and len(row.id_hash) == 64 and ID_A not in row.id_hash
    # Not an ID number: a clear 422, never a 500.
    r = cw1.get('/api/v1/instances?id_number=12345')
    assert r.status_code == 422 and '18 位' in r.json['message']
    # The search is audited, with the number masked.
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'search_id_number')
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.actor == 'sup' and entry.detail['id_number'] == '110105********0038'


def test_the_case_list_page_searches_by_id_number_with_a_post(web_app):
    from service.services import cases
    from service.services.auth import find_user
    a = cases.start_case(find_user('t01_jingban'), 'dibao_a', 't01', APPLICATION)
    other = dict(APPLICATION, applicant=dict(APPLICATION['applicant'], id_number=ID_B, name='李四'))
    cases.start_case(find_user('t01_jingban'), 'dibao_a', 't01', other)
    client = signed_in(web_app, 't01_jingban')
    listing = client.get('/cases').get_data(as_text=True)
    assert 'name="q"' in listing
    r = client.post('/cases/search', data={'id_number': ID_A, 'csrf_token': csrf_of(listing)})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and f'/cases/{a.id}"' in html and '李四' not in html
    assert ID_A not in html                          # the list shows the number masked
    r = client.post('/cases/search', data={'q': ID_A[:17], 'csrf_token': csrf_of(listing)})
    assert r.status_code == 422 and '18 位' in r.get_data(as_text=True)
    # Another township's caseworker finds nothing.
    client = signed_in(web_app, 't02_jingban')
    listing = client.get('/cases').get_data(as_text=True)
    html = client.post('/cases/search', data={'id_number': ID_A, 'csrf_token': csrf_of(listing)}).get_data(as_text=True)
    assert f'/cases/{a.id}"' not in html


def test_upgrade_from_0004_fills_the_hashes_of_existing_cases_and_relatives(database_url, make_app):
    runner.upgrade(url_of(database_url), runner.BASELINE)
    load_rows(database_url)
    runner.upgrade(url_of(database_url), '0004')
    # A case of the 0004 era whose applicant has an ID number (its state in clear, as 0004 wrote it).
    engine, connection = connect(database_url)
    with connection.begin():
        row_id, state = connection.execute(text(
            "SELECT id, state FROM process_instance WHERE business_key = 'MIG-A'")).one()
        dct = json.loads(state)
        dct['tasks'][dct['root']]['data']['applicant'] = {'name': '张三', 'id_number': ID_B.lower()}
        connection.execute(text('UPDATE process_instance SET state = :s WHERE id = :i'),
                           {'s': json.dumps(dct, ensure_ascii=False), 'i': row_id})
        relative_id = connection.execute(text('SELECT id_number FROM close_relative')).scalar()
    connection.close()
    engine.dispose()

    # `jiuzhu db upgrade` as an operator runs it: real clock, the keys in the environment.
    env = dict(PRODUCTION_KEYS, DATABASE_URL=database_url, JIUZHU_CLOCK='real')
    result = CliRunner().invoke(main, ['db', 'upgrade'], env=env)
    assert result.exit_code == 0, result.output
    app = make_app(JIUZHU_FORMS_DIR=str(TEST_PROCESSES / 'forms'))
    with app.app_context():
        from service.services import cases
        sup = users.add_user('sup9', '吴科长', 'county_supervisor', 'county', 'secret-pass-1', 'tester')
        found = cases.list_cases(sup, id_number=ID_B)
        items, total = found.items, found.total
        assert [i.business_key for i in items] == ['MIG-A']
        assert users.relatives_of(relative_id) == ['cw1']
        # Old rows are read in clear until `jiuzhu keys rotate` encrypts them; then the case goes on.
        assert ('process_instance.state', 'clear') in keys.counts()
        result = keys.rotate('tester')
        assert result.left == 0 and not any(key == 'clear' for (_, key) in keys.counts())
        assert [i.business_key for i in cases.list_cases(sup, id_number=ID_B).items] == ['MIG-A']
        assert users.relatives_of(relative_id) == ['cw1']
        new = runtime.start_instance('core_case', 't01', {'applicant': {'name': '张三', 'id_number': ID_B}}, 'cw1')
        assert new.id_hash == db.session.get(ProcessInstance, items[0].id).id_hash   # the same person
