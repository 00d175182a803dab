from flask import request

from ..errors import Invalid
from ..schemas.definitions import DefinitionListArgs, DefinitionSchema, DeployResultSchema, UploadSchema
from ..services import access, repository
from ..config import ROOT
from .common import errors, make_blueprint, me

blp = make_blueprint('definitions', '/api/v1/process-definitions', 'Process definitions 流程定义')

MAX_UPLOAD_FILES = 50


@blp.route('', methods=['GET'])
@blp.arguments(DefinitionListArgs, location='query')
@blp.response(200, DefinitionSchema(many=True))
@errors(blp, 401, 422)
def list_definitions(args):
    """Deployed definitions with key, name, version, variant, category 已部署的流程"""
    return repository.list_definitions(latest_only=args['latest'])


@blp.route('', methods=['POST'])
@blp.arguments(UploadSchema, location='files')
@blp.response(201, DeployResultSchema)
@errors(blp, 400, 401, 403, 422)
def deploy(_files):
    """Deploy uploaded .bpmn/.dmn files (designer, admin); 422 lists file, line, element per problem 部署流程"""
    user = me()
    access.check_deploy(user)
    uploads = request.files.getlist('files')
    if not uploads or len(uploads) > MAX_UPLOAD_FILES:
        raise Invalid('请上传 1 到 50 个 .bpmn / .dmn 文件 (upload 1 to 50 files in the "files" field)',
                      details={'files': '必填'})
    named = {}
    for upload in uploads:
        name = (upload.filename or '').replace('\\', '/').rsplit('/', 1)[-1]
        if not name:
            raise Invalid('上传的文件没有文件名 (file without a name)', details={'files': '缺少文件名'})
        named[name] = upload.read()
    results = repository.deploy_uploads(_processes_dir(), named, user.username)
    return {'deployed': [d for d, new in results if new], 'unchanged': [d for d, new in results if not new],
            'warnings': [w.as_dict() for w in results.warnings]}


def _processes_dir():
    from flask import current_app
    return current_app.config.get('JIUZHU_PROCESSES_DIR') or ROOT / 'processes'
