"""Who issues the notices: township codes → names, and the district bodies the notices name.

The one place for these names. A district overrides them in its configuration:
`JIUZHU_TOWNSHIPS` (a mapping code → {"name", "short"}) and `JIUZHU_DISTRICT_NAME`;
`JIUZHU_RECONSIDERATION_BODY` and `JIUZHU_COURT` where the defaults derived from the
district name are wrong (e.g. a district whose administrative cases go to a court of
centralised jurisdiction, 行政案件集中管辖).
"""
from flask import current_app, has_app_context

# `short` is the 机关代字 that opens the document number (文号): 〔2026〕城民救受字第 000123 号.
TOWNSHIPS = {
    't01': {'name': '城关镇人民政府', 'short': '城'},
    't02': {'name': '河西街道办事处', 'short': '河'},
}

# Until a district configures its own name the notices say 本区: a made-up district name on a
# printed government document would be worse than a generic one.
DEFAULT_DISTRICT = '本区'


def _config(key, default=None):
    if has_app_context():
        value = current_app.config.get(key)
        if value:
            return value
    return default


def township(code):
    """{'code', 'name', 'short'} for a township code; an unknown code still prints something usable."""
    found = dict(_config('JIUZHU_TOWNSHIPS', TOWNSHIPS)).get(code)
    if found is None:
        return {'code': code, 'name': f'{code}（未配置名称的镇街）', 'short': str(code or '')[:1].upper()}
    return {'code': code, 'name': found['name'], 'short': found.get('short') or found['name'][:1]}


def codes():
    """The township codes the district configured (or the built-in ones)."""
    return list(dict(_config('JIUZHU_TOWNSHIPS', TOWNSHIPS)))


def district():
    """The district bodies named in notices: the bureau, the government, the court."""
    name = _config('JIUZHU_DISTRICT_NAME', DEFAULT_DISTRICT)
    return {
        'name': name,
        'bureau': f'{name}民政局',
        # Reconsideration of a township's (or a street office's) act goes to the district
        # government (行政复议法 2023, art. 24); so does an act of the district bureau, which is
        # the respondent when the township acts under an entrustment (委托) — one body either way.
        'reconsideration_body': _config('JIUZHU_RECONSIDERATION_BODY', f'{name}人民政府'),
        'court': _config('JIUZHU_COURT', f'{name}人民法院'),
    }
