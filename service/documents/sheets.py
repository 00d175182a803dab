"""GET /cases/<id>/sheets/<key>: printable sheets that are not notices to the applicant (the
emergency registration and signature sheet, emergency.py). Same rules and audit as the notices."""
from flask import render_template
from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from ..models import Task
from ..services import audit
from ..services.context import now
from . import emergency, townships
from .wording import SHANGHAI
from .gather import CaseNotices
from .views import _case_for, bp


def sheets_of(task_rows):
    """[(key, title)] of the sheets a case has now (for the case page and the list of documents)."""
    return [(emergency.KEY, emergency.TITLE)] if emergency.sheet_task(task_rows) is not None else []


@bp.get('/cases/<int:instance_id>/sheets/<key>')
def sheet_page(instance_id, key):
    user, instance = _case_for(instance_id)
    rows = db.session.scalars(select(Task).where(Task.instance_id == instance.id)).all()
    row = emergency.sheet_task(rows) if key == emergency.KEY else None
    if row is None:
        raise NotFound('本案没有这种登记表（急难型临时救助先行救助后才能打印） (no such sheet for this case)',
                       code='sheet_not_found')
    case = CaseNotices(instance)
    sheet = emergency.build(case.case, case.data_at(row), row, township=townships.township(instance.township),
                            today=now().astimezone(SHANGHAI).date())
    audit.record(user.username, 'read_case', instance_id=instance.id, via='sheet', sheet=key)
    db.session.commit()
    return render_template('notices/emergency_registration.html', n=sheet, instance_id=instance.id)
