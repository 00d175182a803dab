"""The designer's pages: deployed versions and their cases, upload and deploy, any version's diagram."""
from flask import current_app, flash, redirect, render_template, request, url_for

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import ProcessDefinition
from ..services import access, repository, supervision
from .core import bp, me, zh

MAX_FILES = 50


def _render(problems=None, message=None, status=200):
    return render_template('web/designer.html', usage=supervision.definition_usage(), problems=problems or [],
                           message=message), status


@bp.get('/designer')
def designer():
    access.check_deploy(me())
    return _render()


@bp.post('/designer/deploy')
def designer_deploy():
    user = me()
    access.check_deploy(user)
    uploads = {}
    for upload in request.files.getlist('files'):
        name = (upload.filename or '').replace('\\', '/').rsplit('/', 1)[-1]
        if name:
            uploads[name] = upload.read()
    if not uploads or len(uploads) > MAX_FILES:
        return _render(message=f'请选择 1 到 {MAX_FILES} 个 .bpmn / .dmn 文件', status=422)
    try:
        results = repository.deploy_uploads(current_app.config['JIUZHU_PROCESSES_DIR'], uploads, user.username)
    except Invalid as exc:
        problems = exc.details if isinstance(exc.details, list) else []
        return _render(problems=problems, message=zh(exc.message), status=422)
    new = [f'{d.name}（{d.key}）第 {d.version} 版' for d, is_new in results if is_new]
    same = [f'{d.name}（{d.key}）第 {d.version} 版' for d, is_new in results if not is_new]
    if new:
        flash('已部署：' + '；'.join(new), 'ok')
    if same:
        flash('内容未变，沿用：' + '；'.join(same), 'info')
    if not results:
        flash('上传的文件中没有可执行的流程', 'info')
    for w in results.warnings:   # noted, not refused: e.g. a message whose data would be dropped
        flash(f'提示：{w.file} 第 {w.line or "?"} 行 {w.element or ""}：{w.message}', 'info')
    return redirect(url_for('web.designer'))


@bp.get('/designer/definitions/<int:definition_id>')
def definition(definition_id):
    access.check_deploy(me())
    row = db.session.get(ProcessDefinition, definition_id)
    if row is None:
        raise NotFound(f'没有这个流程版本 (no definition {definition_id})')
    versions = [u for u in supervision.definition_usage() if u['definition'].key == row.key]
    return render_template('web/definition.html', definition=row, versions=versions, xml=row.source)
