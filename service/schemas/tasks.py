from marshmallow import Schema, fields, validate

from .common import MAX_ID, KeysetPageArgs, page_schema


class TaskSchema(Schema):
    id = fields.String(required=True)
    instance_id = fields.Integer(required=True)
    bpmn_id = fields.String(metadata={'description': 'task id in the diagram'})
    name = fields.String(metadata={'description': 'task name (Chinese)'})
    lane = fields.String(allow_none=True)
    role = fields.String(allow_none=True, metadata={'description': 'the role that may claim and complete it'})
    township = fields.String()
    assignee = fields.String(allow_none=True)
    priority = fields.Integer()
    state = fields.String(metadata={'description': 'ready | completed | cancelled'})
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    form_key = fields.String(attribute='form', allow_none=True)
    ui_form_key = fields.String(attribute='ui_form', allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)

    def get_attribute(self, obj, attr, default):
        # A Task, or a row of the task table (the task list, services/cases.list_tasks): both answer
        # by attribute. marshmallow tries obj[attr] first, which a row refuses with an exception.
        return getattr(obj, attr, default)


TaskPage = page_schema(TaskSchema, 'TaskPage', keyset=True)


class TaskListArgs(KeysetPageArgs):
    mine = fields.Boolean(load_default=False, metadata={'description': 'assigned to me'})
    group = fields.Boolean(load_default=False, metadata={'description': 'tasks of my role (claimed or not)'})
    unassigned = fields.Boolean(metadata={'description': 'true: nobody claimed it yet; false: claimed'})
    township = fields.String(validate=validate.Length(max=50))
    overdue = fields.Boolean()
    due_before = fields.AwareDateTime(default_timezone=None)
    instance_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    state = fields.String(load_default='ready', validate=validate.OneOf(['ready', 'completed', 'cancelled', 'all']))


class FormSchema(Schema):
    key = fields.String()
    schema = fields.Dict(metadata={'description': 'JSON Schema of the form'})
    ui_schema = fields.Dict(allow_none=True)


class TaskDetailSchema(Schema):
    task = fields.Nested(TaskSchema)
    form = fields.Nested(FormSchema, allow_none=True)
    data = fields.Dict(metadata={'description': "the case's current data (unmasked; this read is audited)"})


class CompleteRequest(Schema):
    data = fields.Dict(load_default=dict, metadata={'description': 'the form fields'})


class AssignRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reason = fields.String(validate=validate.Length(max=1000), metadata={'description': '分派理由（写入审计日志）'})


class PriorityRequest(Schema):
    priority = fields.Integer(required=True, validate=validate.Range(min=-100, max=100))
