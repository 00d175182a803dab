from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..services.incidents import open_incident
from .common import MAX_ID, KeysetPageArgs, MaskedDict, page_schema
from .incidents import IncidentBriefSchema
from .tasks import TaskSchema


class TimerSchema(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    bpmn_id = fields.String()
    name = fields.String()
    kind = fields.String(metadata={'description': 'deadline (overdue when fired) | wait'})
    attached_to = fields.String(allow_none=True)
    township = fields.String()
    due_at = fields.DateTime(allow_none=True)
    estimated = fields.Boolean(metadata={'description': 'due date outside the known statutory calendar'})
    state = fields.String(metadata={'description': 'waiting | fired | cancelled'})
    fired = fields.Function(lambda t: t.state == 'fired')
    fired_at = fields.DateTime(allow_none=True)


TimerPage = page_schema(TimerSchema, 'TimerPage', keyset=True)


class TimerListArgs(KeysetPageArgs):
    township = fields.String(validate=validate.Length(max=50))
    state = fields.String(validate=validate.OneOf(['waiting', 'fired', 'cancelled']))
    overdue = fields.Boolean(metadata={'description': 'true: fired deadlines only'})
    instance_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class VersionSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    variant = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    label = fields.String()


STATUSES = ['running', 'incident', 'suspended', 'completed', 'terminated']


class OpenIncident(fields.Nested):
    """The case's open incident while its status is `incident` (null otherwise), read with the case."""

    def get_value(self, obj, attr, accessor=None, default=None):
        status, instance_id = (obj.get('status'), obj.get('id')) if isinstance(obj, dict) else (obj.status, obj.id)
        return open_incident(instance_id) if status == 'incident' else None


class InstanceSchema(Schema):
    id = fields.Integer()
    process_key = fields.String()
    business_key = fields.String(allow_none=True)
    township = fields.String()
    status = fields.String(metadata={'description': 'running | incident (a step failed: held until a county '
                                                    'supervisor or an admin acts) | suspended | completed | terminated'})
    incident = OpenIncident(IncidentBriefSchema, allow_none=True, dump_only=True,
                            metadata={'description': 'the open incident (element, name, line, message) when the '
                                                     'status is incident'})
    overdue = fields.Boolean()
    overdue_since = fields.DateTime(allow_none=True)
    review_required = fields.Boolean(metadata={'description': 'close-relative case: 100 % county review'})
    waiting_for = fields.List(fields.String(), attribute='waiting_messages',
                              metadata={'description': 'BPMN messages the case waits for now'})
    summary = MaskedDict()
    version = fields.Nested(VersionSchema, attribute='definition')
    started_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


InstancePage = page_schema(InstanceSchema, 'InstancePage', keyset=True)


class StartRequest(Schema):
    process_key = fields.String(validate=validate.Length(min=1, max=100),
                                metadata={'description': 'the process; or give `category` instead'})
    category = fields.String(validate=validate.Length(min=1, max=50), metadata={
        'description': 'e.g. dibao: the flow is the one the township\'s entrustment in force picks'})
    township = fields.String(required=True, validate=validate.Length(min=1, max=50))
    business_key = fields.String(allow_none=True, validate=validate.Length(max=100))
    data = fields.Dict(load_default=dict)

    @validates_schema(skip_on_field_errors=False)
    def _process_or_category(self, data, **kwargs):
        if not data.get('process_key') and not data.get('category'):
            raise ValidationError({'process_key': ['Missing data for required field.']})


class StartedSchema(InstanceSchema):
    ready_tasks = fields.List(fields.Nested(TaskSchema))


class HistoryItemSchema(Schema):
    kind = fields.String(metadata={'description': 'audit | task'})
    at = fields.DateTime(allow_none=True)
    actor = fields.String(allow_none=True)
    action = fields.String()
    task_id = fields.String(allow_none=True)
    task_name = fields.String(allow_none=True)
    detail = fields.Dict()


class InstanceDetailSchema(InstanceSchema):
    ready_tasks = fields.List(fields.Nested(TaskSchema))
    timers = fields.List(fields.Nested(TimerSchema))
    history = fields.List(fields.Nested(HistoryItemSchema))


class InstanceListArgs(KeysetPageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    waiting_for = fields.String(validate=validate.Length(max=100), metadata={
        'description': 'cases waiting for this BPMN message, e.g. verification_result (the verifier\'s work list)'})
    township = fields.String(validate=validate.Length(max=50))
    process_key = fields.String(validate=validate.Length(max=100))
    overdue = fields.Boolean()
    review_required = fields.Boolean()
    id_number = fields.String(validate=validate.Length(max=30), metadata={
        'description': "the applicant's resident ID number, exact (matched by its keyed hash; the search is audited)"})


class ExtendRequest(Schema):
    working_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=45),
                                  metadata={'description': 'the new total, in working days from acceptance (≤ 45)'})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=100),
                           metadata={'description': 'objection | separated_household | remote_application | '
                                                    'hard_investigation (or its Chinese wording)'})
    note = fields.String(validate=validate.Length(max=1000), load_default=None)


class MessageRequest(Schema):
    payload = fields.Dict(load_default=dict, metadata={'description': 'lands in the variable the diagram names'})
