"""近亲属回避: who stays out of a case, recorded at its start and read again on every read and act.

Staff who declared themselves (the application's `close_relative_of_staff`) or are registered as a
close relative of the applicant or of any member of the household (services/case_members.py) are
excluded: `apply_exclusions` records them when the case starts and flags the case for the county's
100 % visit (services/county_visits.py); `recheck_members` does the same when a task changes the
case's people; `is_excluded` also counts a relative registered after the start. services/access.py
turns an exclusion into a 403.
"""
from sqlalchemy import bindparam, exists, not_, or_, select

from ..extensions import db
from ..models import CaseExclusion, CaseMember, CloseRelative, HouseholdCase, ProcessInstance
from . import case_members
from .users import relatives_of

# The states of a case still open: read and acted on (services/county_visits.py uses them too).
OPEN = ('running', 'incident', 'suspended')

EXCLUDED = '您是本案申请人或其家庭成员的近亲属，需回避 (close relative of the applicant or a household member: excluded)'


def excluded_from(instance_id, username):
    """The condition "`username` stays out of case `instance_id`": excluded at its start, or registered
    since as a close relative of its applicant or of a member of its household. `instance_id` may be a
    column of an enclosing statement (a task row read together with its exclusion)."""
    excluded = exists().where(CaseExclusion.instance_id == instance_id, CaseExclusion.username == username)
    # The applicant's hash on the case row still counts for cases older than their member rows.
    relative = exists().where(ProcessInstance.id == instance_id, ProcessInstance.id_hash.is_not(None),
                              CloseRelative.id_hash == ProcessInstance.id_hash,
                              CloseRelative.staff_username == username)
    member = exists().where(CaseMember.instance_id == instance_id, CloseRelative.id_hash == CaseMember.id_hash,
                            CloseRelative.staff_username == username)
    return or_(excluded, relative, member)


# Built once: building the three subqueries cost more than running them, on every read and act.
# A request only binds the two values (SQLAlchemy keeps the compiled statement).
_IS_EXCLUDED = select(excluded_from(bindparam('instance_id'), bindparam('username')))


def is_excluded(user, instance_id):
    """Excluded from the case at its start, or registered as a close relative of its applicant or of a
    member of its household since: the register is read again on every read and act (one query)."""
    return bool(db.session.scalar(_IS_EXCLUDED, {'instance_id': instance_id, 'username': user.username}))


def not_excluded(user, instance_id_col, username=None):
    """The caller stays in the case; `username`: a bound parameter instead of the user's name (a
    statement built once, services/access.task_scope)."""
    return not_(exists().where(CaseExclusion.instance_id == instance_id_col,
                               CaseExclusion.username == (user.username if username is None else username)))


def exclusions_at_start(data):
    """(username, reason) pairs of staff who must stay out of a case with this start data."""
    found = []
    declared = data.get('close_relative_of_staff')
    for username in ([declared] if isinstance(declared, str) else declared or []):
        if isinstance(username, str) and username.strip():
            found.append((username.strip(), 'declared'))
    # The applicant and every household member the form (or the household record) lists.
    for number in case_members.id_numbers(data):
        for username in relatives_of(number):
            found.append((username, 'registered'))
    # A complaint about a case: whoever stays out of that case stays out of the complaint's handling.
    subject = case_members.subject_of(data)
    if subject is not None:
        found += db.session.execute(select(CaseExclusion.username, CaseExclusion.reason)
                                    .where(CaseExclusion.instance_id == subject)).all()
        people = select(CaseMember.id_hash).where(CaseMember.instance_id == subject)
        found += [(username, 'registered') for username in db.session.scalars(
            select(CloseRelative.staff_username).where(CloseRelative.id_hash.in_(people)))]
    return list(dict((u, r) for u, r in found).items())


def apply_exclusions(instance, data):
    """Record who is excluded and flag the case for the county's 100 % review."""
    pairs = exclusions_at_start(data)
    for username, reason in pairs:
        db.session.add(CaseExclusion(instance_id=instance.id, username=username, reason=reason))
    if pairs:
        instance.review_required = True
    return pairs


def recheck_members(instance, data):
    """After a task changed the case's people (`data`: the case's data with the task's merged in):
    the member rows follow, and staff registered as close relatives of a person added are excluded
    and the case flagged for the county's visit, as at start. The usernames newly excluded."""
    return _exclude_relatives(instance, case_members.refresh(instance, data))


def household_changed(household, but=None):
    """A household's members were written by a decision (a grant on a new application): its other open
    cases count the new members too, and staff registered as their relatives stay out, as at start."""
    wanted = case_members.household_hashes(household)
    linked = select(HouseholdCase.instance_id).where(HouseholdCase.household_id == household.id)
    for instance in db.session.scalars(select(ProcessInstance).where(
            ProcessInstance.id.in_(linked), ProcessInstance.status.in_(OPEN),
            ProcessInstance.id != (but.id if but is not None else 0))):
        _exclude_relatives(instance, case_members.add(instance.id, wanted))


def _exclude_relatives(instance, added):
    """Staff registered as close relatives of the people just `added` to the case are excluded and the
    case flagged for the county's visit. The usernames newly excluded."""
    if not added:
        return []
    known = set(db.session.scalars(select(CaseExclusion.username).where(CaseExclusion.instance_id == instance.id)))
    found = list(dict.fromkeys(db.session.scalars(
        select(CloseRelative.staff_username).where(CloseRelative.id_hash.in_(added)))))
    for username in found:
        if username not in known:
            db.session.add(CaseExclusion(instance_id=instance.id, username=username, reason='registered'))
    if found:
        instance.review_required = True
    return found
