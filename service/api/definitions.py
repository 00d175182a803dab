import io

from flask import request, send_file

from ..errors import Invalid, NotFound
from ..schemas.definitions import (DefinitionListArgs, DefinitionSchema, DeployFormSchema, DeployResultSchema,
                                   PreviewSchema, UploadSchema)
from ..services import access, bundles, deploy_preview, repository
from .common import errors, make_blueprint, me

blp = make_blueprint('definitions', '/api/v1/process-definitions', 'Process definitions 流程定义')


@blp.route('', methods=['GET'])
@blp.arguments(DefinitionListArgs, location='query')
@blp.response(200, DefinitionSchema(many=True))
@errors(blp, 401, 422)
def list_definitions(args):
    """Deployed definitions with key, name, version, variant, category 已部署的流程"""
    return repository.list_definitions(latest_only=args['latest'])


def _uploads():
    uploads = request.files.getlist('files')
    if not uploads or len(uploads) > bundles.MAX_FILES:
        raise Invalid(f'请上传 1 到 {bundles.MAX_FILES} 个文件 (upload 1 to {bundles.MAX_FILES} files in the "files" '
                      f'field)', details={'files': '必填'})
    if any(not u.filename for u in uploads):
        raise Invalid('上传的文件没有文件名 (file without a name)', details={'files': '缺少文件名'})
    return bundles.normalize([(u.filename, u.read()) for u in uploads])


@blp.route('/preview', methods=['POST'])
@blp.arguments(UploadSchema, location='files')
@blp.response(200, PreviewSchema)
@errors(blp, 400, 401, 403, 422)
def preview(_files):
    """Validate a bundle and compare it with the running versions; the deploy needs its preview_token 部署预览

    A process whose files did not change is `unchanged`; a new version lists its changes in plain
    Chinese (tasks, who does them, timers, branches and conditions, scripts, messages, forms,
    decision tables) and how many unfinished cases stay on their versions. 422 lists file, line,
    element per problem.
    """
    user = me()
    access.check_deploy(user)
    return deploy_preview.preview(_uploads(), user.username)


@blp.route('', methods=['POST'])
@blp.arguments(UploadSchema, location='files')
@blp.arguments(DeployFormSchema, location='form')
@blp.response(201, DeployResultSchema)
@errors(blp, 400, 401, 403, 409, 422)
def deploy(_files, form):
    """Deploy a previewed bundle (designer, admin) 部署流程

    The same files as the preview and its `preview_token`: without a token 422 `preview_required`;
    other files, someone else's preview, or a deploy since the preview: 409 (preview again).
    Processes that use an uploaded decision table or form get new versions too.
    """
    user = me()
    access.check_deploy(user)
    files = _uploads()
    results = deploy_preview.deploy(form.get('preview_token'), user.username, files)
    return {'deployed': [d for d, new in results if new], 'unchanged': [d for d, new in results if not new],
            'warnings': [w.as_dict() for w in getattr(results, 'warnings', [])]}


@blp.route('/<int:definition_id>/files', methods=['GET'])
@blp.response(200, description='application/zip: the diagram, the diagrams and decision tables it calls, forms/')
@errors(blp, 401, 403, 404)
def download(definition_id):
    """A version's files as deployed, zipped 下载某版本的文件"""
    access.check_deploy(me())
    definition = repository.get(definition_id)
    data, name = repository.zip_of(definition)
    return send_file(io.BytesIO(data), mimetype='application/zip', as_attachment=True, download_name=name)


@blp.route('/<int:definition_id>/files/<path:path>', methods=['GET'])
@blp.response(200, description='the file as deployed (XML or JSON)')
@errors(blp, 401, 403, 404)
def download_file(definition_id, path):
    """One file of a version as deployed (e.g. delegated/dibao_a.bpmn, forms/x.schema.json) 下载单个文件"""
    access.check_deploy(me())
    definition = repository.get(definition_id)
    text = repository.files_of(definition).get(path)
    if text is None:
        raise NotFound(f'该版本没有这个文件：{path} (no such file in this version)', code='not_found')
    mimetype = 'application/json' if path.endswith('.json') else 'application/xml'
    return send_file(io.BytesIO(text.encode('utf-8')), mimetype=mimetype, as_attachment=True,
                     download_name=path.rsplit('/', 1)[-1])
