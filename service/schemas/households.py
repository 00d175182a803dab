"""Households after the decision (issue 13): the register, one household, a reported change."""
from marshmallow import Schema, fields, validate

from ..services.households.reviews import KINDS, NOT_REPORTED
from .common import KeysetPageArgs, page_schema

STATUSES = ('applying', 'receiving', 'suspended', 'stopped')


class HouseholdListArgs(KeysetPageArgs):
    township = fields.String(validate=validate.Length(max=50))
    status = fields.String(validate=validate.OneOf(STATUSES))


class HouseholdSummary(Schema):
    id = fields.Integer()
    township = fields.String()
    village = fields.String()
    category = fields.String()
    status = fields.String(metadata={'description': 'applying | receiving | suspended | stopped'})
    status_zh = fields.String()
    head_name = fields.String()
    size = fields.Integer()
    amount = fields.Float(metadata={'description': '元/月, the amount decided last'})
    next_review_on = fields.Date(allow_none=True)


# The register pages like the other long lists; its OpenAPI name stays HouseholdList for existing clients.
HouseholdList = page_schema(HouseholdSummary, 'HouseholdList', keyset=True)


class Member(Schema):
    name = fields.String()
    relation = fields.String()
    id_number_masked = fields.String()


class AmountChange(Schema):
    effective_month = fields.String(metadata={'description': 'YYYY-MM: in force from this month on'})
    amount = fields.Float()
    change = fields.String(metadata={'description': 'grant | raise | lower | phase_out | stop'})
    change_zh = fields.String()
    reason = fields.String()
    instance_id = fields.Integer(allow_none=True)


class HouseholdCaseLink(Schema):
    id = fields.Integer()
    role = fields.String(metadata={'description': 'application | review'})
    role_zh = fields.String()
    process_key = fields.String()
    process_name = fields.String()
    business_key = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()


class HouseholdSchema(HouseholdSummary):
    version = fields.Integer()
    review_type = fields.String(metadata={'description': 'stable (yearly) | irregular (every 6 months)'})
    review_type_zh = fields.String()
    head_id_number_masked = fields.String()
    members = fields.List(fields.Nested(Member))
    this_month = fields.String()
    entitlement_this_month = fields.Float()
    started_on = fields.Date(allow_none=True)
    ended_on = fields.Date(allow_none=True)
    end_reason = fields.String()
    phase_out_until = fields.String()
    open_review = fields.Integer(allow_none=True)
    amounts = fields.List(fields.Nested(AmountChange))
    cases = fields.List(fields.Nested(HouseholdCaseLink))


class EntitlementArgs(Schema):
    month = fields.String(required=True, validate=validate.Regexp(r'^\d{4}-(0[1-9]|1[0-2])$', error='格式应为 2026-11'))


class Entitlement(Schema):
    household_id = fields.Integer()
    month = fields.String()
    amount = fields.Float(metadata={'description': '元: recomputed from the dated amount changes'})


class ChangeReport(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k for k in KINDS if k not in NOT_REPORTED]),
                         metadata={'description': 'reported 家庭情况变化 | death 成员死亡 (re-checked within 3 months) | '
                                                  'clean_out 专项治理'})
    report = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReviewStarted(Schema):
    instance_id = fields.Integer()
    household_id = fields.Integer()
    review_due_on = fields.Date()


class FilingArgs(Schema):
    township = fields.String(validate=validate.Length(min=1, max=50),
                             metadata={'description': 'default: your own township (county: the whole district)'})
    month = fields.String(validate=validate.Regexp(r'^\d{4}-(0[1-9]|1[0-2])$', error='格式应为 2026-11'),
                          metadata={'description': 'YYYY-MM, default: this month'})


class Filing(Schema):
    township = fields.String()
    month = fields.String()
    changes = fields.Dict(metadata={'description': '{new, exited, adjusted}: [{household_id, head_name, change, amount, reason}]'})
    payment = fields.List(fields.Dict(), metadata={'description': '[{household_id, head_name, size, category, amount}]'})
    totals = fields.Dict(metadata={'description': '{households, persons, amount}'})


class ReportedLine(Schema):
    household_id = fields.Integer(required=True)
    amount = fields.Float(required=True)


class FilingCheck(FilingArgs):
    lines = fields.List(fields.Nested(ReportedLine), required=True)
    total = fields.Float(allow_none=True, metadata={'description': 'the reported total; default: the sum of the lines'})


class FilingProblems(Schema):
    agrees = fields.Boolean()
    problems = fields.List(fields.Dict(), metadata={'description': '[{household_id, problem, problem_zh, expected, reported}]'})


class SpotCheckCreate(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    percent = fields.Integer(load_default=30, validate=validate.Range(min=30, max=100, error='应在 30 到 100 之间'))
    seed = fields.String(validate=validate.Length(min=8, max=64))


class SpotCheckSchema(Schema):
    id = fields.Integer()
    year = fields.Integer()
    percent = fields.Integer()
    seed = fields.String()
    population = fields.Dict(metadata={'description': '{township: [household id]}: the year\'s new households'})
    sample = fields.Dict(metadata={'description': '{township: [household id]}: drawn, a county home visit each'})
    drawn_by = fields.String()
    drawn_at = fields.DateTime()
    reproduced = fields.Boolean(metadata={'description': 'the sample recomputed from seed, population and percent'})
