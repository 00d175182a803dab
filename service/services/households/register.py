"""Reading the household register: one household, a township's list, a case's household, a month's entitlement.

The entitlement of a month is recomputed from the dated amounts (household_amount), never read
from the household row: the row holds today's state, the dated rows hold every month's.
"""
from sqlalchemy import select

from ...extensions import db
from ...models import Household, HouseholdAmount, HouseholdCase, ProcessInstance
from .. import access, exclusions
from ..listing import Key, order, page_of
from . import schedule

STATUS_ZH = {'applying': '申请中', 'receiving': '享受中', 'suspended': '暂停发放', 'stopped': '已停发'}
CHANGE_ZH = {'grant': '纳入', 'raise': '调增', 'lower': '调减', 'continue': '维持', 'phase_out': '渐退',
             'stop': '停发', 'suspend': '暂停', 'resume': '恢复'}
REVIEW_TYPE_ZH = {'stable': '收入稳定（每年复核）', 'irregular': '收入不固定或有劳动能力（每半年复核）'}
ROLE_ZH = {'application': '申请', 'review': '复核', 'spot_check': '抽查', 'escalated': '提级复核'}

# The register by township, then as registered. For one township and a status this is a range of
# ix_household_township_status (township, status, id); a cursor continues after the last row shown.
HOUSEHOLD_ORDER = order(Key(Household.township, kind=str), Key(Household.id))


def entitlement_fen(household_id, month):
    """What the household is entitled to for `month` (YYYY-MM): the newest change in force by then."""
    schedule.check_month(month)
    return db.session.scalar(
        select(HouseholdAmount.amount_fen).where(HouseholdAmount.household_id == household_id,
                                                 HouseholdAmount.effective_month <= month)
        .order_by(HouseholdAmount.effective_month.desc(), HouseholdAmount.id.desc()).limit(1)) or 0


def get(user, household_id):
    household = db.session.get(Household, household_id)
    access.check_household_visible(user, household, household_id)
    return household


def for_case(instance_id):
    """The household a case belongs to (its application, review or check), or None."""
    return db.session.scalar(select(Household).join(HouseholdCase, HouseholdCase.household_id == Household.id)
                             .where(HouseholdCase.instance_id == instance_id))


def _visible(user, township, status):
    """The households the user may read (their own township; the county: all, or `township`), unordered."""
    access.require_case_reader(user)
    stmt = access.scope_township(user, select(Household), Household.township, township)
    return stmt.where(Household.status == status) if status else stmt


def list_households(user, township=None, status=None, page=1, per_page=20, cursor=None):
    """A Page (services/listing.py) of the register: by page number for the first rows, then by cursor."""
    return page_of(_visible(user, township, status), HOUSEHOLD_ORDER, per_page, page, cursor)


def amounts(household_id):
    return db.session.scalars(select(HouseholdAmount).where(HouseholdAmount.household_id == household_id)
                              .order_by(HouseholdAmount.effective_month, HouseholdAmount.id)).all()


def cases(household_id):
    rows = db.session.execute(
        select(HouseholdCase, ProcessInstance).join(ProcessInstance, ProcessInstance.id == HouseholdCase.instance_id)
        .where(HouseholdCase.household_id == household_id).order_by(HouseholdCase.id)).all()
    return [(link, instance) for link, instance in rows]


def open_review(household_id):
    """The household's review case still running, if any (one at a time)."""
    return db.session.scalar(
        select(ProcessInstance.id).join(HouseholdCase, HouseholdCase.instance_id == ProcessInstance.id)
        .where(HouseholdCase.household_id == household_id, HouseholdCase.role == 'review',
               ProcessInstance.status.in_(exclusions.OPEN)).limit(1))
