"""Households after the decision (issue 13): the register, one household, a month's entitlement, a reported change."""
from ..schemas.households import (ChangeReport, Entitlement, EntitlementArgs, HouseholdList, HouseholdListArgs,
                                  HouseholdSchema, ReviewStarted)
from ..services.households import register, reviews, view
from .common import errors, make_blueprint, me

blp = make_blueprint('households', '/api/v1', 'Households 救助家庭 (dynamic management)')


@blp.route('/households', methods=['GET'])
@blp.arguments(HouseholdListArgs, location='query')
@blp.response(200, HouseholdList)
@errors(blp, 401, 403, 422)
def list_households(args):
    """The register of the caller's township (county: all, or one township) 救助家庭名册"""
    rows = register.listing(me(), township=args.get('township'), status=args.get('status'))
    return {'items': [view.summary(h) for h in rows]}


@blp.route('/households/<int:household_id>', methods=['GET'])
@blp.response(200, HouseholdSchema)
@errors(blp, 401, 403, 404)
def get_household(household_id):
    """One household: members (ID numbers masked), status, amounts by month, its cases, next review (audited)"""
    return view.detail(me(), household_id)


@blp.route('/households/<int:household_id>/entitlement', methods=['GET'])
@blp.arguments(EntitlementArgs, location='query')
@blp.response(200, Entitlement)
@errors(blp, 401, 403, 404, 422)
def get_entitlement(args, household_id):
    """What the household is entitled to for a month, recomputed from its dated amounts 某月应发金额"""
    household = register.get(me(), household_id)
    return {'household_id': household.id, 'month': args['month'],
            'amount': register.entitlement_fen(household.id, args['month']) / 100}


@blp.route('/households/<int:household_id>/reviews', methods=['POST'])
@blp.arguments(ChangeReport)
@blp.response(201, ReviewStarted)
@errors(blp, 401, 403, 404, 409, 422)
def report_change(body, household_id):
    """A reported change opens a review case at once (409 while another review runs) 报告家庭情况变化"""
    instance, due_day = reviews.report_change(me(), household_id, body['kind'], body['report'])
    return {'instance_id': instance.id, 'household_id': household_id, 'review_due_on': due_day}
