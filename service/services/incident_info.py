"""Read-only views of incidents and held cases for the API and the pages (services/incidents.py acts).

Lists are read in a fixed number of queries: the incidents, then their cases, versions and the
people named in them, never one query per row.
"""
from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditEntry, Incident, ProcessDefinition, ProcessInstance, User
from . import access, repository
from .incidents import list_incidents, open_incident
from .write import SYSTEM_TIMER

# The audit action that put a case into each held or ended status, for the case page's banner.
STATUS_ACTIONS = {'suspended': 'suspend', 'terminated': 'terminate'}


def open_count():
    return db.session.scalar(select(func.count()).select_from(Incident).where(Incident.state == 'open'))


def display_names(usernames):
    """{username: display name} of the named staff; unknown names are left out."""
    wanted = {u for u in usernames if u and u != SYSTEM_TIMER}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())


def listing(user, **filters):
    """(rows, total): each row {'incident', 'case', 'definition'} for the incident list."""
    items, total = list_incidents(user, **filters)
    cases = _by_id(ProcessInstance, {i.instance_id for i in items})
    definitions = _by_id(ProcessDefinition, {i.definition_id for i in items})
    return [{'incident': i, 'case': cases.get(i.instance_id), 'definition': definitions.get(i.definition_id)}
            for i in items], total


def _by_id(model, ids):
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def townships():
    """The townships that have incidents (the list's filter)."""
    return sorted(db.session.scalars(select(Incident.township).distinct()))


def definition_id_of(instance_id):
    return db.session.scalar(select(ProcessInstance.definition_id).where(ProcessInstance.id == instance_id))


def definition_of(incident):
    return db.session.get(ProcessDefinition, incident.definition_id)


def last_entry(instance_id, action):
    return db.session.scalar(select(AuditEntry).where(AuditEntry.instance_id == instance_id,
                                                      AuditEntry.action == action)
                             .order_by(AuditEntry.id.desc()).limit(1))


def banner(user, instance):
    """What the case page says about a held or ended case, and what the user may do about it.

    None for a running or completed case that nobody may act on (most cases, most users).
    """
    operator = user.role in access.OPERATORS
    if instance.status == 'running' and not operator:
        return None
    if instance.status == 'completed':
        return None
    info = {'status': instance.status, 'operator': operator, 'incident': None, 'entry': None,
            'latest': None, 'on_latest': True}
    if instance.status == 'incident':
        info['incident'] = open_incident(instance.id)
        latest = repository.latest(instance.process_key)
        info['latest'], info['on_latest'] = latest, latest.id == instance.definition_id
    elif instance.status in STATUS_ACTIONS:
        info['entry'] = last_entry(instance.id, STATUS_ACTIONS[instance.status])
    return info
