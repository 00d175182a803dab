"""The people of a case's household, as keyed ID hashes (近亲属回避 of every member, not only the applicant).

A staff member registered as a close relative of the applicant or of any member of the household
stays out of the case (services/access.py reads these rows on every read and act). The people are
the applicant and the members the start data lists (`applicant.members`, or `members`), and for a
case about a recorded household (a review, a complaint, an escalated review: `household_id`) every
member of that household; for a complaint about a case without a household (`subject_instance_id`:
e.g. temporary aid) the people of that case. `record` runs with every start (services/runtime.py), `refresh` when a
completed task's data changes the people (services/cases.py), `rehash` when the search key changed
(services/keys.py). Only hashes are kept: the numbers stay in the encrypted data.
"""
from sqlalchemy import delete, select

from .. import crypto
from ..extensions import db
from ..models import CaseMember, Household


def id_numbers(data):
    """Every ID number of the household a case with this start data is about (applicant first)."""
    data = data if isinstance(data, dict) else {}
    applicant = data.get('applicant') if isinstance(data.get('applicant'), dict) else {}
    people = [applicant]
    for listed in (applicant.get('members'), data.get('members')):
        people += [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
    household_id = data.get('household_id')
    if isinstance(household_id, int) or (isinstance(household_id, str) and household_id.isdigit()):
        household = db.session.get(Household, int(household_id))
        people += [m for m in (household.members or []) if isinstance(m, dict)] if household else []
    numbers = [p.get('id_number') for p in people]
    return list(dict.fromkeys(n for n in numbers if isinstance(n, str) and n.strip()))


def subject_of(data):
    """The case a complaint is about, when it names one (its id), else None."""
    subject = data.get('subject_instance_id') if isinstance(data, dict) else None
    return subject if isinstance(subject, int) and not isinstance(subject, bool) else None


def hashes(data, keyring=None):
    keyring = keyring or crypto.active()
    own = [h for h in (keyring.id_hash(n) for n in id_numbers(data)) if h]
    # The subject case's rows are already under this key: it is older, and keys.py rehashes in id order.
    subject = subject_of(data)
    if subject is not None:
        own += db.session.scalars(select(CaseMember.id_hash).where(CaseMember.instance_id == subject)).all()
    return list(dict.fromkeys(own))


def record(instance, data, keyring=None):
    """The rows of a new case (in its start transaction)."""
    for id_hash in hashes(data, keyring):
        db.session.add(CaseMember(instance_id=instance.id, id_hash=id_hash))


def rehash(instance_id, data, keyring):
    """The rows again under a new search key."""
    db.session.execute(delete(CaseMember).where(CaseMember.instance_id == instance_id))
    for id_hash in hashes(data, keyring):
        db.session.add(CaseMember(instance_id=instance_id, id_hash=id_hash))


# The start-data keys `id_numbers` reads: a task whose data holds one of them may change the people.
PEOPLE_KEYS = ('applicant', 'members', 'household_id')


def changes_people(data):
    return isinstance(data, dict) and any(key in data for key in PEOPLE_KEYS)


def _held(instance_id):
    return set(db.session.scalars(select(CaseMember.id_hash).where(CaseMember.instance_id == instance_id)))


def add(instance_id, wanted, held=None):
    """Add the hashes of `wanted` the case does not hold yet; those added back."""
    held = _held(instance_id) if held is None else held
    added = [h for h in dict.fromkeys(wanted) if h not in held]
    for id_hash in added:
        db.session.add(CaseMember(instance_id=instance_id, id_hash=id_hash))
    return added


def refresh(instance, data, keyring=None):
    """Bring the rows in line with the case's data after a task changed its people (in the write's
    transaction): a member removed no longer counts; the hashes added are returned."""
    wanted = hashes(data, keyring)
    held = _held(instance.id)
    gone = held - set(wanted)
    if gone:
        db.session.execute(delete(CaseMember).where(CaseMember.instance_id == instance.id,
                                                    CaseMember.id_hash.in_(gone)))
    return add(instance.id, wanted, held)


def household_hashes(household, keyring=None):
    """The hashes of a household record's members."""
    return hashes({'members': household.members or []}, keyring)


def cases_of(id_hash):
    """The condition: the case's household includes the person with this hash (or its applicant is)."""
    return select(CaseMember.instance_id).where(CaseMember.id_hash == id_hash)
