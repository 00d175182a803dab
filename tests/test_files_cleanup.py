"""Issue 11 leftovers: abandoned uploads and drafts of finished tasks swept (CLI and scheduler job,
audited, ages on the injected clock), key rotation re-encrypting the stored files, and the monthly
rosters exported to Excel and CSV. On SQLite and PostgreSQL, one app per backend for the module."""
import csv
import io
import os
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from service import crypto
from service.cli import main
from service.extensions import db
from service.models import Attachment, AuditEntry, Household, HouseholdAmount, Task, TaskDraft
from service.scheduler.cleanup import sweep_files
from service.services import attachments, cases, cleanup, drafts, filestore, keys
from service.services.auth import find_user

from .lists_helpers import app, module_app, start, world  # noqa: F401  (fixtures)
from .security_helpers import signed_in


def _png():
    out = io.BytesIO()
    Image.new('RGB', (40, 30), (20, 90, 160)).save(out, 'PNG')
    return out.getvalue()


def _pending(username):
    return attachments.save(find_user(username), _png(), 'p.png')


def test_abandoned_uploads_and_drafts_of_finished_tasks_are_swept(app, clock):
    store = filestore.store()
    old = _pending('t01_xieli')                         # sent with an application never submitted
    kept = _pending('t01_xieli')                        # … and one the assistant keeps in a draft
    drafts.save_start(find_user('t01_xieli'), 'dibao_a', {'materials_photo': str(kept.id)})
    case = start('t01', '褚一', 141, verify=False)
    linked = attachments.save(find_user('t01_jingban'), _png(), 'c.png', instance_id=case)
    task = cases.ready_tasks(case)[0]
    cases.claim(find_user('t01_jingban'), task.id)
    drafts.save(find_user('t01_jingban'), task.id, {'x': '1'})
    # A task that ends another way than by its form (cancelled) leaves its draft behind.
    db.session.get(Task, task.id).state = 'cancelled'
    db.session.commit()

    clock.set(clock.now() + timedelta(hours=47))
    early = cleanup.sweep()
    assert early.uploads == [] and early.drafts == 1    # files not old enough yet (48 hours); the draft goes
    clock.set(clock.now() + timedelta(hours=2))
    fresh = _pending('t01_xieli')
    old_id, old_key, kept_id = old.id, old.storage_key, kept.id
    result = sweep_files(app)                           # the scheduler's job
    assert result.uploads == [old_id] and result.drafts == 0 and result.kept_in_drafts == 1
    assert not store.exists(old_key) and not store.exists(old_key + '.thumb')
    for row in (kept, linked, fresh):
        assert db.session.get(Attachment, row.id) is not None and store.exists(row.storage_key)
    assert db.session.scalars(select(TaskDraft).where(TaskDraft.task_id == task.id)).all() == []
    assert drafts.load_start(find_user('t01_xieli'), 'dibao_a') is not None
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'files_swept')
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.detail['attachments'] == [old_id] and entry.detail['task_drafts'] == 0
    # Nothing left to do: no audit entry for an empty sweep.
    before = db.session.scalar(select(db.func.count()).select_from(AuditEntry))
    assert cleanup.sweep().uploads == []
    assert db.session.scalar(select(db.func.count()).select_from(AuditEntry)) == before
    # The draft dropped, its file is abandoned too.
    drafts.discard_start(find_user('t01_xieli'), 'dibao_a')
    assert cleanup.sweep().uploads == [kept_id]


def test_files_sweep_command(app, clock, monkeypatch):
    row_id = _pending('t02_xieli').id
    clock.set(clock.now() + timedelta(hours=5))
    db.session.remove()
    # The command's app reads the clock of its environment (a manual clock starts at the wall time:
    # later than the module's T0, so the file is older than four hours there too).
    for name, value in (('DATABASE_URL', app.config['SQLALCHEMY_DATABASE_URI']), ('JIUZHU_CLOCK', 'manual'),
                        ('JIUZHU_FILES_DIR', app.config['JIUZHU_FILES_DIR'])):
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ['files', 'sweep', '--hours', '4'])
    assert result.exit_code == 0 and '已删除未关联案件的附件' in result.output, result.output
    assert db.session.get(Attachment, row_id) is None
    assert CliRunner().invoke(main, ['files', 'sweep', '--hours', '0']).exit_code == 2


def test_key_rotation_re_encrypts_the_stored_files(app):
    row = attachments.save(find_user('t01_jingban'), _png(), 'k.png', instance_id=start('t01', '卫一', 142,
                                                                                          verify=False))
    store = filestore.store()
    old_ring = crypto.active()
    key = os.urandom(32)
    new = crypto.Keyring({crypto.fingerprint(key): key, **old_ring.keys}, old_ring.search_key, demo=old_ring.demo)
    app.extensions['jiuzhu.keyring'] = new
    try:
        result = keys.rotate('tester')
        assert result.rewritten.get('attachment files', 0) >= 2      # the file and its thumbnail
        prefix = f'{crypto.PREFIX}{new.current_id}:'.encode()
        assert store.get(row.storage_key).startswith(prefix)
        assert store.get(row.storage_key + '.thumb').startswith(prefix)
        assert attachments.read(find_user('t01_jingban'), row.id)[1] == _png_of(row)
        assert keys.rotate('tester').rewritten.get('attachment files') is None   # done stays done
    finally:
        # Back under the module's key (the new one kept to read) for the other tests.
        current = old_ring.current_id
        app.extensions['jiuzhu.keyring'] = crypto.Keyring({current: old_ring.keys[current], **new.keys},
                                                          old_ring.search_key, demo=old_ring.demo)
        keys.rotate('tester')
        app.extensions['jiuzhu.keyring'] = old_ring


def _png_of(row):
    return crypto.active().decrypt_bytes(filestore.store().get(row.storage_key), 'attachment:' + row.storage_key)


def _household(township, n, month, fen, changes=()):
    at = datetime(2026, 6, 1, tzinfo=timezone.utc)
    row = Household(category='dibao', township=township, review_type='stable', status='receiving',
                    head_name=f'名册户{n}', head_id_hash=f'{n:064d}', members=[], size=2, amount_fen=fen)
    db.session.add(row)
    db.session.flush()
    for change, effective, amount in (('grant', month, fen), *changes):
        db.session.add(HouseholdAmount(household_id=row.id, effective_month=effective, amount_fen=amount,
                                       change=change, reason='复核' if change != 'grant' else None,
                                       recorded_by='tester', recorded_at=at))
    db.session.commit()
    return row.id


def test_monthly_rosters_export_to_excel_and_csv(app):
    a = _household('t01', 9001, '2026-10', 60000)
    b = _household('t01', 9002, '2026-11', 45000)
    _household('t02', 9003, '2026-05', 70000)
    cw = signed_in(app, 't01_jingban')
    assert 'id="roster-export"' in cw.get('/households').get_data(as_text=True)
    r = cw.get('/rosters/payment.xlsx?month=2026-11')
    assert r.status_code == 200 and 'attachment' in r.headers['Content-Disposition']
    sheet = load_workbook(io.BytesIO(r.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ['户号', '户主', '镇街', '救助类别', '人数', '月救助金额（元）']
    lines = {row[0]: row for row in rows[1:-1]}
    assert lines[a][1] == '名册户9001' and lines[a][5] == 600 and lines[b][5] == 450
    assert all(row[2] != 't01' for row in rows[1:])           # names, not keys
    assert rows[-1][0] == '合计'
    text = cw.get('/rosters/changes.csv?month=2026-11').data.decode('utf-8-sig')
    changes = list(csv.reader(io.StringIO(text)))
    assert changes[0][0] == '变动' and [c[1] for c in changes[1:]] == [str(b)] and changes[1][0] == '新纳入'
    # Another township's roster is not theirs; bad months are a clear 4xx.
    assert cw.get('/rosters/payment.csv?township=t02&month=2026-11').status_code == 404
    assert cw.get('/rosters/payment.xlsx?month=2026-13').status_code == 422
    assert cw.get('/rosters/payment.pdf?month=2026-11').status_code == 404
    sup = signed_in(app, 'jianguan')
    whole = load_workbook(io.BytesIO(sup.get('/rosters/payment.xlsx?month=2026-11').data)).active
    assert {r[0] for r in whole.iter_rows(min_row=2, values_only=True)} >= {a, b}
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'export_list')
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.actor == 'jianguan' and entry.detail['list'] == 'roster_payment'
