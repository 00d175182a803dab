"""委托书: the county's entrustment registry and the phase report of the switch-over.

County supervisors and admins register, end and revoke terms (access.check_entrust); township
staff read their own township's. A form with a mistake comes back with the field errors (422).
"""
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import ProcessDefinition
from ..services import access, entrustments
from .core import allowed, bp, me, zh
from .fmt import CATEGORY_NAMES

FIELDS = ('township', 'category', 'phase', 'variant', 'letter_no', 'signed_by', 'signed_on', 'valid_from', 'valid_to',
          'matters', 'scope_text', 'responsibility')


def _choices():
    """Townships with staff, and the categories and flows that are deployed."""
    townships = sorted(entrustments.staffed_townships())
    flows = db.session.execute(select(ProcessDefinition.category, ProcessDefinition.variant).where(
        ProcessDefinition.variant.is_not(None)).distinct()).all()
    categories = sorted({c for c, _ in flows if c})
    variants = sorted({v for _, v in flows if v and v != entrustments.LEGACY})
    return townships, categories, variants


def _render(values=None, errors=None, message=None, status=200):
    user = me()
    rows = entrustments.listing(user, township=request.args.get('township') or None,
                                category=request.args.get('category') or None)
    townships, categories, variants = _choices()
    return render_template(
        'web/entrustments.html', rows=rows, today=entrustments.today(), phases=entrustments.PHASES,
        townships=townships, categories=categories, variants=variants, category_names=CATEGORY_NAMES,
        can_edit=allowed(access.check_entrust, user), values=values or {}, errors=errors or {},
        error_message=message, filters=request.args), status


@bp.get('/entrustments')
def entrustment_list():
    return _render()


def _parse_day(raw, name, errors):
    raw = (raw or '').strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = '日期格式应为 年-月-日'
        return None
    if not date(2000, 1, 1) <= day <= date(2100, 12, 31):
        errors[name] = '应在 2000 年到 2100 年之间'
    return day


@bp.post('/entrustments')
def entrustment_create():
    user = me()
    access.check_entrust(user)
    form = {name: (request.form.get(name) or '').strip() for name in FIELDS}
    errors = {}
    days = {name: _parse_day(form[name], name, errors) for name in ('signed_on', 'valid_from', 'valid_to')}
    if not form['valid_from'] and 'valid_from' not in errors:
        errors['valid_from'] = '必填'
    if errors:
        return _render(form, errors, '委托书内容有误，请检查标出的字段', 422)
    try:
        entrustments.create(user, form['township'], form['category'], phase=form['phase'],
                            variant=form['variant'] or None, letter_no=form['letter_no'], signed_by=form['signed_by'],
                            matters=form['matters'], scope_text=form['scope_text'],
                            responsibility=form['responsibility'], **days)
    except Invalid as exc:
        fields = exc.details.get('fields', {}) if isinstance(exc.details, dict) else {}
        return _render(form, fields, zh(exc.message), 422)
    except Conflict as exc:
        return _render(form, {}, zh(exc.message), 409)
    flash('委托书已登记', 'ok')
    return redirect(url_for('web.entrustment_list'))


@bp.post('/entrustments/<int:entrustment_id>/revoke')
def entrustment_revoke(entrustment_id):
    user = me()
    access.check_entrust(user)
    version = request.form.get('version', '')
    try:
        entrustments.revoke(user, entrustment_id, int(version) if version.isdigit() else None,
                            request.form.get('reason'))
    except (Invalid, Conflict) as exc:
        flash(f'未能撤销：{zh(exc.message)}', 'error')
        return redirect(url_for('web.entrustment_list'))
    flash('委托书已撤销：此后新申请按改革前流程办理', 'ok')
    return redirect(url_for('web.entrustment_list'))


@bp.get('/entrustments/report')
def entrustment_report():
    user = me()
    rows = entrustments.phase_report(user, township=request.args.get('township') or None)
    months = sorted({r['month'] for r in rows})
    table = {}
    for r in rows:
        table.setdefault((r['township'], r['category']), {}).setdefault(r['month'], []).append((r['variant'], r['cases']))
    return render_template('web/entrustment_report.html', months=months, table=table,
                           category_names=CATEGORY_NAMES)
