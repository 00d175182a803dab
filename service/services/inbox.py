"""The in-app inbox: what a person should look at now, and which of it they have seen.

Items are computed on read from the task rows, not stored as messages when events happen:
- 已超期 / 即将到期: the person's claimed ready tasks whose deadline passed or falls within
  DUE_SOON_WORKING_DAYS working days — "due soon" is time passing, not an event anything fires,
  and a completed or reassigned task leaves the inbox by itself;
- 督办: a task of the county bureau's lane (SUPERVISION_ROLES) opened on a case the person
  works on (in the diagrams: 督办先行救助) — the county's instruction, while open and after;
- 退回: a ready task for the person (claimed, or unclaimed in their role) at a step their case
  already passed once — the case came back to the township (补正后重新审查, 复查后重新审核); the
  row says so itself (`task.returned`, set as it is made).
Each is one range on an existing task index, bounded by LIMIT, so the count in the navigation
stays cheap whatever the size of the district, and nothing can fall out of step with the cases
(no sweep to miss, no message to retract). Only "seen" is stored (inbox_read, one row per item).
E-mail/SMS hooks: docs/notifications.md.
"""
from datetime import timedelta

from sqlalchemy import and_, exists, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import InboxRead, Task
from . import access
from .context import now
from .supervision import DUE_SOON_WORKING_DAYS, due_soon_limit

LIMIT = 50
RECENT_DAYS = 30
SUPERVISION_ROLES = ('county_supervisor',)
KIND_LABELS = {'overdue': '已超期', 'due_soon': '即将到期', 'supervision': '区民政局督办', 'returned': '案件退回'}


def _deadlines(user, moment):
    rows = db.session.scalars(access.scope_tasks(user, select(Task)).where(
        Task.assignee == user.username, Task.state == 'ready', Task.due_at < due_soon_limit(moment))
        .order_by(Task.due_at, Task.id).limit(LIMIT)).all()
    out = []
    for t in rows:
        late = t.overdue or t.due_at <= moment
        out.append({'kind': 'overdue' if late else 'due_soon', 'task': t, 'at': t.due_at,
                    'text': f'「{t.name}」{"已超过办理期限" if late else f"将在 {DUE_SOON_WORKING_DAYS} 个工作日内到期"}'})
    return out


def _supervision(user, moment):
    if access.sees_all_townships(user):
        return []    # the county writes the 督办; the township receives it
    mine = aliased(Task)
    works_on = exists().where(mine.instance_id == Task.instance_id,
                              or_(mine.assignee == user.username, mine.completed_by == user.username))
    rows = db.session.scalars(access.scope_tasks(user, select(Task)).where(
        Task.township == user.township, Task.role.in_(SUPERVISION_ROLES), Task.state.in_(('ready', 'completed')),
        Task.created_at >= moment - timedelta(days=RECENT_DAYS), works_on)
        .order_by(Task.created_at.desc(), Task.id).limit(LIMIT)).all()
    return [{'kind': 'supervision', 'task': t, 'at': t.created_at,
             'text': f'区民政局对本案「{t.name}」' + ('，请尽快办理' if t.state == 'ready' else '，已记录督办意见')}
            for t in rows]


def _returned(user, moment):
    # `returned` is set when the row is made (services/sync.py): looking for an earlier completed row
    # of each candidate read every open task of the township (≈ 180 ms a page at a million cases).
    rows = db.session.scalars(access.scope_tasks(user, select(Task)).where(
        Task.returned == true(), Task.state == 'ready', Task.created_at >= moment - timedelta(days=RECENT_DAYS),
        or_(Task.assignee == user.username, and_(Task.assignee.is_(None), Task.role == user.role)))
        .order_by(Task.created_at.desc(), Task.id).limit(LIMIT)).all()
    return [{'kind': 'returned', 'task': t, 'at': t.created_at, 'text': f'案件退回到「{t.name}」，需要重新办理'}
            for t in rows]


def items(user):
    """The person's inbox items, newest first, each with `key` and `read`."""
    if user.role not in access.CASE_READERS:
        return []
    moment = now()
    found = _deadlines(user, moment) + _supervision(user, moment) + _returned(user, moment)
    for item in found:
        item['key'] = f'{item["kind"]}:{item["task"].id}'
        item['label'] = KIND_LABELS[item['kind']]
    seen = _seen(user, [i['key'] for i in found])
    for item in found:
        item['read'] = item['key'] in seen
    found.sort(key=lambda i: (i['read'], -i['at'].timestamp()))
    return found


def unread_count(user):
    return sum(1 for i in items(user) if not i['read'])


def _seen(user, keys):
    if not keys:
        return set()
    return set(db.session.scalars(select(InboxRead.item).where(
        InboxRead.username == user.username, InboxRead.item.in_(keys))))


def mark_read(user, keys):
    """Mark items read (keys the person's inbox holds now; others are ignored)."""
    current = {i['key'] for i in items(user)}
    wanted = [k for k in keys if k in current]
    seen = _seen(user, wanted)
    moment = now()
    for key in wanted:
        if key not in seen:
            db.session.add(InboxRead(username=user.username, item=key, read_at=moment))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()    # the same item marked from another tab meanwhile: it is read either way
    return len(wanted)


def mark_all_read(user):
    return mark_read(user, [i['key'] for i in items(user)])
