"""Incidents (Camunda's word) and the operator's actions on a case: retry, suspend, resume, terminate.

A case whose step raised is held by the write path (status 'incident', tasks and timers held,
an `Incident` row with element, line, message and the action that ran into it). Nothing retries
it by itself. A county supervisor or an admin looks at it, fixes the cause — redeploys the
diagram, or corrects the data — and retries; or suspends and resumes a case; or terminates it with
a reason. Every action is a versioned write of the case and goes into the audit log.
"""
from sqlalchemy import select

from ..engine.migrate import MigrationRefused
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Incident, ProcessInstance
from . import access, repository
from .cases import paginate
from .context import engine, now
from .write import HELD, write_case

MAX_REASON = 500


def list_incidents(user, state='open', township=None, process_key=None, instance_id=None, page=1, per_page=20):
    access.check_operate(user)
    stmt = select(Incident)
    if state and state != 'all':
        stmt = stmt.where(Incident.state == state)
    if township:
        stmt = stmt.where(Incident.township == township)
    if instance_id is not None:
        stmt = stmt.where(Incident.instance_id == instance_id)
    if process_key:
        stmt = stmt.where(Incident.instance_id.in_(
            select(ProcessInstance.id).where(ProcessInstance.process_key == process_key)))
    return paginate(stmt.order_by(Incident.created_at.desc(), Incident.id.desc()), page, per_page)


def get_incident(user, incident_id):
    access.check_operate(user)
    row = db.session.get(Incident, incident_id)
    if row is None:
        raise NotFound(f'没有编号为 {incident_id} 的故障 (no such incident)', code='incident_not_found')
    return row


def open_incident(instance_id):
    return db.session.scalar(select(Incident).where(Incident.instance_id == instance_id, Incident.state == 'open')
                             .order_by(Incident.id.desc()).limit(1))


def _case(user, instance_id):
    access.check_operate(user)
    instance = db.session.get(ProcessInstance, instance_id)
    # A supervisor registered as the applicant's close relative is excluded here too.
    access.check_instance_read(user, instance, instance_id)
    return instance


def _reason(reason, required):
    reason = (reason or '').strip()
    if required and not reason:
        raise Invalid('请填写理由 (a reason is required)', details={'reason': '必填'}, code='validation_error')
    if len(reason) > MAX_REASON:
        raise Invalid(f'理由不超过 {MAX_REASON} 字 (reason too long)', details={'reason': f'不超过 {MAX_REASON} 字'},
                      code='validation_error')
    return reason or None


def _resolve(instance_id, actor, resolution, note):
    row = open_incident(instance_id)
    if row is not None:
        row.state, row.resolved_at, row.resolved_by = 'resolved', now(), actor
        row.resolution, row.note = resolution, note
    return row


def retry(user, instance_id, data=None, latest_version=False, note=None):
    """Run the failed step again: on the newest deployed version when asked, with corrected data if given.

    If it fails again the case is held in a new incident (the response says so); the old one is
    resolved as retried either way, so the list shows each attempt.
    """
    instance = _case(user, instance_id)
    if instance.status != 'incident':
        raise Conflict('案件当前没有待处理的故障 (the case has no open incident)', code='no_incident')
    if data is not None and not isinstance(data, dict):
        raise Invalid('更正的数据应为对象 (data must be an object)', details={'data': '应为对象'}, code='validation_error')
    note = _reason(note, required=False)
    target = repository.latest(instance.process_key) if latest_version else None
    moved = {}

    def act(workflow):
        if target is not None and target.id != instance.definition_id:
            try:
                engine().migrate(workflow, target)
            except MigrationRefused as exc:
                raise Conflict(f'新版本删除了案件当前所在的环节（{"、".join(exc.elements)}），不能迁移'
                               f' (the new version removes steps this case is in)',
                               details={'elements': exc.elements}, code='migration_refused') from None
            moved.update(old=instance.definition_id, new=target.id, version=target.version)
            instance.definition_id = target.id
        engine().retry(workflow, data)

    def check(case):
        _resolve(instance_id, user.username, 'retried', note)

    write_case(instance_id, user.username, 'retry', act, check=check, release=True, fire=False, note=note,
               corrected=sorted(data) if data else None, migrated=moved)  # filled by act before the audit entry
    return db.session.get(ProcessInstance, instance_id)


def suspend(user, instance_id, reason):
    instance = _case(user, instance_id)
    reason = _reason(reason, required=True)
    if instance.status != 'running':
        raise Conflict(f'只有办理中的案件可以挂起 (only a running case can be suspended; it is {instance.status})',
                       code='not_running')

    def touch(case):
        case.rows.hold()
        case.instance.status = 'suspended'
        return case.instance, {}
    write_case(instance_id, user.username, 'suspend', touch=touch, reason=reason)
    return db.session.get(ProcessInstance, instance_id)


def resume(user, instance_id, note=None):
    instance = _case(user, instance_id)
    if instance.status != 'suspended':
        raise Conflict('案件未挂起 (the case is not suspended)', code='not_suspended')
    # Released first, then the engine fires whatever fell due while it was held.
    write_case(instance_id, user.username, 'resume', engine().advance, release=True, fire=False,
               note=_reason(note, required=False))
    return db.session.get(ProcessInstance, instance_id)


def terminate(user, instance_id, reason):
    instance = _case(user, instance_id)
    reason = _reason(reason, required=True)
    if instance.status not in ('running',) + HELD:
        raise Conflict(f'案件已结束，不能终止 (the case has ended: {instance.status})', code='not_running')

    def check(case):
        _resolve(instance_id, user.username, 'terminated', reason)
        # Set before the save, so it does not read the cancelled workflow as a case completed.
        case.instance.status, case.instance.terminated_at = 'terminated', now()

    write_case(instance_id, user.username, 'terminate', engine().terminate, check=check, release=True,
               fire=False, reason=reason)
    return db.session.get(ProcessInstance, instance_id)
