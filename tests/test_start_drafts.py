"""Drafts of the start form (新申请 暂存): kept per person and process on the server, encrypted like task
drafts, restored on return, dropped when the case is started; the same mechanism as task drafts
(services/drafts.py, task_draft rows without a task). On SQLite and PostgreSQL, one app per backend."""
import io
import re

from PIL import Image
from sqlalchemy import select, text

from service.extensions import db
from service.models import Attachment, AuditEntry, ProcessInstance, TaskDraft
from service.services import drafts
from service.services.auth import find_user

from .lists_helpers import app, module_app, world  # noqa: F401  (fixtures)
from .security_helpers import csrf_of, signed_in

FORM = {'applicant.name': '蒋秀珍', 'applicant.id_number': '11010519491231002X', 'applicant.phone': '13800001234',
        'applicant.address': '城关镇幸福社区5号楼', 'applicant.household_size': '2'}


def _png():
    out = io.BytesIO()
    Image.new('RGB', (64, 48), (200, 30, 30)).save(out, 'PNG')
    return out.getvalue()


def _drafts_of(username):
    return db.session.scalars(select(TaskDraft).where(TaskDraft.username == username,
                                                      TaskDraft.task_id.is_(None))).all()


def test_village_assistant_parks_an_application_with_a_photo_and_finishes_it_later(app):
    xieli = signed_in(app, 't01_xieli')
    page = xieli.get('/cases/new?process=dibao_a').get_data(as_text=True)
    assert 'id="save-draft"' in page and 'data-autosave="/cases/new/dibao_a/draft.json"' in page
    token = csrf_of(page)
    # 暂存 with a photo: the file is stored (waiting for its case), its number kept in the draft.
    r = xieli.post('/cases/new/dibao_a/draft', data={**FORM, 'csrf_token': token, 'process_key': 'dibao_a',
                                                     'business_key': 'XL-0001',
                                                     'file:materials_photo': (io.BytesIO(_png()), 'p.png')},
                   content_type='multipart/form-data')
    assert r.status_code == 302 and r.headers['Location'].endswith('/cases/new?process=dibao_a')
    [row] = _drafts_of('t01_xieli')
    assert row.process_key == 'dibao_a' and row.values['applicant.name'] == '蒋秀珍'
    photo = db.session.scalar(select(Attachment).where(Attachment.uploaded_by == 't01_xieli')
                              .order_by(Attachment.id.desc()))
    assert row.values['materials_photo'] == str(photo.id) and photo.instance_id is None
    # Encrypted at rest like a task draft: the name is not in the stored column.
    stored = db.session.execute(text('SELECT "values" FROM task_draft WHERE id = :i'), {'i': row.id}).scalar()
    assert '蒋秀珍' not in stored
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'save_draft',
                                                        AuditEntry.actor == 't01_xieli')).all()
    assert audit and audit[-1].detail['process_key'] == 'dibao_a' and '蒋秀珍' not in str(audit[-1].detail)

    # The automatic save (no files; the radio's process is ignored: the address names it), not audited.
    audited = len(audit)
    r = xieli.post('/cases/new/dibao_a/draft.json', data={**FORM, 'applicant.phone': '13900001111',
                                                         'materials_photo': str(photo.id),
                                                         'process_key': 'dibao_b', 'business_key': 'XL-0001',
                                                         'csrf_token': token})
    assert r.status_code == 200 and r.json['saved_at_zh']
    assert len(_drafts_of('t01_xieli')) == 1 and 'process_key' not in _drafts_of('t01_xieli')[0].values
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'save_draft',
                                                           AuditEntry.actor == 't01_xieli')).all()) == audited

    # Later, a new session: the form comes back as left, photo included; nobody else sees it.
    again = signed_in(app, 't01_xieli')
    page = again.get('/cases/new?process=dibao_a').get_data(as_text=True)
    assert 'id="draft-restored"' in page and '13900001111' in page and 'value="XL-0001"' in page
    assert f'/attachments/{photo.id}/thumbnail' in page
    other = signed_in(app, 't01_jingban').get('/cases/new?process=dibao_a').get_data(as_text=True)
    assert 'draft-restored' not in other and '13900001111' not in other

    # Finishing it starts the case, links the photo and drops the draft.
    form = {**FORM, 'applicant.phone': '13900001111', 'materials_photo': str(photo.id), 'process_key': 'dibao_a',
            'business_key': 'XL-0001', 'authorization_signed': 'true', 'commitment_signed': 'true',
            'csrf_token': csrf_of(page)}
    r = again.post('/cases/new', data=form, content_type='multipart/form-data')
    assert r.status_code == 302, r.get_data(as_text=True)
    case_id = int(re.search(r'/cases/(\d+)', r.headers['Location']).group(1))
    db.session.expire_all()
    assert db.session.get(Attachment, photo.id).instance_id == case_id
    assert db.session.get(ProcessInstance, case_id).business_key == 'XL-0001'
    assert _drafts_of('t01_xieli') == []


def test_start_drafts_are_for_starters_of_deployed_processes_only(app):
    xieli = find_user('t02_xieli')
    drafts.save_start(xieli, 'dibao_a', {'applicant.name': '韩一'}, explicit=False)
    assert drafts.load_start(xieli, 'dibao_a').values == {'applicant.name': '韩一'}
    assert drafts.load_start(find_user('t02_jingban'), 'dibao_a') is None
    # One per person and process: saving again replaces it.
    drafts.save_start(xieli, 'dibao_a', {'applicant.name': '韩二'})
    assert [d.values for d in drafts.start_drafts(xieli)] == [{'applicant.name': '韩二'}]
    drafts.discard_start(xieli, 'dibao_a')
    assert drafts.start_drafts(xieli) == []
    # The county starts no applications; a process never deployed has no form; bad input is a 422.
    web = signed_in(app, 'jianguan')
    assert web.post('/cases/new/dibao_a/draft.json', data={'csrf_token': csrf_of(web.get('/cases').get_data(
        as_text=True))}).status_code == 403
    client = signed_in(app, 't02_xieli')
    token = csrf_of(client.get('/cases/new').get_data(as_text=True))
    assert client.post('/cases/new/nothing/draft.json', data={'csrf_token': token}).status_code == 404
    r = client.post('/cases/new/dibao_a/draft.json', data={'csrf_token': token, 'x': 'y' * 20001})
    assert r.status_code == 422 and '过长' in r.json['message']
