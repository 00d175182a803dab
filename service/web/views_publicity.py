"""长期公示 page (printable) and its Excel export: a township's current recipients, names masked."""
from flask import render_template, request

from ..errors import Invalid
from ..services import access, entrustments, exports, publicity
from . import export, fmt
from .core import bp, me

COLUMNS = [('村（社区）', 18, 'text'), ('救助类别', 16, 'text'), ('户主', 10, 'text'), ('保障人数', 10, 'int'),
           ('月救助金额（元）', 16, 'text')]


def _township(user):
    if access.sees_all_townships(user):
        return request.args.get('township') or (sorted(entrustments.staffed_townships()) or [''])[0]
    return user.township


def _filters():
    village = (request.args.get('village') or '').strip()[:100] or None
    category = request.args.get('category') or None
    if category is not None and category not in fmt.CATEGORY_NAMES:
        raise Invalid('救助类别无效 (unknown category)', code='bad_category')
    return village, category


@bp.get('/publicity')
def publicity_page():
    user = me()
    township = _township(user)
    village, category = _filters()
    found = publicity.current(user, township, village, category)
    return render_template('web/publicity.html', p=found, villages=publicity.villages(user, township),
                           townships=sorted(entrustments.staffed_townships()) if access.sees_all_townships(user)
                           else [], category=category or '')


@bp.get('/publicity.<string:file_format>')
def publicity_export(file_format):
    if file_format not in ('xlsx', 'csv'):
        raise Invalid('只能导出 xlsx 或 csv (format must be xlsx or csv)', code='bad_format')
    user = me()
    township = _township(user)
    village, category = _filters()
    found = publicity.current(user, township, village, category)
    rows = [[r['village'] or '—', fmt.CATEGORY_NAMES.get(r['category'], '其他'), r['head'], r['size'],
             f"{r['amount']:.2f}"] for r in found['rows']]
    exports.record(user, 'publicity', file_format, len(rows), False,
                   {'township': township, 'village': village, 'category': category})
    return export.response(file_format, f'长期公示名单-{fmt.township(township)}', COLUMNS, rows)
