from ..schemas.audit import AuditListArgs, AuditPage, AuditVerifyArgs, AuditVerifySchema
from ..services import audit, cases
from .common import errors, make_blueprint, me, paged

blp = make_blueprint('audit', '/api/v1/audit', 'Audit log 审计日志 (read only)')


@blp.route('', methods=['GET'])
@blp.arguments(AuditListArgs, location='query')
@blp.response(200, AuditPage)
@errors(blp, 401, 403, 422)
def list_audit(args):
    """The append-only audit log, newest first (county supervisor, admin) 审计日志"""
    items, total = cases.list_audit(me(), actor=args.get('actor'), action=args.get('action'),
                                    instance_id=args.get('instance_id'), page=args['page'], per_page=args['per_page'])
    return paged(items, total, args)


@blp.route('/verify', methods=['GET'])
@blp.arguments(AuditVerifyArgs, location='query')
@blp.response(200, AuditVerifySchema)
@errors(blp, 401, 403, 422)
def verify(args):
    """Walk the hash chain: intact, or the first changed, missing or reordered row (admin) 核验审计日志

    At most audit.VERIFY_ROWS_PER_REQUEST rows per request: while `complete` is false, ask again with
    `since=<next_since>` (and the same anchors) for the next stretch."""
    since = audit.parse_anchor(args['since']) if args.get('since') else None
    result = audit.verify_for(me(), [audit.parse_anchor(a) for a in args['anchor']], since)
    return {'intact': result.intact, 'count': result.count, 'last_id': result.last_id, 'last_hash': result.last_hash,
            'checked_anchors': result.checked_anchors, 'problem': result.problem, 'complete': result.complete,
            'next_since': result.next_since}
