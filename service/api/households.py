"""Households after the decision (issue 13): the register, one household, a month's entitlement, a reported change."""
from ..schemas.households import (ChangeReport, Entitlement, EntitlementArgs, Filing, FilingArgs, FilingCheck,
                                  FilingProblems, HouseholdList, HouseholdListArgs, HouseholdSchema, ReviewStarted,
                                  SpotCheckCreate, SpotCheckSchema)
from ..services.households import filing, register, reviews, schedule, spot_checks, view
from ..services.households.effects import today
from .common import errors, make_blueprint, me, page

blp = make_blueprint('households', '/api/v1', 'Households 救助家庭 (dynamic management)')


@blp.route('/households', methods=['GET'])
@blp.arguments(HouseholdListArgs, location='query')
@blp.response(200, HouseholdList)
@errors(blp, 401, 403, 422)
def list_households(args):
    """The register of the caller's township (county: all, or one township), by township and id;
    paginated (page numbers, then the `next` cursor), total in the body 救助家庭名册"""
    found = register.list_households(me(), township=args.get('township'), status=args.get('status'),
                                     page=args['page'], per_page=args['per_page'], cursor=args.get('cursor'))
    found.items = [view.summary(h) for h in found.items]
    return page(found, args)


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


@blp.route('/filings', methods=['GET'])
@blp.arguments(FilingArgs, location='query')
@blp.response(200, Filing)
@errors(blp, 401, 403, 404, 422)
def get_filing(args):
    """A township's month from the records: new, exited, adjusted households and the payment roster 月度备案名册"""
    return filing.build(me(), args.get('township'), args.get('month') or schedule.month_of(today()))


@blp.route('/filings/check', methods=['POST'])
@blp.arguments(FilingCheck)
@blp.response(200, FilingProblems)
@errors(blp, 401, 403, 404, 422)
def check_filing(body):
    """Compare a reported payment roster with the records, line by line (seed 002: 相一致) 名册核对"""
    expected = filing.build(me(), body.get('township'), body.get('month') or schedule.month_of(today()))
    problems = filing.compare(expected, body['lines'], body.get('total'))
    for p in problems:
        p['problem_zh'] = filing.PROBLEM_ZH[p['problem']]
    return {'agrees': not problems, 'problems': problems}


@blp.route('/spot-checks', methods=['POST'])
@blp.arguments(SpotCheckCreate)
@blp.response(201, SpotCheckSchema)
@errors(blp, 401, 403, 409, 422)
def create_spot_check(body):
    """Draw a year's spot check (≥ 30 % of each township's new households), a county home visit each 抽查复核"""
    row = spot_checks.draw(me(), body['year'], body['percent'], body.get('seed'))
    return spot_checks.describe(row)


@blp.route('/spot-checks/<int:draw_id>', methods=['GET'])
@blp.response(200, SpotCheckSchema)
@errors(blp, 401, 403, 404)
def get_spot_check(draw_id):
    """A recorded draw, re-drawn from its seed to show the sample follows from it"""
    return spot_checks.describe(spot_checks.get(me(), draw_id))
