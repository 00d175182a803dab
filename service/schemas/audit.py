from marshmallow import Schema, fields, validate

from .common import MAX_ID, MaskedDict, PageArgs, page_schema


class AuditSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    detail = MaskedDict()
    remote_addr = fields.String(allow_none=True)


AuditPage = page_schema(AuditSchema, 'AuditPage')


class AuditListArgs(PageArgs):
    actor = fields.String(validate=validate.Length(max=100))
    action = fields.String(validate=validate.Length(max=50))
    instance_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
