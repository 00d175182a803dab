"""`jiuzhu backup` / `jiuzhu restore` on a real SQLite file and a real PostgreSQL (throwaway databases).

One dibao case is backed up mid-way, restored into an empty database, and carried on there: the
next task is done and the 12-working-day timer, waiting in the backup, fires by the scheduler's
sweep. The audit chain verifies after each restore; a damaged file, a newer schema and a
non-empty target are refused without touching the target.
"""
import io
import json
import os
import shutil
import tarfile
import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service import create_app
from service.backup import archive, postgres
from service.cli import main
from service.extensions import db
from service.migrations import readiness, runner
from service.scheduler.sweep import sweep_due
from service.services import audit, repository, runtime

from .conftest import PG_URL, T0, schema_at_head
from .flow_helpers import APPLICATION, COMPLETE, NOTICE, ROOT, SURVEY, do, pre_verify, ready, timers
from .migration_helpers import load_rows, url_of
from .pg_helpers import drop_database

BACKENDS = ['sqlite'] + (['postgres'] if PG_URL else [])
VERIFICATION = {'verification_request': {'requested_on': '2026-09-28', 'authorization_confirmed': True}}


def _pg(database):
    return make_url(PG_URL).set(drivername='postgresql', database=database).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def databases(request, tmp_path):
    """(source URL, target URL): two files, or two throwaway PostgreSQL databases (CREATEDB)."""
    if request.param == 'sqlite':
        yield f'sqlite:///{tmp_path / "source.sqlite3"}', f'sqlite:///{tmp_path / "restored" / "target.sqlite3"}'
        return
    if shutil.which('pg_dump') is None:
        pytest.skip('pg_dump (the PostgreSQL client) is not installed')
    admin = create_engine(_pg('postgres').replace('postgresql://', 'postgresql+psycopg://'),
                          isolation_level='AUTOCOMMIT')
    suffix = uuid.uuid4().hex[:10]
    names = [f'jiuzhu_backup_src_{suffix}', f'jiuzhu_backup_dst_{suffix}']
    with admin.connect() as conn:
        if not conn.execute(text('SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user')).scalar():
            pytest.skip('the test role needs CREATEDB for throwaway databases')
        for name in names:
            conn.execute(text(f'CREATE DATABASE {name}'))
    try:
        yield _pg(names[0]), _pg(names[1])
    finally:
        for name in names:
            drop_database(admin, name)
        admin.dispose()


def _app(url):
    return create_app({'TESTING': True, 'DATABASE_URL': url, 'SECRET_KEY': 'test-secret', 'JIUZHU_CLOCK': 'manual',
                       'JIUZHU_CLOCK_START': T0, 'JIUZHU_HOLIDAYS': None})


def _closed(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def jiuzhu(url, *args):
    env = {'DATABASE_URL': url, 'SECRET_KEY': 'test-secret', 'JIUZHU_CLOCK': 'manual'}
    return CliRunner().invoke(main, list(args), env=env)


def the_case():
    return runtime.get_instance(db.session.scalar(text('SELECT id FROM process_instance')))


def test_a_case_backed_up_mid_way_goes_on_after_a_restore_into_an_empty_database(databases, tmp_path):
    source, target = databases
    schema_at_head(source)
    app = _app(source)
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({'delegated/dibao_a.bpmn': tree['delegated/dibao_a.bpmn']}, 'tester')
        case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'caseworker1')
        pre_verify(case)
        do(case, 'check_materials', COMPLETE)
        do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
        deadline = timers(case, 'waiting')['deadline'].due_at
    _closed(app)

    made = jiuzhu(source, 'backup', '--output', str(tmp_path))
    assert made.exit_code == 0, made.output
    [backup] = tmp_path.glob('jiuzhu-*.backup')
    assert oct(backup.stat().st_mode & 0o777) == '0o600'          # personal data: the owner's only
    manifest = archive.open_checked(backup).manifest
    assert manifest['schema_revision'] == readiness.script_directory().get_current_head() and manifest['cases'] == 1
    assert manifest['audit_last']['id'] >= 4 and len(manifest['sha256']) == 64

    # A damaged file is refused, with the .sha256 beside it and without it; the target stays empty.
    damaged = tmp_path / 'damaged' / backup.name
    damaged.parent.mkdir()
    data = bytearray(backup.read_bytes())
    with tarfile.open(backup) as tar:
        member = tar.getmember(manifest['payload'])
    data[member.offset_data + member.size // 2] ^= 0x01           # one bit inside the payload
    damaged.write_bytes(bytes(data))
    shutil.copy(backup.with_name(backup.name + '.sha256'), damaged.with_name(damaged.name + '.sha256'))
    refused = jiuzhu(target, 'restore', str(damaged))
    assert refused.exit_code == 1 and '损坏或被改动' in refused.output and '.sha256' in refused.output, refused.output
    damaged.with_name(damaged.name + '.sha256').unlink()
    refused = jiuzhu(target, 'restore', str(damaged))
    assert refused.exit_code == 1 and '数据部分的 SHA-256 与清单不符' in refused.output, refused.output

    restored = jiuzhu(target, 'restore', str(backup))
    assert restored.exit_code == 0, restored.output
    assert f'含备份时最后一条 {manifest["audit_last"]["id"]}' in restored.output

    app = _app(target)
    try:
        with app.app_context():
            case = the_case()
            assert set(ready(case)) == {'home_survey'}
            do(case, 'home_survey', SURVEY, actor='surveyor1')
            assert set(ready(case)) == {'township_confirmation'}       # the next task, on the restored case
            clock = app.extensions['jiuzhu.clock']
            clock.set((deadline + timedelta(minutes=1)).isoformat())
            assert sweep_due(app) == 1                                 # the timer from the backup fires
            db.session.refresh(case)
            assert timers(case)['deadline'].state == 'fired' and case.overdue
            actions = [a for (a,) in db.session.execute(text('SELECT action FROM audit_log ORDER BY id'))]
            assert 'backup_restore' in actions
            assert audit.verify(anchors=[(manifest['audit_last']['id'], manifest['audit_last']['hash'])]).intact
    finally:
        _closed(app)

    # Not empty any more: refused without --force, nothing changed.
    again = jiuzhu(target, 'restore', str(backup))
    assert again.exit_code == 1 and '不是空的' in again.output and '--force' in again.output, again.output
    # With --force over the live database (its audit log guarded by triggers): back to the backup's state.
    forced = jiuzhu(target, 'restore', str(backup), '--force')
    assert forced.exit_code == 0, forced.output
    app = _app(target)
    try:
        with app.app_context():
            case = the_case()
            assert set(ready(case)) == {'home_survey'} and timers(case)['deadline'].state == 'waiting'
            with pytest.raises(Exception, match='append-only'):        # the guard came back with the table
                db.session.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 1"))
            db.session.rollback()
    finally:
        _closed(app)
    verified = jiuzhu(target, 'audit', 'verify')
    assert verified.exit_code == 0 and '审计日志完整' in verified.output, verified.output


def _rewritten(backup, folder, **changes):
    """The backup with its manifest changed, its payload as it was (so the payload hash still holds)."""
    out = folder / 'changed.backup'
    with tarfile.open(backup) as tar, tarfile.open(out, 'w') as changed:
        manifest = json.loads(tar.extractfile('manifest.json').read())
        body = json.dumps(dict(manifest, **changes)).encode()
        info = tarfile.TarInfo('manifest.json')
        info.size = len(body)
        changed.addfile(info, io.BytesIO(body))
        payload = tar.getmember(manifest['payload'])
        changed.addfile(payload, tar.extractfile(payload))
    return out


def test_a_backup_of_a_newer_schema_or_format_or_another_database_kind_is_refused(tmp_path):
    source, target = f'sqlite:///{tmp_path / "source.sqlite3"}', f'sqlite:///{tmp_path / "target.sqlite3"}'
    schema_at_head(source)
    made = jiuzhu(source, 'backup', '-o', str(tmp_path / 'one.backup'))
    assert made.exit_code == 0, made.output
    for changes, message in (({'schema_revision': '9999'}, '比本程序新'),
                             ({'format_version': 2}, '备份格式版本 2 比本程序新'),
                             ({'created_at': 'x'}, None)):
        changed = _rewritten(tmp_path / 'one.backup', tmp_path, **changes)
        result = jiuzhu(target, 'restore', str(changed))
        if message is None:       # a harmless change with a matching hash restores
            assert result.exit_code == 0, result.output
            continue
        assert result.exit_code == 1 and message in result.output, result.output
    not_ours = tmp_path / 'not-ours.backup'
    not_ours.write_bytes(b'PGDMP' + os.urandom(100))
    result = jiuzhu(target, 'restore', str(not_ours), '--force')
    assert result.exit_code == 1 and '备份文件不能用' in result.output, result.output
    if PG_URL:
        result = jiuzhu(_pg('postgres'), 'restore', str(tmp_path / 'one.backup'))
        assert result.exit_code == 1 and '不能恢复到 postgresql' in result.output, result.output


def test_the_password_goes_through_the_environment_and_an_older_client_is_refused(tmp_path, monkeypatch):
    env = postgres.client_env('postgresql+psycopg://owner:s3cret%40x@db.example:6543/jiuzhu?sslmode=require')
    assert (env['PGUSER'], env['PGPASSWORD'], env['PGHOST'], env['PGPORT'], env['PGDATABASE'], env['PGSSLMODE']) == (
        'owner', 's3cret@x', 'db.example', '6543', 'jiuzhu', 'require')
    if not PG_URL:
        pytest.skip('the version check needs a PostgreSQL server')
    old = tmp_path / 'bin' / 'pg_dump'
    old.parent.mkdir()
    old.write_text('#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n')
    old.chmod(0o755)
    monkeypatch.setenv('JIUZHU_PG_BIN', str(old.parent))
    result = jiuzhu(PG_URL, 'backup', '-o', str(tmp_path))
    assert result.exit_code == 1 and '比数据库服务器' in result.output and 'JIUZHU_PG_BIN' in result.output, result.output
    assert not list(tmp_path.glob('*.backup*'))


def test_a_backup_of_an_older_schema_restores_and_is_upgraded_with_its_audit_rows_chained(tmp_path):
    """A backup made before `jiuzhu db upgrade` (e.g. before installing a release): revision 0001 with the
    rows of that time, no audit chain yet. The restore loads it as it was and migrates it to the head."""
    source, target = f'sqlite:///{tmp_path / "old.sqlite3"}', f'sqlite:///{tmp_path / "target.sqlite3"}'
    runner.upgrade(url_of(source), '0001')
    snapshot = load_rows(source)
    made = jiuzhu(source, 'backup', '-o', str(tmp_path / 'old.backup'))
    assert made.exit_code == 0, made.output
    manifest = archive.open_checked(tmp_path / 'old.backup').manifest
    assert manifest['schema_revision'] == '0001' and manifest['audit_last'] is None
    restored = jiuzhu(target, 'restore', str(tmp_path / 'old.backup'))
    assert restored.exit_code == 0, restored.output
    assert f'0001 → {readiness.head()}' in restored.output
    app = _app(target)
    try:
        with app.app_context():
            result = audit.verify()
            assert result.intact and result.count == len(snapshot['tables']['audit_log']) + 1   # + the restore
    finally:
        _closed(app)
