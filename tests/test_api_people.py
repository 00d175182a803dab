"""People from the command line, demo data, masking and the ID-number format."""
from click.testing import CliRunner

from service.services import forms, masking, repository, runtime
from service.services.context import engine
from sqlalchemy import select

from service.extensions import db
from service.models import ProcessInstance, User

from .api_helpers import ROOT


def test_users_cli_add_list_disable(make_app, monkeypatch):
    app = make_app()
    monkeypatch.setenv('DATABASE_URL', app.config['SQLALCHEMY_DATABASE_URI'])
    monkeypatch.setenv('SECRET_KEY', 'test-secret')
    from service.cli import main
    runner = CliRunner()
    r = runner.invoke(main, ['users', 'add', 'lisi', '--role', 'township_caseworker', '--township', 't01',
                             '--name', '李四', '--password', 'long-enough-1'])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ['users', 'add', 'bad', '--role', 'township_leader', '--password', 'long-enough-1'])
    assert r.exit_code == 1 and '镇街' in r.output
    r = runner.invoke(main, ['users', 'list'])
    assert 'lisi' in r.output and 't01' in r.output
    assert runner.invoke(main, ['users', 'disable', 'lisi']).exit_code == 0
    assert '已停用' in runner.invoke(main, ['users', 'list']).output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == 'lisi'))
        assert not user.active and user.password_hash.startswith('scrypt:')


def test_demo_is_idempotent(make_app):
    from service.demo import DEMO_USERS, load_demo
    app = make_app()
    with app.app_context():
        # dibao_a first: the rest of processes/ may be mid-edit by another designer.
        source = (ROOT / 'processes' / 'delegated' / 'dibao_a.bpmn').read_bytes()
        repository.deploy({'delegated/dibao_a.bpmn': source}, 'tester')
        load_demo()
        counts = (db.session.query(User).count(), db.session.query(ProcessInstance).count())
        # five demo cases and the county's 100 % visit of DEMO-005, a close relative's (services/county_visits.py)
        assert counts[0] == len(DEMO_USERS) and counts[1] == 6
        load_demo()
        assert (db.session.query(User).count(), db.session.query(ProcessInstance).count()) == counts
        states = {i.business_key: i for i in db.session.scalars(select(ProcessInstance))}
        assert states['DEMO-005'].review_required
        assert {i.township for i in states.values()} == {'t01', 't02'}


def test_masking_helpers():
    assert masking.mask_id_number('11010519491231002X') == '110105********002X'
    assert masking.mask_phone('13800001234') == '138****1234'
    masked = masking.mask_data({'applicant': {'id_number': '11010519491231002X', 'phone': '13800001234',
                                              'name': '王'}, 'members': [{'spouse_id_number': '11010519491231002X'}]})
    assert masked == {'applicant': {'id_number': '110105********002X', 'phone': '138****1234', 'name': '王'},
                      'members': [{'spouse_id_number': '110105********002X'}]}
    assert runtime.mask_id_number is masking.mask_id_number


def test_resident_id_format(app, clock):
    schema = {'type': 'object', 'properties': {'id': {'type': 'string', 'format': 'cn-resident-id'}}}
    assert forms.field_errors(schema, {'id': '11010519491231002X'}) == {}
    for bad in ('110105194912310021', '11010519491331002X', '1101051949123100', '110105210012310011'):
        assert forms.field_errors(schema, {'id': bad}) == {'id': '身份证号码无效（校验位或出生日期错误）'}, bad
    assert engine().forms_dir.name == 'forms'
