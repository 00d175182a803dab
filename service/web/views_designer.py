"""The designer's pages: deployed versions and their cases; upload, preview, deploy; any version's
diagram and files. Nothing goes live from here without a preview of exactly the files deployed."""
import io

from flask import flash, redirect, render_template, request, send_file, url_for

from ..errors import Conflict, Invalid, NotFound
from ..services import access, bundles, deploy_preview, repository, supervision
from ..services import designer_drafts as drafts
from .core import bp, me, zh


def _render(problems=None, message=None, status=200):
    return render_template('web/designer.html', usage=supervision.definition_usage(), problems=problems or [],
                           message=message, drafts=drafts.mine(me().username)), status


@bp.get('/designer')
def designer():
    access.check_deploy(me())
    return _render()


def _uploads():
    # The folder picker sends each file's path inside the folder as its name; keep it.
    uploads = [(u.filename, u.read()) for u in request.files.getlist('files') + request.files.getlist('folder')
               if u.filename]
    if not uploads or len(uploads) > bundles.MAX_FILES:
        raise Invalid(f'请选择 1 到 {bundles.MAX_FILES} 个文件 (choose files)', details=[])
    return bundles.normalize(uploads)


@bp.post('/designer/preview')
def designer_preview():
    user = me()
    access.check_deploy(user)
    try:
        result = deploy_preview.preview(_uploads(), user.username)
    except Invalid as exc:
        problems = exc.details if isinstance(exc.details, list) else []
        return _render(problems=problems, message=zh(exc.message), status=422)
    return render_template('web/designer_preview.html', preview=result,
                           deployable=any(p['status'] != 'unchanged' for p in result['processes']))


@bp.post('/designer/deploy')
def designer_deploy():
    user = me()
    access.check_deploy(user)
    try:
        results = deploy_preview.deploy(request.form.get('preview_token'), user.username)
    except (Invalid, Conflict) as exc:
        problems = exc.details if isinstance(exc.details, list) else []
        return _render(problems=problems, message=zh(exc.message), status=exc.status)
    if request.form.get('draft_path'):     # deployed from the browser modeler: the draft is live now
        drafts.delete(user.username, request.form['draft_path'])
    new = [f'{d.name}（{d.key}）第 {d.version} 版' for d, is_new in results if is_new]
    same = [f'{d.name}（{d.key}）第 {d.version} 版' for d, is_new in results if not is_new]
    if new:
        flash('已部署：' + '；'.join(new), 'ok')
    if same:
        flash('内容未变，沿用：' + '；'.join(same), 'info')
    if not results:
        flash('上传的文件中没有要部署的流程（没有流程使用上传的决策表或表单）', 'info')
    for w in getattr(results, 'warnings', []):   # noted, not refused: e.g. a message whose data would be dropped
        flash(f'提示：{w.file} 第 {w.line or "?"} 行 {w.element or ""}：{w.message}', 'info')
    return redirect(url_for('web.designer'))


@bp.get('/designer/definitions/<int:definition_id>')
def definition(definition_id):
    access.check_deploy(me())
    row = repository.get(definition_id)
    versions = [u for u in supervision.definition_usage() if u['definition'].key == row.key]
    return render_template('web/definition.html', definition=row, versions=versions, xml=row.source,
                           files=sorted(repository.files_of(row)))


@bp.get('/designer/definitions/<int:definition_id>/files')
def definition_zip(definition_id):
    access.check_deploy(me())
    data, name = repository.zip_of(repository.get(definition_id))
    return send_file(io.BytesIO(data), mimetype='application/zip', as_attachment=True, download_name=name)


@bp.get('/designer/definitions/<int:definition_id>/files/<path:path>')
def definition_file(definition_id, path):
    access.check_deploy(me())
    text = repository.files_of(repository.get(definition_id)).get(path)
    if text is None:
        raise NotFound(f'该版本没有这个文件：{path}')
    return send_file(io.BytesIO(text.encode('utf-8')), as_attachment=True, download_name=path.rsplit('/', 1)[-1],
                     mimetype='application/json' if path.endswith('.json') else 'application/xml')
