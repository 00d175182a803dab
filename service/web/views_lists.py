"""Lists as people work with them: search, saved filters, exports, the inbox."""
import functools

from sqlalchemy.exc import SQLAlchemyError
from flask import abort, flash, redirect, render_template, request, url_for

from ..errors import Invalid
from ..extensions import db
from ..services import access, exports, inbox, saved_filters, search, supervision, worklists
from ..services.listing import MAX_OFFSET
from . import export, fmt, people
from .core import bp, me, safe_next, zh
from .views_cases import PER_PAGE, case_list_context

FORMATS = ('xlsx', 'csv')
LIST_ENDPOINTS = {'tasks': 'web.tasks', 'cases': 'web.case_list'}


# ------------------------------------------------------------------ search

@bp.post('/cases/search')
def case_search():
    """Cases by applicant name, ID number, case or document number. A POST, so names and numbers
    stay out of URLs, the browser's history and the servers' access logs; audited (masked)."""
    user = me()
    text = (request.form.get('q') or request.form.get('id_number') or '').strip()
    try:
        kind, found = search.find_cases(user, text, per_page=PER_PAGE)
        items, total, capped, error = found.items, found.total, found.capped, None
    except Invalid as exc:
        kind, items, total, capped, error = None, [], 0, False, zh(exc.message)
    context = case_list_context(user, worklists.CaseFilters())
    context.update(items=items, total=total, capped=capped, next_cursor=None, cursor=None, page=1,
                   searched=True, search_text=text if kind not in ('id_number',) else '', search_kind=kind,
                   search_error=error)
    return render_template('web/cases.html', **context), 422 if error else 200


# ------------------------------------------------------------------ saved filters

@bp.post('/lists/<string:list_name>/filters')
def saved_filter_add(list_name):
    user = me()
    args = {k: v for k, v in request.form.items() if k not in ('csrf_token', 'filter_name')}
    try:
        row = saved_filters.save(user, list_name, request.form.get('filter_name'), args)
    except Invalid as exc:
        flash(f'未能保存筛选：{zh(exc.message)}', 'error')
        return redirect(url_for(LIST_ENDPOINTS.get(list_name, 'web.tasks'), **args))
    flash(f'已保存筛选「{row.name}」', 'ok')
    return redirect(url_for(LIST_ENDPOINTS[list_name], **saved_filters.args_of(row)))


@bp.post('/lists/filters/<int:filter_id>/delete')
def saved_filter_delete(filter_id):
    row = saved_filters.delete(me(), filter_id)
    flash(f'已删除筛选「{row.name}」', 'ok')
    return redirect(url_for(LIST_ENDPOINTS.get(row.list_name, 'web.tasks')))


# ------------------------------------------------------------------ exports

def _format(file_format):
    if file_format not in FORMATS:
        abort(404)
    return file_format


def _collect(batches, to_row):
    """Rows of at most MAX_ROWS, and whether the list went on past them (one row more is read)."""
    rows = []
    for batch in batches:
        rows.extend(to_row(item) for item in batch)
    cut = len(rows) > exports.MAX_ROWS
    return rows[:exports.MAX_ROWS], cut


TASK_COLUMNS = [('任务', 24, 'text'), ('案件', 18, 'text'), ('申请人', 12, 'text'), ('流程', 30, 'text'),
                ('镇街', 12, 'text'), ('办理人', 24, 'text'), ('创建时间', 18, 'time'), ('到期时间', 18, 'time'),
                ('是否超期', 10, 'text')]


@bp.get('/tasks/export.<string:file_format>')
def tasks_export(file_format):
    user = me()
    _format(file_format)
    filters = worklists.TaskFilters.from_args(request.args)
    names = fmt.process_names()
    township = functools.lru_cache(maxsize=None)(fmt.township)
    person = functools.lru_cache(maxsize=None)(people.name)

    def to_row(row):
        name, code, assignee, created_at, due_at, overdue, key, business_key, applicant, case_id = row[:10]
        return [name, fmt.case_no(business_key, case_id), applicant or '', names.get(key, ''), township(code),
                person(assignee) if assignee else '未认领', created_at, due_at, '是' if overdue else '否']
    rows, cut = _collect(worklists.task_batches(user, filters, exports.MAX_ROWS + 1), to_row)
    exports.record(user, 'tasks', file_format, len(rows), cut, filters.as_args())
    return export.response(file_format, '待办任务', TASK_COLUMNS, rows, cut, exports.MAX_ROWS)


CASE_COLUMNS = [('案件', 18, 'text'), ('申请人', 12, 'text'), ('身份证号', 22, 'text'), ('镇街', 12, 'text'),
                ('流程', 30, 'text'), ('状态', 10, 'text'), ('是否超期', 10, 'text'), ('发起时间', 18, 'time')]


def _case_row(row, names, township):
    case_id, business_key, applicant, id_masked, code, process_key, status, overdue, created_at = row
    return [fmt.case_no(business_key, case_id), applicant or '', id_masked or '', township(code),
            names.get(process_key, ''), fmt.status(status), '是' if overdue else '否', created_at]


@bp.get('/cases/export.<string:file_format>')
def cases_export(file_format):
    user = me()
    _format(file_format)
    filters = worklists.CaseFilters.from_args(request.args)
    names = fmt.process_names()
    township = functools.lru_cache(maxsize=None)(fmt.township)   # a few codes, 50,000 rows
    rows, cut = _collect(worklists.case_batches(user, filters, exports.MAX_ROWS + 1),
                         lambda row: _case_row(row, names, township))
    exports.record(user, 'cases', file_format, len(rows), cut, filters.as_args())
    return export.response(file_format, '案件', CASE_COLUMNS, rows, cut, exports.MAX_ROWS)


OVERDUE_COLUMNS = [('案件', 18, 'text'), ('申请人', 12, 'text'), ('镇街', 12, 'text'), ('流程', 30, 'text'),
                   ('超期的时限', 20, 'text'), ('应办结时间', 18, 'time'), ('超期起始', 18, 'time')]


def _supervision_filters():
    return {key: (request.args.get(key) or '').strip()[:50] or None for key in ('township', 'category', 'variant')}


@bp.get('/supervision/overdue.<string:file_format>')
def overdue_export(file_format):
    user = me()
    _format(file_format)
    filters = _supervision_filters()

    township = functools.lru_cache(maxsize=None)(fmt.township)

    def to_row(item):
        (case_id, business_key, applicant, code, _, overdue_since), deadline, definition = item
        name, due_at = deadline or (None, None)
        return [fmt.case_no(business_key, case_id), applicant or '', township(code),
                fmt.definition(definition, version=False), name or '办理时限', due_at, overdue_since]
    rows, cut = _collect(supervision.overdue_batches(user, exports.MAX_ROWS + 1, **filters), to_row)
    exports.record(user, 'overdue', file_format, len(rows), cut, filters)
    return export.response(file_format, '超期案件', OVERDUE_COLUMNS, rows, cut, exports.MAX_ROWS)


TOWNSHIP_COLUMNS = [('镇街', 14, 'text'), ('案件总数', 10, 'int'), ('在办', 8, 'int'), ('超期', 8, 'int'),
                    ('旧流程', 8, 'int'), ('新流程', 8, 'int'), ('已作决定', 10, 'int'),
                    ('受理至决定中位工作日', 22, 'int')]


@bp.get('/supervision/townships.<string:file_format>')
def townships_export(file_format):
    user = me()
    _format(file_format)
    filters = _supervision_filters()
    table = supervision.township_table(user, **filters)
    rows = [[fmt.township(r['township']), r['total'], r['open'], r['overdue'], r['legacy'], r['delegated'],
             r['decided'], r['median_days']] for r in table]
    exports.record(user, 'townships', file_format, len(rows), False, filters)
    return export.response(file_format, '各镇街办件情况', TOWNSHIP_COLUMNS, rows)


# ------------------------------------------------------------------ inbox

@bp.get('/inbox')
def inbox_page():
    user = me()
    return render_template('web/inbox.html', items=inbox.items(user), max_offset=MAX_OFFSET)


@bp.post('/inbox/read')
def inbox_read():
    user = me()
    if request.form.get('all'):
        inbox.mark_all_read(user)
        flash('已全部标为已读', 'ok')
    else:
        inbox.mark_read(user, request.form.getlist('item'))
    return redirect(safe_next(request.form.get('next'), url_for('web.inbox_page')))


@bp.context_processor
def _inbox_count():
    """The unread count in the navigation, for the people who have an inbox (case readers)."""
    user = me()
    if user is None or user.role not in access.CASE_READERS or user.must_change_password:
        return {'inbox_unread': None}
    try:
        return {'inbox_unread': inbox.unread_count(user)}
    except SQLAlchemyError:
        # An error page while the database is away or behind (503) must still render.
        db.session.rollback()
        return {'inbox_unread': None}
