"""Reassignment from the pages: whom a task may be given to, and giving it with a reason.

The rule is the API's (`access.check_assign`, through `cases.assign`): the township leader gives
a township lane's task to a person of that role in the township, a county supervisor a county
lane's task; nobody excluded from the case. The pages only add a reason, which is required there
and goes into the audit log with the previous and new assignee.
"""
from sqlalchemy import select

from ..errors import Invalid, JiuzhuError
from ..extensions import db
from ..models import User
from . import access, cases
from .users import COUNTY_ROLES

MAX_REASON = 500


def candidates(user, task):
    """Active people the user may give this ready task to (not its current assignee), by name."""
    if task is None or task.state != 'ready' or user.role not in ('township_leader', 'county_supervisor'):
        return []
    stmt = select(User).where(User.active.is_(True), User.role == task.role)
    if task.role not in COUNTY_ROLES:
        stmt = stmt.where(User.township == task.township)
    out = []
    for person in db.session.scalars(stmt.order_by(User.display_name, User.username)):
        if person.username == task.assignee:
            continue
        try:
            access.check_assign(user, task, person)
        except JiuzhuError:
            continue
        out.append(person)
    return out


def reassign(user, task_id, username, reason):
    reason = (reason or '').strip()
    if not reason:
        raise Invalid('请填写分派理由 (a reason is required)', details={'reason': '请填写分派理由'},
                      code='validation_error')
    if len(reason) > MAX_REASON:
        raise Invalid(f'分派理由最多 {MAX_REASON} 字 (reason too long)', details={'reason': '内容过长'},
                      code='validation_error')
    if not username:
        raise Invalid('请选择分派给谁 (choose a person)', details={'username': '请选择人员'}, code='validation_error')
    return cases.assign(user, task_id, username, reason=reason)
