"""Attachments in the pages: upload on the case page and in form fields, download, thumbnails.

A form's file fields post the file under `file:<field path>` beside a hidden `<field path>` input
holding the number of a file already sent (a draft, a form shown again after an error). `take_uploads`
stores the new files and puts their numbers in the posted values, so the form data holds the
attachment's number, never the bytes.
"""
from urllib.parse import quote

from flask import Response, flash, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from ..errors import JiuzhuError
from ..services import attachments
from . import formrender
from .core import bp, me, zh


class UploadRefused(Exception):
    """A file of a form was refused: the form is shown again with the message at its field."""

    def __init__(self, status, errors):
        super().__init__(errors['message'])
        self.status, self.errors = status, errors


def file_paths(schema, ui=None):
    out = []

    def walk(items):
        for f in items:
            if f.kind == 'file':
                out.append(f.path)
            walk(f.children)
    walk(formrender.fields(schema, ui))
    return out


def take_uploads(user, schema, ui, form, files, task=None, instance_id=None):
    """(posted values with attachment numbers, numbers of the files of this post) — or UploadRefused."""
    values = MultiDict(form)
    taken = []
    for path in file_paths(schema, ui):
        upload = files.get('file:' + path)
        if upload is not None and upload.filename:
            try:
                row = attachments.save(user, upload.read(), upload.filename, task=task, field=path)
            except JiuzhuError as exc:
                raise UploadRefused(exc.status, {'message': zh(exc.message), 'fields': {path: zh(exc.message)}}) from None
            values[path] = str(row.id)
            taken.append(row.id)
        else:
            held = values.get(path, '').strip()
            # Only a number this person may put on this form: the case's own file, or their own new one.
            if held and not (held.isdigit() and attachments.usable(user, int(held), instance_id)):
                values[path] = ''
            elif held:
                taken.append(int(held))
    return values, taken


def attachment_row(value):
    """For the form template: the attachment a field names, if the signed-in person may see it."""
    text = str(value or '').strip()
    if not text.isdigit():
        return None
    try:
        return attachments.get(me(), int(text))
    except JiuzhuError:
        return None


@bp.app_template_global('attachment_row')
def _attachment_row(value):
    return attachment_row(value)


@bp.post('/cases/<int:instance_id>/attachments')
def case_attach(instance_id):
    upload = request.files.get('file')
    if upload is None or not upload.filename:
        flash('请选择要上传的文件或照片', 'error')
    else:
        try:
            row = attachments.save(me(), upload.read(), upload.filename, instance_id=instance_id)
        except JiuzhuError as exc:
            if exc.status in (403, 404):
                raise
            flash(f'未能上传：{zh(exc.message)}', 'error')
        else:
            flash(f'已上传附件：{row.filename}', 'ok')
    return redirect(url_for('web.case', instance_id=instance_id) + '#attachments')


def _send(row, data):
    response = Response(data, mimetype=row.content_type)
    response.headers['Content-Disposition'] = f"inline; filename*=UTF-8''{quote(row.filename)}"
    return response


@bp.get('/attachments/<int:attachment_id>')
def attachment_download(attachment_id):
    row, data = attachments.read(me(), attachment_id)
    # Images and PDFs open in the browser; the type is the one found by content, never the uploader's word.
    return _send(row, data)


@bp.get('/attachments/<int:attachment_id>/thumbnail')
def attachment_thumbnail(attachment_id):
    _, data = attachments.read(me(), attachment_id, thumbnail=True)
    return Response(data, mimetype='image/jpeg')
