"""Caseworkers' task lists (我的待办, 组待办) and the task page with its form."""
from flask import flash, redirect, render_template, request, url_for

from ..errors import Invalid
from ..services import access, cases, drafts, reassign, repository, saved_filters, supervision, worklists
from ..services.context import now
from . import datarows, fmt, formrender, people
from .core import allowed, bp, me, safe_next, zh
from .messages import label_schemas
from .views_attachments import UploadRefused, take_uploads

LIST_SIZE = 50


def form_errors(exc):
    """The services' Invalid as {message, fields}: field errors only from form validation."""
    fields = exc.details if exc.code == 'validation_error' and isinstance(exc.details, dict) else {}
    return {'message': zh(exc.message), 'fields': fields}


def today():
    """The app clock's date in Shanghai, for date fields filled in today."""
    return fmt.shanghai(now()).date().isoformat()


def prepared_fields(schema, ui, data, township):
    """(fields, read-only known values) of a form on a case with `data`."""
    known = formrender.fixed(schema, data, ui)
    field_list = formrender.mark_fixed(formrender.fields(schema, ui), schema, known)
    return formrender.fill_staff(field_list, people.staff_options(township)), known


def urgency(task, moment, soon):
    """'overdue', 'soon' or '' for a task row (the CSS class of its line)."""
    if task.overdue or (task.due_at is not None and task.due_at <= moment):
        return 'overdue'
    if task.due_at is not None and task.due_at < soon:
        return 'soon'
    return ''


# Sections of the task page by the "assigned" filter: (id, title, section of worklists.task_statement).
SECTIONS = {'': (('mine', '我的待办', 'mine'), ('group', '组待办', 'group')),
            'me': (('mine', '我的待办', 'mine'),)}


def task_list_context(user, filters):
    """Filter choices, saved filters and the people a task can be assigned to, for the task page."""
    keys = sorted({d.key: d for d in repository.list_definitions(latest_only=True)}.items())
    return {'processes': keys, 'categories': worklists.categories(), 'sorts': worklists.SORT_LABELS,
            'townships': supervision.township_choices(user),
            'staff': people.staff_options(None if access.sees_all_townships(user) else user.township),
            'filters': filters.as_args(), 'saved': saved_filters.for_list(user, 'tasks')}


@bp.get('/tasks')
def tasks():
    user = me()
    filters = worklists.TaskFilters.from_args(request.args)
    sections = []
    for key, title, section in SECTIONS.get(filters.assigned, (('list', '待办（筛选结果）', None),)):
        cursor = request.args.get(f'{key}_after') or None
        found = worklists.task_page(user, filters, section, per_page=LIST_SIZE, cursor=cursor)
        sections.append({'id': key, 'title': title, 'page': found, 'cursor': cursor,
                         'rows': [task for task, _ in found.items],
                         'process_of': {task.id: process for task, process in found.items}})
    moment = now()
    soon = supervision.due_soon_limit(moment)
    summaries = supervision.case_summaries(user, [t.instance_id for s in sections for t in s['rows']])
    return render_template('web/tasks.html', sections=sections, cases=summaries,
                           awaiting=cases.cases_awaiting_answers(user), process_names=fmt.process_names(),
                           urgency=lambda t: urgency(t, moment, soon), due_soon_days=supervision.DUE_SOON_WORKING_DAYS,
                           **task_list_context(user, filters))


@bp.post('/tasks/<string:task_id>/claim')
def task_claim(task_id):
    row = cases.claim(me(), task_id)
    flash(f'已认领「{row.name}」', 'ok')
    return redirect(safe_next(request.form.get('next'), url_for('web.task', task_id=task_id)))


@bp.post('/tasks/<string:task_id>/unclaim')
def task_unclaim(task_id):
    row = cases.unclaim(me(), task_id)
    flash(f'已退回「{row.name}」，任务回到组待办', 'ok')
    return redirect(safe_next(request.form.get('next'), url_for('web.tasks')))


def _render_task(user, detail, values=None, errors=None, status=200):
    task, form = detail['task'], detail['form']
    ready = task.state == 'ready'
    field_list = prepared_fields(form['schema'], form['ui_schema'], detail['data'], task.township)[0] if form else []
    draft = drafts.load(user, task) if values is None else None
    if draft is not None:
        values = dict(draft.values)     # the person's own 暂存, as typed
    if values is None:
        values = formrender.prefill(form['schema'], detail['data'], today(), form['ui_schema']) if form else {}
    placed, loose = formrender.place_errors(field_list, (errors or {}).get('fields'))
    instance = cases.get_case(user, task.instance_id)
    moment = now()
    return render_template(
        'web/task.html', task=task, form=form, fields=field_list, values=values, field_errors=placed,
        loose_errors=loose, error_message=(errors or {}).get('message'), instance=instance,
        sections=datarows.data_sections(detail['data'], label_schemas(), hide=tuple(f.path for f in field_list)),
        urgency=urgency(task, moment, supervision.due_soon_limit(moment)),
        can_claim=ready and not task.assignee and allowed(access.check_claim, user, task),
        can_unclaim=ready and bool(task.assignee) and allowed(access.check_unclaim, user, task),
        can_complete=ready and task.assignee == user.username and allowed(access.check_complete, user, task),
        draft=draft, assignees=reassign.candidates(user, task),
    ), status


@bp.get('/tasks/<string:task_id>')
def task(task_id):
    user = me()
    return _render_task(user, cases.task_detail(user, task_id))


@bp.post('/tasks/<string:task_id>')
def task_complete(task_id):
    user = me()
    detail = cases.task_detail(user, task_id)
    form = detail['form']
    data, posted = {}, request.form
    try:
        if form:
            posted = take_uploads(user, form['schema'], form['ui_schema'], request.form, request.files,
                                  task=detail['task'], instance_id=detail['task'].instance_id)[0]
            known = formrender.fixed(form['schema'], detail['data'], form['ui_schema'])
            data = formrender.with_fixed(formrender.parse(form['schema'], posted, form['ui_schema']), known)
    except UploadRefused as exc:
        return _render_task(user, detail, formrender.raw_values(posted), exc.errors, status=exc.status)
    try:
        row = cases.complete(user, task_id, data)
    except Invalid as exc:
        return _render_task(user, detail, formrender.raw_values(posted), form_errors(exc), status=422)
    if cases.case_status(row.instance_id) == 'incident':
        # The work is kept; the step after it failed and the county sees the incident.
        flash(f'「{row.name}」已办理完成，但流程在下一步出错，案件已暂停，等待区民政局处理', 'error')
    else:
        flash(f'「{row.name}」已办理完成', 'ok')
    return redirect(url_for('web.tasks'))
