"""Search, the pages' filtered and sorted lists, saved filters and the inbox over the API.

Each endpoint calls the service the pages call (services/search, worklists, saved_filters, inbox):
the same scope (access.scope_*), the same audit entries (a search is logged with its text masked),
the same masking (case summaries through InstanceSchema's MaskedDict), the same 422s.
"""
from datetime import date

from ..schemas.lists import (CaseFilterArgs, InboxReadRequest, InboxSchema, ListedCasePage, ListedTaskPage,
                             MarkedSchema, SavedFilterList, SavedFilterRequest, SavedFilterSchema, SavedFilterUpdate,
                             SearchRequest, SearchResult, TaskFilterArgs, UnreadSchema)
from ..services import inbox, saved_filters, search, worklists
from .common import errors, make_blueprint, me, page

blp = make_blueprint('lists', '/api/v1', 'Search, worklists, saved filters, inbox 查找、列表与消息')

PAGING = ('page', 'per_page', 'cursor')


def _as_query(args):
    """Parsed parameters back into the lists' own query form (what the pages send, what saved filters keep)."""
    out = {}
    for key, value in args.items():
        if key in PAGING or value is None:
            continue
        out[key] = ('1' if value else '0') if isinstance(value, bool) else (
            value.isoformat() if isinstance(value, date) else str(value))
    return out


class _ListedTask:
    """A (task, process key) row of the task list, read like a task with its process key."""

    def __init__(self, row):
        self._task, self.process_key = row

    def __getattr__(self, name):
        return getattr(self._task, name)


# ------------------------------------------------------------------ search

@blp.route('/search', methods=['POST'])
@blp.arguments(SearchRequest)
@blp.response(200, SearchResult)
@errors(blp, 400, 401, 403, 422)
def find(body):
    """Cases by applicant name, ID number, case number, business key or document number, in the caller's
    scope (a POST: names and numbers stay out of URLs and access logs; audited, the text masked) 查找案件"""
    kind, found = search.find_cases(me(), body['q'], per_page=body['per_page'])
    return {'kind': kind, 'items': found.items, 'total': found.total, 'total_capped': found.capped}


# ------------------------------------------------------------------ lists

@blp.route('/lists/tasks', methods=['GET'])
@blp.arguments(TaskFilterArgs, location='query')
@blp.response(200, ListedTaskPage)
@errors(blp, 401, 403, 422)
def task_list(args):
    """Ready tasks as on the 待办 page: filters by process, category, township, overdue, due date and who
    holds them, sorted by due date, age, process or township; cursor pages (`next`) 待办列表（筛选、排序）"""
    filters = worklists.TaskFilters.from_args(_as_query(args))
    found = worklists.task_page(me(), filters, per_page=args['per_page'], cursor=args.get('cursor'),
                                page=args['page'])
    found.items = [_ListedTask(row) for row in found.items]
    return page(found, args)


@blp.route('/lists/cases', methods=['GET'])
@blp.arguments(CaseFilterArgs, location='query')
@blp.response(200, ListedCasePage)
@errors(blp, 401, 403, 422)
def case_list(args):
    """Cases as on the 案件列表 page: filters by status, process, category, township and overdue,
    newest first; cursor pages (`next`) 案件列表（筛选）"""
    filters = worklists.CaseFilters.from_args(_as_query(args))
    return page(worklists.case_page(me(), filters, per_page=args['per_page'], page=args['page'],
                                    cursor=args.get('cursor')), args)


# ------------------------------------------------------------------ saved filters

def _saved(row):
    return {'id': row.id, 'list_name': row.list_name, 'name': row.name, 'filters': saved_filters.args_of(row),
            'created_at': row.created_at}


@blp.route('/lists/<string:list_name>/filters', methods=['GET'])
@blp.response(200, SavedFilterList)
@errors(blp, 401, 403, 404)
def filter_list(list_name):
    """The caller's saved filters of a list (`tasks` or `cases`) 保存的筛选"""
    return {'items': [_saved(r) for r in saved_filters.for_list(me(), list_name)]}


@blp.route('/lists/<string:list_name>/filters', methods=['POST'])
@blp.arguments(SavedFilterRequest)
@blp.response(201, SavedFilterSchema)
@errors(blp, 400, 401, 403, 404, 422)
def filter_save(body, list_name):
    """Save filters under a name (the same name again replaces them; at most 30 per list) 保存筛选"""
    return _saved(saved_filters.save(me(), list_name, body['name'], _as_query(body['filters'])))


@blp.route('/lists/filters/<int:filter_id>', methods=['GET'])
@blp.response(200, SavedFilterSchema)
@errors(blp, 401, 404)
def filter_get(filter_id):
    """One of the caller's saved filters (anyone else's is a 404) 查看保存的筛选"""
    return _saved(saved_filters.get(me(), filter_id))


@blp.route('/lists/filters/<int:filter_id>', methods=['PUT'])
@blp.arguments(SavedFilterUpdate)
@blp.response(200, SavedFilterSchema)
@errors(blp, 400, 401, 404, 409, 422)
def filter_update(body, filter_id):
    """Rename a saved filter and/or replace its filters; 409 if the name is taken 修改保存的筛选"""
    filters = body.get('filters')
    return _saved(saved_filters.update(me(), filter_id, body.get('name'),
                                       _as_query(filters) if filters is not None else None))


@blp.route('/lists/filters/<int:filter_id>', methods=['DELETE'])
@blp.response(204)
@errors(blp, 401, 404)
def filter_delete(filter_id):
    """Delete one of the caller's saved filters 删除保存的筛选"""
    saved_filters.delete(me(), filter_id)
    return ''


# ------------------------------------------------------------------ inbox

def _item(item):
    task = item['task']
    return {'key': item['key'], 'kind': item['kind'], 'label': item['label'], 'text': item['text'], 'at': item['at'],
            'read': item['read'], 'task_id': task.id, 'task_name': task.name, 'instance_id': task.instance_id}


@blp.route('/inbox', methods=['GET'])
@blp.response(200, InboxSchema)
@errors(blp, 401, 403)
def inbox_list():
    """The caller's inbox: due soon, overdue, the county's 督办, cases returned; unread first 消息"""
    items = inbox.items(me())
    return {'items': [_item(i) for i in items], 'unread': sum(1 for i in items if not i['read'])}


@blp.route('/inbox/unread-count', methods=['GET'])
@blp.response(200, UnreadSchema)
@errors(blp, 401, 403)
def inbox_unread():
    """How many inbox items the caller has not read (the navigation's count) 未读消息数"""
    return {'unread': inbox.unread_count(me())}


@blp.route('/inbox/read', methods=['POST'])
@blp.arguments(InboxReadRequest)
@blp.response(200, MarkedSchema)
@errors(blp, 400, 401, 403, 422)
def inbox_read(body):
    """Mark items read by `keys` (others are ignored), or all with `all: true` 标为已读"""
    user = me()
    marked = inbox.mark_all_read(user) if body['all'] else inbox.mark_read(user, body['keys'])
    return {'marked': marked, 'unread': inbox.unread_count(user)}
