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
    row_hash = fields.String(metadata={'description': 'sha256 chaining this row to the one before (docs/audit.md)'})


AuditPage = page_schema(AuditSchema, 'AuditPage')


class AuditListArgs(PageArgs):
    actor = fields.String(validate=validate.Length(max=100))
    action = fields.String(validate=validate.Length(max=50))
    instance_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class AuditProblemSchema(Schema):
    kind = fields.String(metadata={'description': 'changed | missing | reordered | unlinked'})
    id = fields.Integer(metadata={'description': 'the first row where the chain breaks'})
    message = fields.String()


_ANCHOR = validate.Regexp(r'^\d{1,10}:[0-9a-f]{64}$', error='应为 编号:哈希（64 位十六进制） (expected ID:SHA256)')


class AuditVerifyArgs(Schema):
    anchor = fields.List(fields.String(validate=_ANCHOR), load_default=list,
                         metadata={'description': 'ID:HASH of a row noted down earlier; repeatable'})
    since = fields.String(validate=_ANCHOR, metadata={
        'description': 'ID:HASH of a row checked earlier: walk only the rows after it (a large log)'})


class AuditVerifySchema(Schema):
    intact = fields.Boolean(required=True)
    count = fields.Integer(required=True, metadata={'description': 'rows checked and intact'})
    last_id = fields.Integer(metadata={'description': 'the last intact row (0: none)'})
    last_hash = fields.String(metadata={'description': 'its hash: note it elsewhere, check it later as an anchor'})
    checked_anchors = fields.List(fields.Integer())
    problem = fields.Nested(AuditProblemSchema, allow_none=True)
    complete = fields.Boolean(required=True, metadata={
        'description': 'false: this request checked its share of rows and more follow; go on with next_since'})
    next_since = fields.String(allow_none=True, metadata={
        'description': 'ID:HASH to pass as `since` for the next stretch (null when complete or broken)'})
