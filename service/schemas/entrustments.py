"""The entrustment registry (委托书) and the phase report."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..services.entrustments import PHASES

_TEXT = validate.Length(max=2000)
_DAYS = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31), error='应在 2000 年到 2100 年之间')


class EntrustmentFields(Schema):
    phase = fields.String(validate=validate.OneOf(list(PHASES)),
                          metadata={'description': 'preparation 前期准备 | transition 下放过渡 | full 完全下放'})
    variant = fields.String(allow_none=True, validate=validate.Length(max=50),
                            metadata={'description': 'the flow the township works on (e.g. delegated_a)'})
    matters = fields.String(validate=_TEXT, metadata={'description': '授权事项'})
    scope_text = fields.String(validate=_TEXT, metadata={'description': '权限范围'})
    scope = fields.Dict(metadata={'description': 'the limits as data, e.g. {"temporary_aid_max_months": 5}'})
    responsibility = fields.String(validate=_TEXT, metadata={'description': '责任边界'})
    letter_no = fields.String(validate=validate.Length(max=100), metadata={'description': '委托书文号'})
    signed_by = fields.String(validate=validate.Length(max=100), metadata={'description': '签发人'})
    signed_on = fields.Date(allow_none=True, validate=_DAYS)
    valid_from = fields.Date(validate=_DAYS)
    valid_to = fields.Date(allow_none=True, validate=_DAYS, metadata={'description': 'inclusive; empty: until revoked'})


class EntrustmentCreate(EntrustmentFields):
    township = fields.String(required=True, validate=validate.Length(min=1, max=50))
    category = fields.String(required=True, validate=validate.Length(min=1, max=50))

    @validates_schema
    def _required(self, data, **kwargs):
        missing = {k: ['Missing data for required field.'] for k in ('phase', 'valid_from') if k not in data}
        if missing:
            raise ValidationError(missing)


class EntrustmentUpdate(EntrustmentFields):
    version = fields.Integer(required=True, metadata={'description': 'the version you read (409 if it changed)'})


class EntrustmentRevoke(Schema):
    version = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class EntrustmentListArgs(Schema):
    township = fields.String(validate=validate.Length(max=50))
    category = fields.String(validate=validate.Length(max=50))
    in_force = fields.Boolean(load_default=False, metadata={'description': 'only those in force today'})


class EntrustmentSchema(EntrustmentCreate):
    id = fields.Integer()
    version = fields.Integer()
    created_by = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    revoked_by = fields.String(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
    in_force = fields.Boolean()


class EntrustmentList(Schema):
    items = fields.List(fields.Nested(EntrustmentSchema))


class PhaseReportArgs(Schema):
    township = fields.String(validate=validate.Length(max=50))
    since = fields.Date(validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31)),
                        metadata={'description': 'count cases started from this month on'})


class PhaseReportRow(Schema):
    township = fields.String()
    category = fields.String()
    variant = fields.String()
    month = fields.String(metadata={'description': 'YYYY-MM, Asia/Shanghai'})
    cases = fields.Integer()


class PhaseReport(Schema):
    items = fields.List(fields.Nested(PhaseReportRow))
