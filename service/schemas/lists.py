"""The worklists of the pages over the API: search, filtered and sorted lists, saved filters, inbox."""
from marshmallow import Schema, fields, validate

from ..services.saved_filters import MAX_NAME
from ..services.worklists import STATUSES, TASK_SORTS
from .common import KeysetPageArgs, page_schema
from .instances import InstanceSchema
from .tasks import TaskSchema


class SearchRequest(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        'description': "applicant's full name (or part of it, township staff), 18-digit ID number, case number, "
                       'business key or document number (〔2026〕城民救受字第 17 号); in the body, never in the URL'})
    per_page = fields.Integer(load_default=30, validate=validate.Range(min=1, max=100))


class SearchResult(Schema):
    kind = fields.String(metadata={'description': 'how the text was read: id_number | case_number | business_key | '
                                                  'document_number | name | name_part'})
    items = fields.List(fields.Nested(InstanceSchema), required=True)
    total = fields.Integer(required=True)
    total_capped = fields.Boolean(required=True)


class ListedTaskSchema(TaskSchema):
    process_key = fields.String()


class TaskFilterArgs(KeysetPageArgs):
    process = fields.String(validate=validate.Length(max=100), metadata={'description': 'process key, e.g. dibao_a'})
    category = fields.String(validate=validate.Length(max=50), metadata={'description': 'e.g. dibao, tekun'})
    township = fields.String(validate=validate.Length(max=50))
    overdue = fields.Boolean()
    due_before = fields.Date(metadata={'description': 'due by the end of this day (Beijing time)'})
    assigned = fields.String(validate=validate.Length(max=100), metadata={
        'description': "empty: mine and my role's unclaimed ones; me | unassigned | all | a username"})
    sort = fields.String(load_default='due', validate=validate.OneOf(sorted(TASK_SORTS)), metadata={
        'description': 'due (due date, none last) | started (newest first) | process | township'})


class CaseFilterArgs(KeysetPageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    process = fields.String(validate=validate.Length(max=100))
    category = fields.String(validate=validate.Length(max=50))
    township = fields.String(validate=validate.Length(max=50))
    overdue = fields.Boolean()


ListedTaskPage = page_schema(ListedTaskSchema, 'ListedTaskPage', keyset=True)
ListedCasePage = page_schema(InstanceSchema, 'ListedCasePage', keyset=True)


class FilterValues(Schema):
    """The filters of a saved filter: the query parameters of GET /lists/tasks or /lists/cases."""
    process = fields.String(validate=validate.Length(max=100))
    category = fields.String(validate=validate.Length(max=50))
    township = fields.String(validate=validate.Length(max=50))
    overdue = fields.Boolean()
    due_before = fields.Date()
    assigned = fields.String(validate=validate.Length(max=100))
    sort = fields.String(validate=validate.OneOf(sorted(TASK_SORTS)))
    status = fields.String(validate=validate.OneOf(STATUSES))


class SavedFilterSchema(Schema):
    id = fields.Integer()
    list_name = fields.String(metadata={'description': 'tasks | cases'})
    name = fields.String()
    filters = fields.Dict(metadata={'description': 'query parameters for the list'})
    created_at = fields.DateTime()


class SavedFilterList(Schema):
    items = fields.List(fields.Nested(SavedFilterSchema), required=True)


class SavedFilterRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    filters = fields.Nested(FilterValues, load_default=dict)


class SavedFilterUpdate(Schema):
    name = fields.String(validate=validate.Length(min=1, max=MAX_NAME))
    filters = fields.Nested(FilterValues)


class InboxItemSchema(Schema):
    key = fields.String(metadata={'description': 'kind:task id; send it to /inbox/read'})
    kind = fields.String(metadata={'description': 'overdue | due_soon | supervision | returned'})
    label = fields.String(metadata={'description': '已超期 | 即将到期 | 区民政局督办 | 案件退回'})
    text = fields.String()
    at = fields.DateTime()
    read = fields.Boolean()
    task_id = fields.String()
    task_name = fields.String()
    instance_id = fields.Integer()


class InboxSchema(Schema):
    items = fields.List(fields.Nested(InboxItemSchema), required=True)
    unread = fields.Integer(required=True)


class UnreadSchema(Schema):
    unread = fields.Integer(required=True)


class InboxReadRequest(Schema):
    keys = fields.List(fields.String(validate=validate.Length(max=100)), validate=validate.Length(max=200),
                       load_default=list)
    all = fields.Boolean(load_default=False, metadata={'description': 'mark every item read'})


class MarkedSchema(Schema):
    marked = fields.Integer(required=True)
    unread = fields.Integer(required=True)
