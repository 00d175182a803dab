"""救助家庭: the register of a township, one household's page, a reported change.

The page shows what the household is now (status, amount, next review), every month's amount
as decided, and every case it had; ID numbers masked. Staff who know the family report a change
here, which opens a review case at once (services/households/reviews.py).
"""
from flask import flash, redirect, render_template, request, url_for

from ..errors import Conflict, Invalid
from ..services import access, supervision
from ..services.households import register, reviews, view
from ..services.listing import MAX_OFFSET
from .core import allowed, bp, list_position, me, zh
from .fmt import CATEGORY_NAMES

REPORT_KINDS = {k: v for k, v in reviews.KINDS.items() if k not in reviews.NOT_REPORTED}
PER_PAGE = 30    # as the case list (views_cases.py)


@bp.get('/households')
def household_list():
    user = me()
    args = request.args
    status = args.get('status') or None
    if status not in (None, *register.STATUS_ZH):
        status = None
    # Only the county chooses a township (the others always read their own): only theirs stays in links.
    township = (args.get('township') or None) if access.sees_all_townships(user) else None
    page, cursor = list_position(args)
    found = register.list_households(user, township=township, status=status, page=page, per_page=PER_PAGE,
                                     cursor=cursor)
    # The filters stay in the paging links; the position is either a page number or the cursor after a row.
    filters = {k: v for k, v in (('township', township), ('status', status)) if v}
    return render_template('web/households.html', rows=[view.summary(h) for h in found.items], found=found,
                           page=page, cursor=cursor, per_page=PER_PAGE, max_offset=MAX_OFFSET, filters=filters,
                           townships=supervision.township_choices(user),
                           statuses=register.STATUS_ZH, category_names=CATEGORY_NAMES,
                           can_spot_check=allowed(access.check_spot_check, user))


def _render(household_id, values=None, error=None, status=200):
    user = me()
    household = view.detail(user, household_id)
    can_report = household['status'] != 'stopped' and allowed(
        access.check_report_change, user, register.get(user, household_id))
    return render_template('web/household.html', h=household, category_names=CATEGORY_NAMES,
                           can_report=can_report, report_kinds=REPORT_KINDS, values=values or {},
                           error=error), status


@bp.get('/households/<int:household_id>')
def household(household_id):
    return _render(household_id)


@bp.post('/households/<int:household_id>/reviews')
def household_report(household_id):
    user = me()
    kind, report = request.form.get('kind', ''), request.form.get('report', '')
    try:
        instance, due_day = reviews.report_change(user, household_id, kind, report)
    except (Invalid, Conflict) as exc:
        return _render(household_id, {'kind': kind, 'report': report}, zh(exc.message), exc.status)
    flash(f'已登记家庭情况变化，复核案件 {instance.id} 已发起，须在 {due_day.year}年{due_day.month}月{due_day.day}日前办结', 'ok')
    return redirect(url_for('web.case', instance_id=instance.id))


def household_of_case(instance_id):
    """For the case page: the household this case belongs to, or None."""
    return register.for_case(instance_id)
