"""Personal data at rest (issue 9): a dump of the database holds no clear ID or phone number; keys
rotate without stopping the cases; the service refuses to start without keys outside demo mode.

SQLite: the database file's bytes (and its WAL); PostgreSQL: every row of every table as text.
"""
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text
from stdnum.cn import ric

from service import create_app, crypto, demo
from service.cli import main
from service.extensions import db
from service.models import CloseRelative, Complaint, Household, ProcessInstance, Task
from service.services import keys, runtime, users

from .conftest import PRODUCTION_KEYS
from .flow_helpers import (APPLICATION, COLLECTIVE, COMPLETE, NOTICE, SURVEY, deployed_app, do, due, fire_at, pre_verify,
                           ready, timers)
from .security_helpers import cheap_hashes

FILES = ('delegated/dibao_a.bpmn',)
APPLICANT_ID = APPLICATION['applicant']['id_number']
APPLICANT_PHONE = APPLICATION['applicant']['phone']
# Typed into free text: a neighbour's numbers in the survey's findings.
NEIGHBOUR_ID, NEIGHBOUR_PHONE = '110105196003071234', '13912345678'
RELATIVE_ID = '11010519800101' + '002'
RELATIVE_ID += ric.calc_check_digit(RELATIVE_ID + '0')
OLD = 'old1:' + 'b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2w='
NEW = 'new1:' + 'bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmU='


@pytest.fixture
def app(make_app, monkeypatch):
    cheap_hashes(monkeypatch)
    yield from deployed_app(make_app, FILES)


def full_dibao_flow(clock):
    """A dibao_a case from application to the approval notice, numbers also in free text."""
    case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'caseworker1')
    do(case, 'request_verification', {'verification_request': {'requested_on': '2026-09-28',
                                                               'authorization_confirmed': True}})
    runtime.deliver_message(case.id, 'verification_result',
                            {'eligible': True, 'report_no': 'HD-1', 'summary': f'联系电话 {APPLICANT_PHONE}'},
                            'verifier1')
    db.session.refresh(case)
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    survey = {'survey': dict(SURVEY['survey'], findings=f'邻居（{NEIGHBOUR_ID}，{NEIGHBOUR_PHONE}）证实无收入')}
    do(case, 'home_survey', survey, actor='surveyor1')
    do(case, 'township_confirmation', {'decision': {'approved': True, 'amount': 650, 'decided_on': '2026-10-12'},
                                       **COLLECTIVE}, actor='leader1')
    fire_at(clock, case, due(timers(case, 'waiting')['publicity_expired']) + timedelta(seconds=1))
    do(case, 'issue_approval_notice', {'approval_notice': dict(NOTICE, monthly_amount=650, start_month='2026-11')})
    assert case.status == 'completed'
    return case


NUMBERS = (APPLICANT_ID, APPLICANT_PHONE, NEIGHBOUR_ID, NEIGHBOUR_PHONE, RELATIVE_ID)


def dump(app):
    """Everything the database holds, as one text (what a dump or a stolen disk would show)."""
    engine = db.engine
    if engine.dialect.name == 'sqlite':
        db.session.remove()
        engine.dispose()   # the last connection closing checkpoints the WAL into the file
        path = Path(engine.url.database)
        found = b''.join(p.read_bytes() for p in (path, Path(f'{path}-wal')) if p.exists())
        return found.decode('utf-8', errors='replace')
    parts = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f'SELECT CAST(t AS text) FROM "{table}" t')).scalars().all()
            parts.extend(rows)
    return '\n'.join(parts)


def test_a_dump_after_a_full_dibao_flow_holds_no_clear_id_or_phone_number(app, clock):
    case = full_dibao_flow(clock)
    users.add_user('caseworker9', '孙经办', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
    users.register_close_relative('caseworker9', '孙某', RELATIVE_ID, 'spouse', 'leader1')
    demo.load_users()
    demo.load_cases()        # the demo's cases too: applicants with ID and phone numbers, a close relative
    db.session.commit()
    demo_numbers = [demo.demo_id_number(n) for n in range(1, 6)] + [f'1390531{n:04d}' for n in range(1, 6)]
    # The data is all there, through the models …
    stored = db.session.get(ProcessInstance, case.id)
    assert APPLICANT_ID in stored.state and NEIGHBOUR_ID in stored.state
    assert db.session.scalar(select(CloseRelative.id_number).where(CloseRelative.staff_username == 'caseworker9')) \
        == RELATIVE_ID
    surveyed = db.session.scalars(select(Task).where(Task.instance_id == case.id, Task.bpmn_id == 'home_survey')).one()
    assert NEIGHBOUR_PHONE in surveyed.data['survey']['findings']
    # … and nowhere in clear in the database.
    everything = dump(app)
    assert 'caseworker9' in everything and 'dibao_a' in everything   # the dump is the real one
    for number in NUMBERS + tuple(demo_numbers):
        assert number not in everything, number


def test_keys_rotate_re_encrypts_every_row_and_the_cases_go_on(make_app, database_url, monkeypatch, clock):
    cheap_hashes(monkeypatch)
    first = make_app(JIUZHU_DATA_KEYS=OLD)
    with first.app_context():
        from service.services import repository
        tree = repository.read_tree(Path(__file__).resolve().parent.parent / 'processes')
        repository.deploy({name: tree[name] for name in FILES}, 'tester')
        case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'caseworker1')
        pre_verify(case)
        do(case, 'check_materials', COMPLETE)
        users.add_user('caseworker9', '孙经办', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
        users.register_close_relative('caseworker9', '孙某', RELATIVE_ID, 'spouse', 'leader1')
        # A household and a complaint: their encrypted columns rotate with the rest.
        head_hash = crypto.active().id_hash(APPLICANT_ID)
        household = Household(category='dibao', township='t01', head_id_hash=head_hash, head_name='王秀兰',
                              members=[{'name': '王秀兰', 'id_number': APPLICANT_ID, 'relation': '本人'}])
        db.session.add(household)
        db.session.add(Complaint(township='t01', source='hotline_12349', reporter_name='李某',
                                 reporter_contact='13800138000', content='反映收入不实', feedback='已核实',
                                 recorded_by='leader1'))
        db.session.commit()
        household_id, household_version = household.id, household.version
        assert {key for (_, key) in keys.counts()} == {'old1'}
        case_id, version = case.id, case.version
        db.session.remove()

    # Only the new key: the old rows cannot be read.
    only_new = make_app(JIUZHU_DATA_KEYS=NEW)
    with only_new.app_context():
        with pytest.raises(crypto.UnknownKey):
            db.session.get(ProcessInstance, case_id).state
        db.session.remove()

    # The new key first, the old one kept to read: `jiuzhu keys rotate`.
    monkeypatch.setenv('DATABASE_URL', database_url)
    monkeypatch.setenv('JIUZHU_DATA_KEYS', f'{NEW},{OLD}')
    monkeypatch.setenv('JIUZHU_SEARCH_KEY', PRODUCTION_KEYS['JIUZHU_SEARCH_KEY'])
    monkeypatch.setenv('JIUZHU_CLOCK', 'real')
    runner = CliRunner()
    result = runner.invoke(main, ['keys', 'rotate', '--batch', '1'])
    assert result.exit_code == 0, result.output
    assert 'new1' in result.output
    result = runner.invoke(main, ['keys', 'status'])
    assert result.exit_code == 0 and 'old1' not in result.output and 'new1' in result.output, result.output

    # The new key alone now reads everything; the case's version moved (a versioned write) and it goes on.
    after = make_app(JIUZHU_DATA_KEYS=NEW)
    with after.app_context():
        case = db.session.get(ProcessInstance, case_id)
        assert case.version == version + 1 and APPLICANT_ID in case.state
        assert set(ready(case)) == {'issue_acceptance_notice'}
        do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
        assert 'home_survey' in ready(case)
        assert users.relatives_of(RELATIVE_ID) == ['caseworker9']
        household = db.session.get(Household, household_id)
        assert household.members[0]['id_number'] == APPLICANT_ID and household.version > household_version
        assert household.head_id_hash == head_hash
        assert db.session.scalar(select(Complaint.reporter_contact)) == '13800138000'
        assert {key for (_, key) in keys.counts()} == {'new1'}
        entry = db.session.execute(text("SELECT COUNT(*) FROM audit_log WHERE action = 'keys_rotated'")).scalar()
        assert entry == 1


def test_rotation_does_not_overwrite_a_case_changed_meanwhile(make_app, monkeypatch):
    """The case's UPDATE is guarded by its version: a row changed after it was read is left for the next pass."""
    app = make_app(JIUZHU_DATA_KEYS=OLD)
    with app.app_context():
        from service.services import repository
        tree = repository.read_tree(Path(__file__).resolve().parent.parent / 'processes')
        repository.deploy({name: tree[name] for name in FILES}, 'tester')
        case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'caseworker1')
        pre_verify(case)
        row = db.session.execute(select(keys._instances.c.id, keys._instances.c.state.label('value'),
                                        keys._instances.c.version)).one()
        do(case, 'check_materials', COMPLETE)             # a writer moves the case on meanwhile
        keyring = crypto.keyring_from({'JIUZHU_DATA_KEYS': f'{NEW},{OLD}'}, demo=True)
        stale = keys._rewrite(keyring, keys._instances, 'state', 'process_instance.state', row)
        assert db.session.execute(stale).rowcount == 0
        db.session.rollback()
        assert set(ready(db.session.get(ProcessInstance, case.id))) == {'issue_acceptance_notice'}


def test_no_keys_outside_demo_mode_refuses_to_start(database_url):
    config = {'DATABASE_URL': database_url, 'SECRET_KEY': 'x', 'JIUZHU_CLOCK': 'real',
              'JIUZHU_DATA_KEYS': None, 'JIUZHU_DATA_KEY': None, 'JIUZHU_SEARCH_KEY': None}
    with pytest.raises(crypto.KeyConfigError, match='JIUZHU_DATA_KEYS'):
        create_app(config)
    with pytest.raises(crypto.KeyConfigError, match='32'):
        create_app(dict(config, JIUZHU_DATA_KEYS='k:c2hvcnQ=', JIUZHU_SEARCH_KEY=PRODUCTION_KEYS['JIUZHU_SEARCH_KEY']))
    # Demo and tests: the public demo key stands in.
    ring = crypto.keyring_from({'JIUZHU_CLOCK': 'manual'}, crypto.demo_mode({'JIUZHU_CLOCK': 'manual'}))
    assert ring.current_id == crypto.DEMO_ID
    # One key without an id gets its fingerprint; a value names the key it needs.
    ring = crypto.keyring_from({'JIUZHU_DATA_KEY': NEW.split(':')[1], 'JIUZHU_SEARCH_KEY':
                                PRODUCTION_KEYS['JIUZHU_SEARCH_KEY']}, demo=False)
    sealed = ring.encrypt('11010519491231002X', 'x')
    assert crypto.key_id_of(sealed) == ring.current_id and '11010519491231002X' not in sealed
    assert ring.decrypt(sealed, 'x') == '11010519491231002X'
    with pytest.raises(Exception):
        ring.decrypt(sealed, 'another.column')    # bound to its column


def test_the_cli_says_why_without_keys(monkeypatch, tmp_path):
    for name in ('JIUZHU_DATA_KEYS', 'JIUZHU_DATA_KEY', 'JIUZHU_SEARCH_KEY', 'JIUZHU_CLOCK'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('DATABASE_URL', f'sqlite:///{tmp_path / "x.sqlite3"}')
    result = CliRunner().invoke(main, ['keys', 'status'])
    assert result.exit_code == 1 and '无法启动' in result.output and 'JIUZHU_DATA_KEYS' in result.output
    result = CliRunner().invoke(main, ['keys', 'generate'])
    assert result.exit_code == 0 and result.output.count(':') >= 2


def test_keys_rotate_knows_every_encrypted_column():
    """A new encrypted column is rotated too: else `keys rotate` leaves it on a key the operator retires."""
    from service.models.types import EncryptedText
    declared = {col.type.purpose for table in db.Model.metadata.tables.values() for col in table.columns
                if isinstance(col.type, EncryptedText)}
    assert declared == {purpose for _, _, purpose in keys.COLUMNS}


def test_a_long_text_is_stored_compressed_and_sealed_and_an_uncompressed_one_still_reads(app):
    """A case's state is compressed before it is sealed (crypto.COMPRESS_FROM): PostgreSQL keeps it in
    the row instead of out of line. Values sealed before, uncompressed, read as they did."""
    import base64
    import os
    ring = crypto.active()
    state = '{"tasks": {' + ', '.join(f'"{n:04d}": {{"state": 64, "data": {{"申请人": "张三"}}}}' for n in range(120)) + '}}'
    stored = ring.encrypt(state, 'process_instance.state')
    assert stored.startswith(f'{crypto.PREFIX}{ring.current_id}:') and '张三' not in stored
    assert len(stored) < len(state) / 2
    assert ring.decrypt(stored, 'process_instance.state') == state
    with pytest.raises(Exception):      # still bound to its column
        ring.decrypt(stored, 'task.data')
    short = ring.encrypt('短', 'task.data')
    assert ring.decrypt(short, 'task.data') == '短'
    # Sealed the way every value was before: the clear text's UTF-8, not compressed.
    nonce = os.urandom(crypto.NONCE)
    old = (f'{crypto.PREFIX}{ring.current_id}:' + base64.b64encode(
        nonce + ring._current.encrypt(nonce, state.encode(), b'process_instance.state')).decode('ascii'))
    assert ring.decrypt(old, 'process_instance.state') == state
