"""Attachments: type by content, size limit, checksum, thumbnail, scope, and files on form fields."""
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from service import demo
from service.extensions import db
from service.models import Attachment, AuditEntry
from service.services import cases, repository, runtime, users

from .test_web_pages import ROOT, DIAGRAMS, signed_in, start

LIMIT = 64 * 1024


def png(width=800, height=600, colour=(200, 30, 30)):
    out = io.BytesIO()
    Image.new('RGB', (width, height), colour).save(out, 'PNG')
    return out.getvalue()


PDF = b'%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n'


@pytest.fixture
def app(make_app, monkeypatch, tmp_path):
    monkeypatch.setattr(users, 'hash_password', lambda pw: generate_password_hash(pw, method='pbkdf2:sha256:1000'))
    app = make_app(JIUZHU_MAX_FILE_BYTES=LIMIT, JIUZHU_FILES_DIR=str(tmp_path / 'files'))
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({name: tree[name] for name in DIAGRAMS}, 'tester')
        demo.load_users()
        demo.load_entrustments()
        yield app


def upload(client, case_id, data, name):
    return client.post(f'/cases/{case_id}/attachments', data={'csrf_token': client.csrf, 'file': (io.BytesIO(data), name)},
                       content_type='multipart/form-data')


def test_case_attachments_checked_stored_and_scoped(app, tmp_path):
    case = start('t01')
    cw = signed_in(app, 't01_jingban')
    photo = png()
    assert upload(cw, case.id, photo, '门口.png').status_code == 302
    assert upload(cw, case.id, PDF, '户口簿扫描.pdf').status_code == 302
    rows = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [(r.content_type, r.has_thumbnail, r.filename) for r in rows] == [
        ('image/png', True, '门口.png'), ('application/pdf', False, '户口簿扫描.pdf')]
    import hashlib
    assert rows[0].sha256 == hashlib.sha256(photo).hexdigest() and rows[0].size == len(photo)

    # Stored outside the database, encrypted: the bytes on disk are not the photo.
    on_disk = (tmp_path / 'files' / rows[0].storage_key).read_bytes()
    assert on_disk.startswith(b'jz1:') and b'PNG' not in on_disk[:64]

    page = cw.get(f'/cases/{case.id}').get_data(as_text=True)
    section = page.split('id="attachments"')[1]
    assert '门口.png' in section and '户口簿扫描.pdf' in section and f'/attachments/{rows[0].id}/thumbnail' in section
    r = cw.get(f'/attachments/{rows[0].id}')
    assert r.status_code == 200 and r.data == photo and r.mimetype == 'image/png'
    thumb = cw.get(f'/attachments/{rows[0].id}/thumbnail')
    assert thumb.mimetype == 'image/jpeg' and max(Image.open(io.BytesIO(thumb.data)).size) == 320
    assert cw.get(f'/attachments/{rows[1].id}/thumbnail').status_code == 404
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'attach')).all()

    # By content, not by name: text called .png, an image cut short; too large is 413.
    for data, name, expected in ((b'hello, not a photo at all', 'a.png', '不支持的文件类型'),
                                 (photo[:200], 'cut.png', '图片文件已损坏'),
                                 (b'', 'empty.jpg', '文件是空的')):
        assert upload(cw, case.id, data, name).status_code == 302
        assert expected in cw.get(f'/cases/{case.id}').get_data(as_text=True), name
    assert db.session.scalar(select(Attachment.id).where(Attachment.id > rows[1].id)) is None

    api = app.test_client()
    token = api.post('/api/v1/auth/token', json={'username': 't01_jingban', 'password': demo.DEMO_PASSWORD}).json['token']
    auth = {'Authorization': f'Bearer {token}'}
    big = b'%PDF-1.4\n' + b'0' * LIMIT
    r = api.post(f'/api/v1/instances/{case.id}/attachments', data={'file': (io.BytesIO(big), 'big.pdf')}, headers=auth)
    assert r.status_code == 413 and r.json['error'] == 'file_too_large' and '文件过大' in r.json['message']
    r = api.post(f'/api/v1/instances/{case.id}/attachments', data={'file': (io.BytesIO(b'MZ\x90\x00'), 'x.exe')},
                 headers=auth)
    assert r.status_code == 422 and '不支持的文件类型' in r.json['message']
    listed = api.get(f'/api/v1/instances/{case.id}/attachments', headers=auth).json['items']
    assert [a['filename'] for a in listed] == ['门口.png', '户口簿扫描.pdf']
    r = api.get(f'/api/v1/attachments/{rows[0].id}', headers=auth)
    assert r.data == photo and r.headers['X-Checksum-SHA256'] == rows[0].sha256

    # Another township: 404 like a missing one, for the list, the file and an upload.
    other = signed_in(app, 't02_jingban')
    assert other.get(f'/attachments/{rows[0].id}').status_code == 404
    assert other.get(f'/attachments/{rows[0].id}/thumbnail').status_code == 404
    assert upload(other, case.id, photo, 'x.png').status_code == 404
    assert signed_in(app, 'jianguan').get(f'/attachments/{rows[0].id}').status_code == 200

    # A file changed on disk is refused, never served.
    path = tmp_path / 'files' / rows[1].storage_key
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    r = cw.get(f'/attachments/{rows[1].id}')
    assert r.status_code == 500 and '校验值不符' in r.get_data(as_text=True)
    # ... and found by the check an operator runs after a restore (jiuzhu files check).
    (tmp_path / 'files' / rows[0].storage_key).unlink()
    from service.services import attachments
    assert attachments.check_store() == (2, [(rows[0].id, 'missing'), (rows[1].id, 'damaged')])


def test_a_photo_on_a_form_field_ends_up_on_the_case(app):
    xieli = signed_in(app, 't01_xieli')
    page = xieli.get('/cases/new?process=dibao_a').get_data(as_text=True)
    assert 'name="file:materials_photo" accept="image/*" capture="environment"' in page
    assert 'enctype="multipart/form-data"' in page
    form = {'csrf_token': xieli.csrf, 'process_key': 'dibao_a', 'applicant.name': '王秀兰',
            'applicant.id_number': '11010519491231002X', 'applicant.phone': '13800001234',
            'applicant.address': '城关镇幸福社区3号楼', 'applicant.household_size': '3', 'authorization_signed': 'true',
            'commitment_signed': 'true'}
    # A refused file keeps the form as typed and says why at the field.
    r = xieli.post('/cases/new', data=dict(form, **{'file:materials_photo': (io.BytesIO(b'not an image'), 'a.jpg')}),
                   content_type='multipart/form-data')
    assert r.status_code == 422 and '不支持的文件类型' in r.get_data(as_text=True) and '幸福社区' in r.get_data(as_text=True)
    photo = png(1200, 900)
    r = xieli.post('/cases/new', data=dict(form, **{'file:materials_photo': (io.BytesIO(photo), '申请书.png')}),
                   content_type='multipart/form-data')
    assert r.status_code == 302, r.get_data(as_text=True)
    case_id = int(re.search(r'/cases/(\d+)', r.headers['Location']).group(1))
    row = db.session.scalars(select(Attachment)).one()
    assert (row.instance_id, row.field, row.uploaded_by, row.township) == (case_id, 'materials_photo', 't01_xieli', 't01')
    assert runtime.case_data(case_id)['materials_photo'] == row.id      # the number, not the bytes
    page = xieli.get(f'/cases/{case_id}').get_data(as_text=True)
    assert '申请书.png' in page.split('id="attachments"')[1] and f'附件第 {row.id} 号' in page

    # A number typed into the hidden field that is not the case's own (another case's file) is dropped.
    other_case = start('t01')
    stranger = signed_in(app, 't01_jingban')
    task = cases.ready_tasks(other_case.id)[0]
    stranger.post(f'/tasks/{task.id}/claim', data={'csrf_token': stranger.csrf})
    from service.services import attachments
    assert not attachments.usable(stranger_user := users_of('t01_jingban'), row.id, other_case.id)
    assert attachments.usable(stranger_user, row.id, case_id)


def users_of(username):
    from service.services.auth import find_user
    return find_user(username)


def test_files_check_command(app, database_url, tmp_path, monkeypatch):
    from click.testing import CliRunner
    from service.cli import main
    case = start('t01')
    cw = signed_in(app, 't01_jingban')
    assert upload(cw, case.id, PDF, 'a.pdf').status_code == 302
    for name, value in (('DATABASE_URL', database_url), ('JIUZHU_FILES_DIR', str(tmp_path / 'files')),
                        ('JIUZHU_CLOCK', 'manual')):
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ['files', 'check'])
    assert result.exit_code == 0 and '已检查 1 个附件，0 个有问题' in result.output, result.output
    row = db.session.scalars(select(Attachment)).one()
    (tmp_path / 'files' / row.storage_key).unlink()
    result = CliRunner().invoke(main, ['files', 'check'])
    assert result.exit_code == 1 and f'附件 {row.id}: 缺失' in result.output
