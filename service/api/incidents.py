"""Incidents and the operator's actions on a case: county supervisors and admins only (access.check_operate)."""
from sqlalchemy import select

from ..extensions import db
from ..models import ProcessInstance, Timer
from ..schemas.incidents import (IncidentListArgs, IncidentPage, IncidentSchema, ResumeRequest, RetryRequest,
                                 SuspendRequest, TerminateRequest)
from ..schemas.instances import InstanceDetailSchema
from ..services import cases, incident_info, incidents
from .common import errors, make_blueprint, me, paged
from .instances import _with

blp = make_blueprint('incidents', '/api/v1', 'Incidents 流程故障 (county supervisor, admin)')


def _incident(row, case=None, definition=None):
    out = {column: getattr(row, column) for column in (
        'id', 'instance_id', 'township', 'kind', 'element', 'element_name', 'line', 'message', 'trigger', 'actor',
        'state', 'created_at', 'resolved_at', 'resolved_by', 'resolution', 'note')}
    out['business_key'] = case.business_key if case is not None else None
    out['process_key'] = case.process_key if case is not None else None
    out['version'] = None if definition is None else {
        'id': definition.id, 'key': definition.key, 'version': definition.version, 'name': definition.name,
        'label': definition.label}
    return out


def _case(instance):
    """The case as GET /instances/{id} shapes it; the action itself is the audit entry, not a read."""
    timers = db.session.scalars(select(Timer).where(Timer.instance_id == instance.id)
                                .order_by(Timer.due_at, Timer.id)).all()
    return _with(instance, ready_tasks=cases.ready_tasks(instance.id), timers=timers,
                 history=cases.history(instance.id))


@blp.route('/incidents', methods=['GET'])
@blp.arguments(IncidentListArgs, location='query')
@blp.response(200, IncidentPage)
@errors(blp, 401, 403, 422)
def list_incidents(args):
    """Incidents, newest first: open ones by default (state=resolved|all for the others) 流程故障列表"""
    rows, total = incident_info.listing(
        me(), state=args['state'], township=args.get('township'), process_key=args.get('process_key'),
        instance_id=args.get('instance_id'), page=args['page'], per_page=args['per_page'])
    return paged([_incident(r['incident'], r['case'], r['definition']) for r in rows], total, args)


@blp.route('/incidents/<int:incident_id>', methods=['GET'])
@blp.response(200, IncidentSchema)
@errors(blp, 401, 403, 404)
def get_incident(incident_id):
    """One incident: where the case failed (element, line, message), what ran into it, how it was resolved"""
    row = incidents.get_incident(me(), incident_id)
    return _incident(row, db.session.get(ProcessInstance, row.instance_id), incident_info.definition_of(row))


@blp.route('/instances/<int:instance_id>/retry', methods=['POST'])
@blp.arguments(RetryRequest)
@blp.response(200, InstanceDetailSchema)
@errors(blp, 400, 401, 403, 404, 409, 422)
def retry(body, instance_id):
    """Run the failed step again, with corrected data and/or on the newest version 重试.

    The answer is the case; when the step fails again its status is `incident` and `incident`
    is the new one. 409 when the case has no open incident or the new version removes its step.
    """
    instance = incidents.retry(me(), instance_id, data=body.get('data'), latest_version=body['latest_version'],
                               note=body.get('note'))
    return _case(instance)


@blp.route('/instances/<int:instance_id>/suspend', methods=['POST'])
@blp.arguments(SuspendRequest)
@blp.response(200, InstanceDetailSchema)
@errors(blp, 400, 401, 403, 404, 409, 422)
def suspend(body, instance_id):
    """Hold a running case: its tasks leave the work lists and its timers stop firing 挂起 (409 if not running)"""
    return _case(incidents.suspend(me(), instance_id, body['reason']))


@blp.route('/instances/<int:instance_id>/resume', methods=['POST'])
@blp.arguments(ResumeRequest)
@blp.response(200, InstanceDetailSchema)
@errors(blp, 400, 401, 403, 404, 409, 422)
def resume(body, instance_id):
    """Release a suspended case; timers that fell due meanwhile fire at once 恢复 (409 if not suspended)"""
    return _case(incidents.resume(me(), instance_id, body.get('note')))


@blp.route('/instances/<int:instance_id>/terminate', methods=['POST'])
@blp.arguments(TerminateRequest)
@blp.response(200, InstanceDetailSchema)
@errors(blp, 400, 401, 403, 404, 409, 422)
def terminate(body, instance_id):
    """End a case for good with a reason: open tasks and timers are cancelled 终止 (409 if it has ended)"""
    return _case(incidents.terminate(me(), instance_id, body['reason']))
