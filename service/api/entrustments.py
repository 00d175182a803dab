"""The entrustment registry (委托书): county supervisors and admins keep it; everyone reads their own."""
from ..schemas.entrustments import (EntrustmentCreate, EntrustmentList, EntrustmentListArgs, EntrustmentRevoke,
                                    EntrustmentSchema, EntrustmentUpdate, PhaseReport, PhaseReportArgs)
from ..services import entrustments
from .common import errors, make_blueprint, me

blp = make_blueprint('entrustments', '/api/v1', 'Entrustments 委托书 (county supervisor, admin)')


def _out(row):
    today = entrustments.today()
    out = {c: getattr(row, c) for c in (
        'id', 'version', 'township', 'category', 'phase', 'variant', 'matters', 'scope_text', 'scope',
        'responsibility', 'letter_no', 'signed_by', 'signed_on', 'valid_from', 'valid_to', 'created_by',
        'created_at', 'revoked_at', 'revoked_by', 'revoke_reason')}
    out['in_force'] = (row.revoked_at is None and row.valid_from <= today
                       and (row.valid_to is None or row.valid_to >= today))
    return out


@blp.route('/entrustments', methods=['GET'])
@blp.arguments(EntrustmentListArgs, location='query')
@blp.response(200, EntrustmentList)
@errors(blp, 401, 403, 422)
def list_entrustments(args):
    """The registry: every term of every township (township staff: their own) 委托书列表"""
    rows = entrustments.listing(me(), township=args.get('township'), category=args.get('category'),
                                in_force_only=args['in_force'])
    return {'items': [_out(r) for r in rows]}


@blp.route('/entrustments', methods=['POST'])
@blp.arguments(EntrustmentCreate)
@blp.response(201, EntrustmentSchema)
@errors(blp, 400, 401, 403, 409, 422)
def create_entrustment(body):
    """Register a term of a 委托书 (409 when it overlaps another term of the same township and category)"""
    township, category = body.pop('township'), body.pop('category')
    return _out(entrustments.create(me(), township, category, **body))


@blp.route('/entrustments/<int:entrustment_id>', methods=['GET'])
@blp.response(200, EntrustmentSchema)
@errors(blp, 401, 403, 404)
def get_entrustment(entrustment_id):
    """One term of a 委托书"""
    return _out(entrustments.get(me(), entrustment_id))


@blp.route('/entrustments/<int:entrustment_id>', methods=['PUT'])
@blp.arguments(EntrustmentUpdate)
@blp.response(200, EntrustmentSchema)
@errors(blp, 400, 401, 403, 404, 409, 422)
def update_entrustment(body, entrustment_id):
    """Change a term (e.g. end it on a date, or move the phase); audited with before and after"""
    version = body.pop('version')
    return _out(entrustments.update(me(), entrustment_id, version, **body))


@blp.route('/entrustments/<int:entrustment_id>/revoke', methods=['POST'])
@blp.arguments(EntrustmentRevoke)
@blp.response(200, EntrustmentSchema)
@errors(blp, 400, 401, 403, 404, 409, 422)
def revoke_entrustment(body, entrustment_id):
    """Revoke a term with a reason 撤销委托 (new cases then start on the legacy flow)"""
    return _out(entrustments.revoke(me(), entrustment_id, body['version'], body['reason']))


@blp.route('/reports/phases', methods=['GET'])
@blp.arguments(PhaseReportArgs, location='query')
@blp.response(200, PhaseReport)
@errors(blp, 401, 403, 422)
def phase_report(args):
    """Cases started per township, category, flow and month: the switch-over as it happened 阶段报表"""
    return {'items': entrustments.phase_report(me(), township=args.get('township'), since=args.get('since'))}
