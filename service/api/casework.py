"""Comments and attachments of a case over the API (the pages use the same services)."""
from flask import Response, request

from ..errors import Invalid
from ..schemas.casework import AttachmentList, AttachmentSchema, CommentList, CommentRequest, CommentSchema
from ..services import attachments, comments
from .common import errors, make_blueprint, me

blp = make_blueprint('casework', '/api/v1', 'Comments and attachments 意见与附件')


@blp.route('/instances/<int:instance_id>/comments', methods=['GET'])
@blp.response(200, CommentList)
@errors(blp, 401, 403, 404)
def list_comments(instance_id):
    """Comments on the case, oldest first (numbers masked) 案件意见"""
    return {'items': comments.list_for(me(), instance_id)}


@blp.route('/instances/<int:instance_id>/comments', methods=['POST'])
@blp.arguments(CommentRequest)
@blp.response(201, CommentSchema)
@errors(blp, 400, 401, 403, 404, 422)
def add_comment(body, instance_id):
    """Add a comment to the case (audited) 添加意见"""
    row = comments.add(me(), instance_id, body['body'])
    return {'id': row.id, 'author': row.author, 'body': comments.mask_text(row.body), 'created_at': row.created_at}


@blp.route('/instances/<int:instance_id>/attachments', methods=['GET'])
@blp.response(200, AttachmentList)
@errors(blp, 401, 403, 404)
def list_attachments(instance_id):
    """Files and photos of the case 案件附件"""
    return {'items': attachments.list_for(me(), instance_id)}


@blp.route('/instances/<int:instance_id>/attachments', methods=['POST'])
@blp.response(201, AttachmentSchema)
@errors(blp, 401, 403, 404, 413, 422)
def upload(instance_id):
    """Upload one file as multipart field `file`: a photo (JPG, PNG, GIF, WebP) or a PDF, checked by
    content; 413 past the size limit (JIUZHU_MAX_FILE_BYTES), 422 for another type 上传附件"""
    upload = request.files.get('file')
    if upload is None or not upload.filename:
        raise Invalid('请在表单字段 file 中上传文件 (multipart field "file" is required)',
                      details={'file': '请选择文件'}, code='validation_error')
    return attachments.save(me(), upload.read(), upload.filename, instance_id=instance_id)


@blp.route('/attachments/<int:attachment_id>', methods=['GET'])
@errors(blp, 401, 403, 404)
def download(attachment_id):
    """The file's bytes, its SHA-256 checked first (audited read); `?thumbnail=1` for an image's thumbnail 下载附件"""
    thumb = request.args.get('thumbnail') in ('1', 'true')
    row, data = attachments.read(me(), attachment_id, thumbnail=thumb)
    response = Response(data, mimetype='image/jpeg' if thumb else row.content_type)
    if not thumb:
        response.headers['X-Checksum-SHA256'] = row.sha256
    return response
