"""Reports and complaints (举报投诉, 12349): record one (starts its handling case), list, read (audited)."""
from ..schemas.complaints import ComplaintCreate, ComplaintList, ComplaintListArgs, ComplaintSchema
from ..services import complaints
from .common import errors, make_blueprint, me

blp = make_blueprint('complaints', '/api/v1', 'Complaints 举报投诉 (12349)')


@blp.route('/complaints', methods=['POST'])
@blp.arguments(ComplaintCreate)
@blp.response(201, ComplaintSchema)
@errors(blp, 401, 403, 404, 409, 422)
def create_complaint(body):
    """Record a complaint: starts its verification and feedback case, and the household's review 登记举报"""
    row = complaints.record(me(), body)
    return complaints.detail(me(), row.id)


@blp.route('/complaints', methods=['GET'])
@blp.arguments(ComplaintListArgs, location='query')
@blp.response(200, ComplaintList)
@errors(blp, 401, 403, 422)
def list_complaints(args):
    """Complaints of the caller's township (county: all, or one township), newest first 举报列表"""
    rows = complaints.listing(me(), status=args.get('status'), township=args.get('township'))
    return {'items': [complaints.summary(r) for r in rows]}


@blp.route('/complaints/<int:complaint_id>', methods=['GET'])
@blp.response(200, ComplaintSchema)
@errors(blp, 401, 403, 404)
def get_complaint(complaint_id):
    """One complaint: the reporter's contact masked, the verification and the feedback (audited)"""
    return complaints.detail(me(), complaint_id)
