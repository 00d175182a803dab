"""举报投诉、书面整改意见、提级复核: the county's supervision entry points as pages.

Thin views: the services (services/complaints.py, services/oversight.py) check who may do what and
start the cases; the pages list them with their state and offer the forms.
"""
from flask import flash, redirect, render_template, request, url_for

from ..errors import Conflict, Invalid, NotFound
from ..services import access, complaints, entrustments, oversight
from .core import allowed, bp, me, zh

COMPLAINT_FIELDS = ('source', 'content', 'reporter_name', 'reporter_contact', 'household_id', 'instance_id',
                    'township')


def _int_or_none(value):
    value = (value or '').strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise Invalid('编号应为数字 (ids are numbers)', details={}, code='bad_id')
    return int(value)


def _complaints_page(values=None, error=None, status=200):
    user = me()
    state = request.args.get('status') or None
    if state not in (None, *complaints.STATUS_ZH):
        state = None
    rows = complaints.listing(user, status=state)
    can_record = user.role in access.COMPLAINT_RECORDERS
    return render_template('web/complaints.html', rows=[complaints.summary(r) for r in rows],
                           statuses=complaints.STATUS_ZH, sources=complaints.SOURCES, can_record=can_record,
                           townships=sorted(entrustments.staffed_townships()) if access.sees_all_townships(user)
                           else [], values=values or {}, error=error, args=request.args), status


@bp.get('/complaints')
def complaint_list():
    return _complaints_page()


@bp.post('/complaints')
def complaint_create():
    user = me()
    values = {name: (request.form.get(name) or '').strip() for name in COMPLAINT_FIELDS}
    try:
        fields = dict(values, household_id=_int_or_none(values['household_id']),
                      instance_id=_int_or_none(values['instance_id']))
        row = complaints.record(user, fields)
    except (Invalid, Conflict, NotFound) as exc:
        return _complaints_page(values, zh(exc.message), exc.status)
    flash(f'已登记举报（第 {row.id} 号），核查答复案件 {row.instance_id} 已发起'
          + (f'，复核案件 {row.review_instance_id}' if row.review_instance_id else ''), 'ok')
    return redirect(url_for('web.complaint', complaint_id=row.id))


@bp.get('/complaints/<int:complaint_id>')
def complaint(complaint_id):
    return render_template('web/complaint.html', c=complaints.detail(me(), complaint_id))


def _oversight_page(template, key, values=None, error=None, status=200):
    user = me()
    access.require_case_reader(user)
    rows = [oversight.summary(i) for i in oversight.listing(user, key)]
    return render_template(template, rows=rows, can_issue=allowed(access.check_oversight, user),
                           townships=sorted(entrustments.staffed_townships()), raised_by=oversight.RAISED_BY,
                           values=values or {}, error=error), status


@bp.get('/rectifications')
def rectification_list():
    return _oversight_page('web/rectifications.html', oversight.RECTIFICATION)


@bp.post('/rectifications')
def rectification_create():
    values = {name: (request.form.get(name) or '').strip()
              for name in ('township', 'document_no', 'subject', 'content', 'deadline')}
    try:
        instance = oversight.issue_rectification(me(), values)
    except (Invalid, Conflict) as exc:
        return _oversight_page('web/rectifications.html', oversight.RECTIFICATION, values, zh(exc.message),
                               exc.status)
    flash(f'已下达书面整改意见，案件 {instance.id}：镇街须在 {values["deadline"]} 前报送整改情况', 'ok')
    return redirect(url_for('web.case', instance_id=instance.id))


@bp.get('/escalations')
def escalation_list():
    return _oversight_page('web/escalations.html', oversight.ESCALATED)


@bp.post('/escalations')
def escalation_create():
    values = {name: (request.form.get(name) or '').strip()
              for name in ('household_id', 'raised_by', 'content', 'disputed_instance_id')}
    try:
        household_id = _int_or_none(values['household_id'])
        disputed = _int_or_none(values['disputed_instance_id'])
        if household_id is None and disputed is None:
            raise Invalid('请填写救助家庭编号；镇街不予确认的申请填写其案件编号 (household_id or disputed_instance_id required)',
                          code='household_required')
        if household_id is None:     # a refused application: no household yet
            instance = oversight.escalate_refusal(me(), disputed, values)
        else:
            instance = oversight.escalate(me(), household_id, dict(values, disputed_instance_id=disputed))
    except (Invalid, Conflict, NotFound) as exc:
        return _oversight_page('web/escalations.html', oversight.ESCALATED, values, zh(exc.message), exc.status)
    flash(f'已提级复核，案件 {instance.id}', 'ok')
    return redirect(url_for('web.case', instance_id=instance.id))
