"""Incidents and the operator's actions on a case (retry, suspend, resume, terminate)."""
from marshmallow import Schema, fields, validate

from ..services.incidents import MAX_REASON
from .common import MAX_ID, PageArgs, page_schema


class IncidentBriefSchema(Schema):
    """The open incident of a case, as the case JSON carries it."""
    id = fields.Integer()
    kind = fields.String(metadata={'description': 'process_error | step_limit | case_too_large | timer_failed'})
    element = fields.String(allow_none=True, metadata={'description': 'BPMN id of the failing element'})
    element_name = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True, metadata={'description': 'line of the failing script, when known'})
    message = fields.String()
    trigger = fields.String(metadata={'description': 'the action that ran into it: complete, message, timers, retry…'})
    actor = fields.String(allow_none=True, metadata={'description': 'who triggered it (system:timer: the scheduler)'})
    created_at = fields.DateTime()


class IncidentVersionSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    label = fields.String()


class IncidentSchema(IncidentBriefSchema):
    instance_id = fields.Integer()
    business_key = fields.String(allow_none=True)
    township = fields.String()
    process_key = fields.String(allow_none=True)
    version = fields.Nested(IncidentVersionSchema, allow_none=True,
                            metadata={'description': 'the version the case ran on when it failed'})
    state = fields.String(metadata={'description': 'open | resolved'})
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True, metadata={'description': 'retried | terminated'})
    note = fields.String(allow_none=True)


IncidentPage = page_schema(IncidentSchema, 'IncidentPage')


class IncidentListArgs(PageArgs):
    state = fields.String(load_default='open', validate=validate.OneOf(['open', 'resolved', 'all']))
    township = fields.String(validate=validate.Length(max=50))
    process_key = fields.String(validate=validate.Length(max=100))
    instance_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


def _reason(required):
    kwargs = {'required': True} if required else {'load_default': None, 'allow_none': True}
    return fields.String(validate=validate.Length(min=1 if required else 0, max=MAX_REASON), **kwargs,
                         metadata={'description': f'reason (≤ {MAX_REASON} characters), kept in the audit log'})


class RetryRequest(Schema):
    data = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=100)), load_default=None,
                       allow_none=True, metadata={'description': 'corrected case data, merged into the failed step'})
    latest_version = fields.Boolean(load_default=False,
                                    metadata={'description': 'move the case onto the newest deployed version first'})
    note = _reason(False)


class SuspendRequest(Schema):
    reason = _reason(True)


class ResumeRequest(Schema):
    note = _reason(False)


class TerminateRequest(Schema):
    reason = _reason(True)
