"""Cases: the list, a new application, the case page (diagram, history, timers, data), messages."""
from flask import current_app, flash, jsonify, redirect, render_template, request, url_for

from ..errors import Conflict, Invalid, JiuzhuError, NotFound
from ..services import (access, attachments, cases, comments, drafts, entrustments, forms, progress, repository,
                        saved_filters, supervision, worklists)
from ..services.listing import MAX_OFFSET
from . import datarows, fmt, formrender
from .core import allowed, bp, list_position, me, zh
from .messages import extension_forms, label_schemas, message_forms
from .views_attachments import UploadRefused, take_uploads
from .views_tasks import form_errors, prepared_fields, today

PER_PAGE = 30


def case_list_context(user, filters):
    """What the case list page shows besides its rows: filter choices, saved filters, export links."""
    keys = sorted({d.key: d for d in repository.list_definitions(latest_only=True)}.items())
    return {'processes': keys, 'categories': worklists.categories(), 'statuses': worklists.STATUSES,
            'townships': supervision.township_choices(user),
            'args': filters.as_args(), 'filters': filters.as_args(), 'per_page': PER_PAGE, 'max_offset': MAX_OFFSET,
            'saved': saved_filters.for_list(user, 'cases')}


@bp.get('/cases')
def case_list():
    user = me()
    args = request.args
    page, cursor = list_position(args)
    filters = worklists.CaseFilters.from_args(args)
    found = worklists.case_page(user, filters, per_page=PER_PAGE, page=page, cursor=cursor)
    # Filters stay in the paging links; the position is either a page number or the cursor after a row.
    context = case_list_context(user, filters)
    context.update(items=found.items, total=found.total, capped=found.capped, next_cursor=found.next, page=page,
                   cursor=cursor)
    return render_template('web/cases.html', **context)


# ------------------------------------------------------------------ new application

def _startable(township=None):
    """The latest definitions that have a start form and the township's entrustment allows, as [(definition, form name)]."""
    out = []
    for definition in repository.list_definitions(latest_only=True):
        name = forms.start_form_name(definition)
        if name and (township is None or allowed(entrustments.check_start, definition, township)):
            out.append((definition, name))
    return sorted(out, key=lambda pair: (pair[0].category or '', pair[0].variant != 'legacy', pair[0].key))


def _ui_of(form_name, definition):
    # A start form's UI schema sits beside it by the forms/ naming convention (<name>.uischema.json).
    ui_name = form_name.replace('.schema.json', '.uischema.json')
    return forms.load(ui_name, definition) if ui_name != form_name and forms.has(ui_name, definition) else None


def _render_new(user, startable, chosen, values=None, errors=None, business_key='', status=200):
    definition, form_name = chosen
    schema, ui = forms.load(form_name, definition), _ui_of(form_name, definition)
    field_list = prepared_fields(schema, ui, {}, user.township)[0]
    placed, loose = formrender.place_errors(field_list, (errors or {}).get('fields'))
    draft = drafts.load_start(user, definition.key) if values is None else None
    if draft is not None:
        values = dict(draft.values)     # the person's own 暂存 of this application, as typed
        business_key = values.pop('business_key', '')
    if values is None:
        values = formrender.prefill(schema, {}, today(), ui)
    names = {d.key: d.name for d, _ in startable}
    parked = [(row, names[row.process_key]) for row in drafts.start_drafts(user)
              if row.process_key in names and row.process_key != definition.key]
    return render_template('web/case_new.html', startable=startable, chosen=definition, schema=schema,
                           fields=field_list, values=values, field_errors=placed, loose_errors=loose,
                           error_message=(errors or {}).get('message'), business_key=business_key,
                           draft=draft, parked=parked), status


def _chosen(startable, key):
    for pair in startable:
        if pair[0].key == key:
            return pair
    if key:
        raise NotFound(f'没有可发起的流程 {key} (no such startable process)')
    preferred = [p for p in startable if p[0].variant and p[0].variant != 'legacy']
    return (preferred or startable)[0]


@bp.get('/cases/new')
def case_new():
    user = me()
    access.check_start(user, user.township)
    startable = _startable(user.township)
    if not startable:
        raise NotFound('还没有部署可以发起申请的流程 (nothing startable is deployed)')
    return _render_new(user, startable, _chosen(startable, request.args.get('process')))


@bp.post('/cases/new')
def case_create():
    user = me()
    access.check_start(user, user.township)
    startable = _startable(user.township)
    chosen = _chosen(startable, request.form.get('process_key'))
    definition, form_name = chosen
    schema, ui = forms.load(form_name, definition), _ui_of(form_name, definition)
    business_key = request.form.get('business_key', '').strip() or None
    try:
        # Photos sent with the application wait, as the uploader's own, for the case they start.
        posted, files = take_uploads(user, schema, ui, request.form, request.files)
    except UploadRefused as exc:
        return _render_new(user, startable, chosen, formrender.raw_values(request.form), exc.errors,
                           business_key or '', status=exc.status)
    data = formrender.parse(schema, posted, ui)
    try:
        instance = cases.start_case(user, definition.key, user.township, data, business_key)
    except Invalid as exc:
        return _render_new(user, startable, chosen, formrender.raw_values(posted), form_errors(exc),
                           business_key or '', status=422)
    attachments.link(user, files, instance.id)
    drafts.discard_start(user, definition.key)
    flash(f'已发起申请：案件 {instance.id}（{definition.name}）', 'ok')
    return redirect(url_for('web.case', instance_id=instance.id))


def _start_draft_values(user, key, with_files):
    """What the new-application form posted, as typed (files stored and numbered with 暂存)."""
    access.check_start(user, user.township)
    startable = _startable(user.township)
    definition, form_name = _chosen(startable, key)
    values = request.form
    if with_files:
        values = take_uploads(user, forms.load(form_name, definition), _ui_of(form_name, definition),
                              request.form, request.files)[0]
    values = formrender.raw_values(values)
    values.pop('process_key', None)     # the address names the process; the radio may have moved since
    return values


@bp.post('/cases/new/<string:key>/draft')
def case_new_draft(key):
    """暂存 on the new application: keep what is typed (and the photos), finish it another time (audited)."""
    user = me()
    try:
        draft = drafts.save_start(user, key, _start_draft_values(user, key, True))
    except UploadRefused as exc:
        flash(f'未能暂存：{exc.errors["message"]}', 'error')
    else:
        flash(f'已暂存（{fmt.when(draft.saved_at)}）。下次打开新申请时自动恢复，只有您本人能看到。', 'ok')
    return redirect(url_for('web.case_new', process=key))


@bp.post('/cases/new/<string:key>/draft.json')
def case_new_draft_auto(key):
    """The page's automatic save of a new application (static/draft.js); files go with 暂存 or the submit."""
    user = me()
    try:
        draft = drafts.save_start(user, key, _start_draft_values(user, key, False), explicit=False)
    except JiuzhuError as exc:
        return jsonify(error=exc.code, message=zh(exc.message)), exc.status
    return jsonify(saved_at=draft.saved_at.isoformat(), saved_at_zh=fmt.when(draft.saved_at))


# ------------------------------------------------------------------ the case page

def _render_case(user, instance_id, message=None, values=None, errors=None, status=200):
    detail = cases.case_detail(user, instance_id)
    instance = detail['instance']
    state = progress.diagram_state(instance)
    found = message_forms(instance.definition, state['messages'])
    messages = [name for name in found if allowed(access.check_message, user, instance, name)]
    message_fields = {name: formrender.fields(found[name]['schema'], found[name]['ui_schema']) for name in messages}
    placed, loose = formrender.place_errors(message_fields.get(message, []), (errors or {}).get('fields'))
    data = state['data']
    done = cases.list_tasks(user, instance_id=instance.id, state='completed', per_page=200).items
    notices = []
    for row in done:
        kind = (row.properties or {}).get('notice')
        if kind and kind not in [k for k, _ in notices]:
            notices.append((kind, row.name))
    # A completed task appears in the audit log (who submitted) and as a task row; show it once.
    submitted = {h['task_id'] for h in detail['history'] if h['kind'] == 'audit' and h['action'] == 'complete'}
    history = [h for h in detail['history']
               if not (h['kind'] == 'task' and h['action'] == 'completed' and h['task_id'] in submitted)]
    return render_template(
        'web/case.html', instance=instance, definition=instance.definition, detail=detail, history=history,
        state=state,
        sections=datarows.data_sections(data, label_schemas([instance.definition])), messages=messages, message_fields=message_fields,
        message_forms=found, open_message=message, message_values=values or {}, field_errors=placed,
        message_defaults={name: formrender.prefill(found[name]['schema'], {}, today(), found[name]['ui_schema'])
                          for name in messages},
        loose_errors=loose, error_message=(errors or {}).get('message'), notices=notices,
        notices_installed=_notices_installed(), xml=instance.definition.source,
        can_extend=allowed(access.check_extend_deadline, user, instance),
        extensions=extension_forms(instance.definition, [tm.bpmn_id for tm in detail['timers']]),
        comments=comments.list_for(user, instance.id), attachments=attachments.list_for(user, instance.id),
        max_file_mb=attachments.max_bytes() >> 20, sheets=_sheets(done + list(detail['ready_tasks']))), status


def _sheets(rows):
    from ..documents.sheets import sheets_of   # the printable documents are their own blueprint
    return sheets_of(rows)


def _notices_installed():
    return any('/notices' in rule.rule for rule in current_app.url_map.iter_rules())


@bp.get('/cases/<int:instance_id>')
def case(instance_id):
    return _render_case(me(), instance_id)


@bp.post('/cases/<int:instance_id>/messages/<string:name>')
def case_message(instance_id, name):
    user = me()
    instance = cases.get_case(user, instance_id)
    form = message_forms(instance.definition, [name]).get(name)
    if form is None:
        raise NotFound(f'没有这种消息：{name} (no such message)')
    access.check_message(user, instance, name)
    payload = formrender.parse(form['schema'], request.form, form['ui_schema'])
    try:
        cases.send_message(user, instance_id, name, payload)
    except Invalid as exc:
        return _render_case(user, instance_id, name, formrender.raw_values(request.form), form_errors(exc), 422)
    flash(f'已登记：{form["schema"].get("title", name).removeprefix("录入").removeprefix("登记")}', 'ok')
    return redirect(url_for('web.case', instance_id=instance_id))


@bp.post('/cases/<int:instance_id>/deadlines/<string:timer>/extend')
def case_extend(instance_id, timer):
    user = me()
    days = request.form.get('working_days', '').strip()
    try:
        cases.extend_deadline(user, instance_id, timer, int(days) if days.isdigit() else days,
                              request.form.get('reason', ''), request.form.get('note') or None)
    except (Invalid, Conflict) as exc:
        flash(f'未能延长时限：{exc.message}', 'error')
    else:
        flash(f'办理时限已延长为受理后 {days} 个工作日', 'ok')
    return redirect(url_for('web.case', instance_id=instance_id) + '#timers')
