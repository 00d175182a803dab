"""The county's supervision cases: written rectification orders (书面整改意见) and escalated reviews (提级复核)."""
from marshmallow import Schema, fields, validate

from ..schemas.common import MAX_ID
from ..services import oversight
from .common import errors, make_blueprint, me

blp = make_blueprint('oversight', '/api/v1', 'Oversight 县级监督 (rectification orders, escalated reviews)')


class RectificationCreate(Schema):
    township = fields.String(required=True, validate=validate.Length(min=1, max=50))
    document_no = fields.String(required=True, validate=validate.Length(min=1, max=100))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    content = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    deadline = fields.Date(required=True, metadata={'description': 'the reply is due by 24:00 of this day (Beijing)'})


class EscalationCreate(Schema):
    raised_by = fields.String(required=True, validate=validate.OneOf(list(oversight.RAISED_BY)))
    content = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    disputed_instance_id = fields.Integer(validate=validate.Range(1, MAX_ID), load_default=None)


class OversightListArgs(Schema):
    township = fields.String(validate=validate.Length(max=50))


class OversightCase(Schema):
    id = fields.Integer()
    township = fields.String()
    business_key = fields.String()
    status = fields.String()
    overdue = fields.Boolean()
    waiting_for = fields.String()
    applicant_name = fields.String()
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class OversightList(Schema):
    items = fields.List(fields.Nested(OversightCase))


@blp.route('/rectifications', methods=['POST'])
@blp.arguments(RectificationCreate)
@blp.response(201, OversightCase)
@errors(blp, 401, 403, 409, 422)
def create_rectification(body):
    """Issue a written rectification order to a township, with its deadline 下达书面整改意见"""
    return oversight.summary(oversight.issue_rectification(me(), body))


@blp.route('/rectifications', methods=['GET'])
@blp.arguments(OversightListArgs, location='query')
@blp.response(200, OversightList)
@errors(blp, 401, 403, 422)
def list_rectifications(args):
    """Rectification orders (a township sees its own), newest first; overdue marked"""
    return _list(oversight.RECTIFICATION, args)


@blp.route('/households/<int:household_id>/escalations', methods=['POST'])
@blp.arguments(EscalationCreate)
@blp.response(201, OversightCase)
@errors(blp, 401, 403, 404, 409, 422)
def create_escalation(body, household_id):
    """The county takes up a disputed township result about a household 提级复核（一事一议）"""
    return oversight.summary(oversight.escalate(me(), household_id, body))


@blp.route('/instances/<int:instance_id>/escalations', methods=['POST'])
@blp.arguments(EscalationCreate)
@blp.response(201, OversightCase)
@errors(blp, 401, 403, 404, 409, 422)
def create_refusal_escalation(body, instance_id):
    """The county takes up an application the township refused 提级复核（不予确认的申请）"""
    return oversight.summary(oversight.escalate_refusal(me(), instance_id, body))


@blp.route('/escalations', methods=['GET'])
@blp.arguments(OversightListArgs, location='query')
@blp.response(200, OversightList)
@errors(blp, 401, 403, 422)
def list_escalations(args):
    """Escalated reviews, newest first"""
    return _list(oversight.ESCALATED, args)


def _list(process_key, args):
    """Both lists are one shape: the caller's oversight cases of one process (county: one township or all)."""
    return {'items': [oversight.summary(i) for i in oversight.listing(me(), process_key, args.get('township'))]}
