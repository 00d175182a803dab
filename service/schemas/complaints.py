"""Reports and complaints (举报投诉, 12349): what is recorded and what is shown."""
from marshmallow import Schema, fields, validate

from ..services.complaints import SOURCES, STATUS_ZH
from .common import MAX_ID


class ComplaintCreate(Schema):
    source = fields.String(required=True, validate=validate.OneOf(list(SOURCES)),
                           metadata={'description': ' | '.join(f'{k} {v}' for k, v in SOURCES.items())})
    content = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    reporter_name = fields.String(validate=validate.Length(max=50), load_default=None)
    reporter_contact = fields.String(validate=validate.Length(max=100), load_default=None,
                                     metadata={'description': 'encrypted at rest, shown masked; empty: anonymous'})
    household_id = fields.Integer(validate=validate.Range(1, MAX_ID), load_default=None)
    instance_id = fields.Integer(validate=validate.Range(1, MAX_ID), load_default=None,
                                 metadata={'description': 'the case the complaint concerns'})
    township = fields.String(validate=validate.Length(max=50), load_default=None,
                             metadata={'description': 'county staff: the township, when no household or case is named'})


class ComplaintListArgs(Schema):
    status = fields.String(validate=validate.OneOf(list(STATUS_ZH)))
    township = fields.String(validate=validate.Length(max=50))


class ComplaintSummary(Schema):
    id = fields.Integer()
    township = fields.String()
    source = fields.String()
    source_zh = fields.String()
    content_short = fields.String()
    household_id = fields.Integer(allow_none=True)
    instance_id = fields.Integer(allow_none=True, metadata={'description': 'the handling case'})
    status = fields.String(metadata={'description': 'open | answered | closed'})
    status_zh = fields.String()
    recorded_at = fields.DateTime()
    recorded_by = fields.String()


class ComplaintList(Schema):
    items = fields.List(fields.Nested(ComplaintSummary))


class ComplaintSchema(ComplaintSummary):
    content = fields.String()
    reporter_name = fields.String()
    reporter_contact_masked = fields.String()
    subject_instance_id = fields.Integer(allow_none=True)
    review_instance_id = fields.Integer(allow_none=True, metadata={'description': "the household's review it opened"})
    substantiated = fields.String()
    substantiated_zh = fields.String()
    feedback = fields.String()
    answered_at = fields.DateTime(allow_none=True)
