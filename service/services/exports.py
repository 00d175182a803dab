"""Exports of the lists: the bound on their size and the audit entry each one leaves.

The rows themselves come from the same scoped statements as the pages (worklists.py,
supervision.py), so an export holds exactly what its page would list, page after page.
"""
from ..extensions import db
from . import audit

MAX_ROWS = 50000
LISTS = {'tasks': '待办任务', 'cases': '案件', 'overdue': '超期案件', 'townships': '各镇街办件情况',
         'roster_payment': '发放名册', 'roster_changes': '变动名册'}


def record(user, list_name, file_format, rows, cut, filters):
    """Audit one export: who took which list, how many rows, under which filters."""
    audit.record(user.username, 'export_list', list=list_name, format=file_format, rows=rows, cut=cut,
                 filters={k: str(v) for k, v in (filters or {}).items() if v not in (None, '')})
    db.session.commit()
