"""故障案件: the incident list and the operator's forms on the case page (retry, suspend, resume, terminate).

County supervisors and admins only (access.check_operate); every action is a service call that
writes its own audit entry. A form with a mistake comes back on the case page with the field
error in Chinese (422); a case that is no longer in the state the form was for gets a message.
"""
import json

from flask import flash, g, redirect, render_template, request, url_for

from ..errors import Conflict, Invalid
from ..services import access, incident_info, incidents, repository
from ..services.write import SYSTEM_TIMER
from .core import allowed, bp, me, zh
from .views_cases import _render_case

PER_PAGE = 30
STATES = {'open': '待处理', 'resolved': '已处理', 'all': '全部'}


def who(username, names):
    """A person as the pages name them: the display name, never the account name."""
    if username == SYSTEM_TIMER:
        return '系统自动'
    if not username:
        return ''
    return names.get(username) or '（未登记的人员）'


@bp.context_processor
def _operator_context():
    user = me()
    operator = user is not None and allowed(access.check_operate, user)
    # The navigation's 故障案件 link carries the number of open incidents (operators only).
    return {'open_incidents': incident_info.open_count() if operator else None,
            'case_banner': lambda instance: _banner(user, instance)}


def _banner(user, instance):
    info = incident_info.banner(user, instance)
    if info is None:
        return None
    people = [info['incident'].actor] if info['incident'] else []
    people += [info['entry'].actor] if info['entry'] else []
    names = incident_info.display_names(people)
    info['who'] = lambda username: who(username, names)
    # A form that came back with a mistake (see _again): its values and errors, for its action only.
    info['form'] = getattr(g, 'operate_form', None) or {'action': None, 'values': {}, 'errors': {}}
    return info


@bp.get('/incidents')
def incident_list():
    user = me()
    access.check_operate(user)
    args = request.args
    state = args.get('state') if args.get('state') in STATES else 'open'
    page = max(1, args.get('page', 1, type=int) or 1)
    township, process = args.get('township') or None, args.get('process') or None
    rows, total = incident_info.listing(user, state=state, township=township, process_key=process,
                                        page=page, per_page=PER_PAGE)
    names = incident_info.display_names([r['incident'].actor for r in rows] + [r['incident'].resolved_by for r in rows])
    processes = sorted({d.key: d for d in repository.list_definitions(latest_only=True)}.items())
    return render_template('web/incidents.html', rows=rows, total=total, page=page, per_page=PER_PAGE,
                           state=state, states=STATES, township=township, process=process,
                           townships=incident_info.townships(), processes=processes,
                           who=lambda username: who(username, names), args=args)


# ------------------------------------------------------------------ actions on a case

def _back(instance_id):
    return redirect(url_for('web.case', instance_id=instance_id) + '#case-banner')


def _again(user, instance_id, action, errors, message=None):
    """The case page again with this form's values and errors (422)."""
    g.operate_form = {'action': action, 'values': request.form.to_dict(), 'errors': errors,
                      'message': message or '请检查标出的内容'}
    return _render_case(user, instance_id, status=422)


def _field_errors(exc):
    return exc.details if isinstance(exc.details, dict) else {}


def _reject_constant(name):
    raise ValueError(f'{name} is not JSON')


def parse_correction(text):
    """The retry form's data correction: (data or None, error in Chinese or None)."""
    text = (text or '').strip()
    if not text:
        return None, None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return None, f'不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 个字符附近有误（键和文字须用英文双引号）'
    except ValueError:
        return None, '不是有效的 JSON：不能使用 NaN 或 Infinity'
    if not isinstance(data, dict):
        return None, '应为 JSON 对象，用花括号括起，如 {"factor": 2}'
    if any(not key.strip() for key in data):
        return None, '字段名不能为空'
    return data, None


@bp.post('/cases/<int:instance_id>/retry')
def case_retry(instance_id):
    user = me()
    access.check_operate(user)
    data, error = parse_correction(request.form.get('data'))
    if error:
        return _again(user, instance_id, 'retry', {'data': error})
    old = incident_info.definition_id_of(instance_id)
    try:
        instance = incidents.retry(user, instance_id, data=data, latest_version=request.form.get('latest_version') == '1',
                                   note=request.form.get('note'))
    except Invalid as exc:
        return _again(user, instance_id, 'retry', _field_errors(exc), zh(exc.message))
    except Conflict as exc:
        flash(f'未能重试：{zh(exc.message)}', 'error')
        return _back(instance_id)
    if instance.status == 'incident':
        flash(f'重试后仍然出错，已记为新的故障：{instance.error}', 'error')
    else:
        moved = f'，已迁移到第 {instance.definition.version} 版' if instance.definition_id != old else ''
        flash(f'已重试{moved}，案件继续办理', 'ok')
    return _back(instance_id)


@bp.post('/cases/<int:instance_id>/suspend')
def case_suspend(instance_id):
    user = me()
    access.check_operate(user)
    try:
        incidents.suspend(user, instance_id, request.form.get('reason'))
    except Invalid as exc:
        return _again(user, instance_id, 'suspend', _field_errors(exc), zh(exc.message))
    except Conflict as exc:
        flash(f'未能挂起：{zh(exc.message)}', 'error')
        return _back(instance_id)
    flash('案件已挂起：待办和计时器暂停，恢复后继续办理', 'ok')
    return _back(instance_id)


@bp.post('/cases/<int:instance_id>/resume')
def case_resume(instance_id):
    user = me()
    access.check_operate(user)
    try:
        instance = incidents.resume(user, instance_id, request.form.get('note'))
    except Invalid as exc:
        return _again(user, instance_id, 'resume', _field_errors(exc), zh(exc.message))
    except Conflict as exc:
        flash(f'未能恢复：{zh(exc.message)}', 'error')
        return _back(instance_id)
    if instance.status == 'incident':
        flash(f'案件已恢复，但随后出错，已记为故障：{instance.error}', 'error')
    else:
        flash('案件已恢复办理', 'ok')
    return _back(instance_id)


@bp.post('/cases/<int:instance_id>/terminate')
def case_terminate(instance_id):
    user = me()
    access.check_operate(user)
    errors = {}
    if not (request.form.get('reason') or '').strip():
        errors['reason'] = '请填写终止理由'
    if request.form.get('confirm') != '1':
        errors['confirm'] = '请勾选确认：终止后案件不能恢复'
    if errors:
        return _again(user, instance_id, 'terminate', errors)
    try:
        incidents.terminate(user, instance_id, request.form.get('reason'))
    except Invalid as exc:
        return _again(user, instance_id, 'terminate', _field_errors(exc), zh(exc.message))
    except Conflict as exc:
        flash(f'未能终止：{zh(exc.message)}', 'error')
        return _back(instance_id)
    flash('案件已终止', 'ok')
    return _back(instance_id)
