from marshmallow import Schema, fields, validate

from ..services.comments import MAX_CHARS


class CommentSchema(Schema):
    id = fields.Integer(required=True)
    author = fields.String(metadata={'description': 'username of the author'})
    body = fields.String(metadata={'description': 'the text, ID and phone numbers masked'})
    created_at = fields.DateTime()


class CommentRequest(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_CHARS))


class CommentList(Schema):
    items = fields.List(fields.Nested(CommentSchema))


class AttachmentSchema(Schema):
    id = fields.Integer(required=True)
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    field = fields.String(allow_none=True, metadata={'description': 'form field path, when sent with a form'})
    filename = fields.String()
    content_type = fields.String(metadata={'description': 'found from the content, not the name'})
    size = fields.Integer()
    sha256 = fields.String()
    has_thumbnail = fields.Boolean()
    uploaded_by = fields.String()
    created_at = fields.DateTime()


class AttachmentList(Schema):
    items = fields.List(fields.Nested(AttachmentSchema))
