"""一户一档 pages: the household's archive on screen, as one PDF, and as a zip of the originals.

The archive is read by services/household_archive.py (who may, in which order, audited); this
module adds what only the web layer has: the form data as labelled rows (formrender), the
notices as their printable pages (documents/), the PDF (archive_pdf.py).
"""
from urllib.parse import quote

from flask import Response, render_template

from ..documents.gather import CaseNotices
from ..errors import JiuzhuError
from ..extensions import db
from ..services import attachments, audit, household_archive
from ..services.context import now
from ..services.households import view as household_view
from ..services.masking import mask_id_number
from . import archive_pdf
from .core import bp, me
from .datarows import data_sections

TYPES_ZH = {'application/pdf': 'PDF 文件'}


def _archive(household_id):
    user = me()
    cases = {}

    def notices_of(instance):
        cases[instance.id] = CaseNotices(instance)
        return {'data': cases[instance.id].data, 'notices': cases[instance.id].listing()}
    archive = household_archive.gather(user, household_id, notices_of)
    for doc in archive['documents']:
        if doc['kind'] in ('application', 'form'):
            doc['sections'] = data_sections(doc.pop('data'))
        elif doc['kind'] == 'attachment':
            doc['type_zh'] = TYPES_ZH.get(doc['content_type'], '图片')
    archive.update(head=household_view.summary(archive['household']), sections=household_archive.SECTION_ZH,
                   exported_at=now(), exported_by=user.username, notices=cases)
    archive['head']['head_id_number_masked'] = _masked_head(archive['household'])
    return user, archive


def _masked_head(household):
    members = household.members or []
    number = (members[0] if members else {}).get('id_number')
    return mask_id_number(number) if number else ''


def _notice_html(archive):
    def render(doc):
        notice = archive['notices'][doc['case']['id']].notice(doc['notice_kind'])
        return render_template(f'notices/{doc["notice_kind"]}.html', n=notice, instance_id=doc['case']['id'])
    return render


@bp.get('/households/<int:household_id>/archive')
def household_archive_page(household_id):
    _, archive = _archive(household_id)
    return render_template('web/household_archive.html', archive=archive)


def _pdf(archive):
    return archive_pdf.build_pdf(archive, _notice_html(archive))


def _download(body, mimetype, filename):
    return Response(body, mimetype=mimetype, headers={
        'Content-Disposition': f"attachment; filename=household-archive.{filename.rsplit('.', 1)[1]}; "
                               f"filename*=UTF-8''{quote(filename)}"})


@bp.get('/households/<int:household_id>/archive.pdf')
def household_archive_pdf(household_id):
    user, archive = _archive(household_id)
    pdf = _pdf(archive)
    audit.record(user.username, 'household_archive_exported', household_id=household_id, format='pdf',
                 documents=len(archive['documents']))
    db.session.commit()
    return _download(pdf, 'application/pdf', f'一户一档-{household_id}.pdf')


@bp.get('/households/<int:household_id>/archive.zip')
def household_archive_zip(household_id):
    user, archive = _archive(household_id)
    originals = []
    for doc in archive['documents']:
        if doc['kind'] == 'attachment':
            try:
                _, data = attachments.read(user, doc['attachment_id'])
            except JiuzhuError:
                continue   # a damaged or missing file is listed in the PDF, not packed (attachments logs it)
            originals.append((doc, data))
    body = archive_pdf.build_zip(archive, originals)
    audit.record(user.username, 'household_archive_exported', household_id=household_id, format='zip',
                 originals=len(originals))
    db.session.commit()
    return _download(body, 'application/zip', f'一户一档-{household_id}.zip')
