"""改革成效: legacy vs delegated flows on real cases, per township and category — page with charts, export."""
from flask import render_template, request
from markupsafe import Markup, escape

from ..errors import Invalid
from ..services import access, exports, reform
from . import export, fmt
from .core import bp, me

FLOW_ZH = {'legacy': '改革前（区县审批）', 'delegated': '下放后（镇街审核确认）'}
COLUMNS = [('镇街', 12, 'text'), ('救助类别', 16, 'text'), ('流程', 22, 'text'), ('案件数', 8, 'int'),
           ('在办', 8, 'int'), ('超期', 8, 'int'), ('已决定', 8, 'int'), ('受理至决定中位工作日', 20, 'text'),
           ('90%案件在此工作日内', 20, 'text'), ('按时限决定比例', 16, 'text'), ('平均办理环节', 14, 'text'),
           ('平均转手次数', 14, 'text'), ('平均区级经手环节', 16, 'text')]


def _text(value, suffix=''):
    if value is None:
        return '—'
    return f'{value:g}{suffix}' if isinstance(value, (int, float)) else str(value)


def _share(value):
    return '—' if value is None else f'{value * 100:.0f}%'


def bars(rows):
    """Median working days, legacy and delegated side by side, per township and category (inline SVG)."""
    shown = [r for r in rows if r['median_days'] is not None]
    if not shown:
        return Markup('')
    groups = {}
    for r in shown:
        groups.setdefault((r['township'], r['category']), {})[r['flow']] = r
    bar_h, gap, left, width = 14, 12, 170, 360
    peak = max(r['p90_days'] or r['median_days'] for r in shown) or 1
    height = 30 + len(groups) * (2 * bar_h + gap)
    parts = [f'<svg class="chart" role="img" aria-label="受理至决定中位工作日，改革前与下放后" '
             f'viewBox="0 0 {left + width + 60} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
             '<g font-size="12" font-family="sans-serif">',
             f'<rect x="{left}" y="6" width="12" height="12" class="bar-overdue"/><text x="{left + 16}" y="16">改革前</text>',
             f'<rect x="{left + 80}" y="6" width="12" height="12" class="bar-open"/><text x="{left + 96}" y="16">下放后</text>']
    for i, ((township, category), flows) in enumerate(sorted(groups.items())):
        y = 28 + i * (2 * bar_h + gap)
        name = escape(f'{fmt.township(township)} {fmt.CATEGORY_NAMES.get(category, "其他")}')
        parts.append(f'<text x="{left - 6}" y="{y + bar_h + 3}" text-anchor="end">{name}</text>')
        for j, (flow, css) in enumerate((('legacy', 'bar-overdue'), ('delegated', 'bar-open'))):
            r = flows.get(flow)
            if r is None:
                continue
            w = max(round(width * r['median_days'] / peak), 1)
            parts.append(f'<rect x="{left}" y="{y + j * bar_h}" width="{w}" height="{bar_h - 2}" class="{css}">'
                         f'<title>{name} {FLOW_ZH[flow]} 中位 {r["median_days"]:g} 个工作日</title></rect>'
                         f'<text x="{left + w + 4}" y="{y + j * bar_h + bar_h - 3}">{r["median_days"]:g}</text>')
    parts += ['</g>', '</svg>']
    return Markup(''.join(parts))


def _rows(user):
    township = (request.args.get('township') or '').strip()[:50] or None
    return township, reform.table(user, township)


@bp.get('/reform')
def reform_page():
    user = me()
    township, rows = _rows(user)
    return render_template('web/reform.html', rows=rows, chart=bars(rows), flow_zh=FLOW_ZH, township=township or '',
                           share=_share, text=_text, limits=reform.limits(),
                           townships=sorted({r['township'] for r in reform.table(user)}) if not township else [])


@bp.get('/reform.<string:file_format>')
def reform_export(file_format):
    if file_format not in ('xlsx', 'csv'):
        raise Invalid('只能导出 xlsx 或 csv (format must be xlsx or csv)', code='bad_format')
    user = me()
    access.check_supervision(user)
    township, rows = _rows(user)
    out = [[fmt.township(r['township']), fmt.CATEGORY_NAMES.get(r['category'], '其他'), FLOW_ZH[r['flow']],
            r['cases'], r['open'], r['overdue'], r['decided'], _text(r['median_days']), _text(r['p90_days']),
            _share(r['within_limit']), _text(r['steps']), _text(r['handoffs']), _text(r['county_steps'])] for r in rows]
    exports.record(user, 'reform', file_format, len(out), False, {'township': township})
    return export.response(file_format, '改革成效', COLUMNS, out)
