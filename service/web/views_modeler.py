"""The browser modeler: open a deployed version or a draft in bpmn-js / dmn-js, save the draft,
validate it, preview it (the deploy preview page) and deploy from there with its preview token."""
import json

from flask import flash, jsonify, make_response, redirect, render_template, request, url_for

from ..errors import Invalid
from ..extensions import db
from ..models import ProcessDefinition
from ..services import access, deploy_preview, repository
from ..services import designer_drafts as drafts
from .core import bp, me, zh
from .security import MODELER_CSP

EDITABLE = drafts.EDITABLE


def _designer():
    user = me()
    access.check_deploy(user)
    return user


def _page(path, files, base, draft=None, edited=()):
    # The diagram opened first, then what it calls and the decision tables it uses: one tab each.
    # `edited`: the files of the draft, saved again with it; the others only once they are changed.
    paths = [path] + sorted(p for p in files if p != path and p.lower().endswith(EDITABLE))
    data = {'path': path, 'base_id': base.id if base else None, 'edited': sorted(edited),
            'tabs': [{'path': p, 'kind': 'dmn' if p.lower().endswith('.dmn') else 'bpmn', 'xml': files[p]} for p in paths],
            'urls': {'save': url_for('web.draft_save'), 'validate': url_for('web.draft_validate')}}
    response = make_response(render_template('web/modeler.html', path=path, base=base, draft=draft, data=data))
    # dmn-js's logo needs its style attributes: this page's own policy allows exactly those (security.py).
    response.headers['Content-Security-Policy'] = MODELER_CSP
    return response


@bp.get('/designer/edit/<int:definition_id>')
def modeler(definition_id):
    user = _designer()
    row = repository.get(definition_id)
    mine = drafts.get(user.username, row.file, missing_ok=True)
    return _page(row.file, repository.files_of(row), row, draft=None if mine is None else mine)


@bp.get('/designer/drafts/<path:path>')
def draft(path):
    user = _designer()
    row = drafts.get(user.username, path)
    base = db.session.get(ProcessDefinition, row.base_definition_id) if row.base_definition_id else None
    files = dict(repository.files_of(base)) if base else {}
    files.update(row.files)
    return _page(row.path, files, base, draft=row, edited=row.files)


def _files_field():
    try:
        files = json.loads(request.form.get('files') or '')
    except ValueError as exc:
        raise Invalid('草稿内容无法读取 (files is not JSON)', details={'files': '格式错误'},
                      code='invalid_draft') from exc
    return files


@bp.post('/designer/drafts')
def draft_save():
    user = _designer()
    base = request.form.get('base_definition_id', type=int)
    row = drafts.save(user.username, request.form.get('path', ''), _files_field(), base)
    return jsonify({'path': row.path, 'saved_at': row.updated_at.isoformat(),
                    'url': url_for('web.draft', path=row.path)})


@bp.post('/designer/drafts/validate')
def draft_validate():
    _designer()
    result = drafts.validate(_files_field())
    result['message'] = zh(result['message'])
    # The page shows the Chinese part of each message, as the designer page's problem table does.
    result['problems'] = [dict(p, message=zh(p.get('message'))) for p in result['problems']]
    result['warnings'] = [dict(w, message=zh(w.get('message'))) for w in result['warnings']]
    return jsonify(result)


@bp.post('/designer/drafts/preview')
def draft_preview():
    user = _designer()
    row = drafts.get(user.username, request.form.get('path', ''))
    try:
        result = deploy_preview.preview(dict(row.files), user.username)
    except Invalid as exc:
        flash(f'草稿未通过校验：{zh(exc.message)}。请在编辑器中点“校验”查看问题。', 'error')
        return redirect(url_for('web.draft', path=row.path))
    return render_template('web/designer_preview.html', preview=result, draft_path=row.path,
                           deployable=any(p['status'] != 'unchanged' for p in result['processes']))


@bp.post('/designer/drafts/delete')
def draft_delete():
    user = _designer()
    drafts.delete(user.username, request.form.get('path', ''))
    flash('草稿已删除', 'info')
    return redirect(url_for('web.designer'))
