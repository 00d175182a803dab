"""The people of a case's household, as keyed ID hashes (近亲属回避 of every member, not only the applicant).

A staff member registered as a close relative of the applicant or of any member of the household
stays out of the case (services/access.py reads these rows on every read and act). The people are
the applicant and the members the start data lists (`applicant.members`, or `members`), and for a
case about a recorded household (a review, a complaint, an escalated review: `household_id`) every
member of that household. `record` runs with every start (services/runtime.py), `refresh` when a
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


def hashes(data, keyring=None):
    keyring = keyring or crypto.active()
    return list(dict.fromkeys(h for h in (keyring.id_hash(n) for n in id_numbers(data)) if h))


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


def refresh(instance, data, keyring=None):
    """Bring the rows in line with the case's data after a task changed its people (in the write's
    transaction): a member removed no longer counts; the hashes added are returned."""
    wanted = hashes(data, keyring)
    held = set(db.session.scalars(select(CaseMember.id_hash).where(CaseMember.instance_id == instance.id)))
    gone = held - set(wanted)
    if gone:
        db.session.execute(delete(CaseMember).where(CaseMember.instance_id == instance.id,
                                                    CaseMember.id_hash.in_(gone)))
    added = [h for h in wanted if h not in held]
    for id_hash in added:
        db.session.add(CaseMember(instance_id=instance.id, id_hash=id_hash))
    return added


def cases_of(id_hash):
    """The condition: the case's household includes the person with this hash (or its applicant is)."""
    return select(CaseMember.instance_id).where(CaseMember.id_hash == id_hash)
