"""长期公示: the current recipients of a township, village by village (DOMAIN.md §2, step 8).

Posted on the village notice board and kept up to date, so it is read from the household register
as it is now (status `receiving`, the amount in force), never typed in. Privacy protection: the head
of the household by surname only (王**, as the search log masks names), no ID numbers, no address,
no members' names — the household size and the monthly amount are what the public may check.
"""
from sqlalchemy import select

from ..extensions import db
from ..models import Household
from . import access, audit
from .households.effects import today
from .search import mask_name

MAX_ROWS = 5000


def current(user, township, village=None, category=None):
    """The township's recipients now: [{village, category, head, size, amount}], by village."""
    access.check_township_records(user, township)
    stmt = select(Household).where(Household.township == township, Household.status == 'receiving')
    if village:
        stmt = stmt.where(Household.village == village)
    if category:
        stmt = stmt.where(Household.category == category)
    rows = db.session.scalars(stmt.order_by(Household.village, Household.category, Household.id)
                              .limit(MAX_ROWS)).all()
    audit.record(user.username, 'publicity_read', township=township, village=village or '', rows=len(rows))
    db.session.commit()
    return {'township': township, 'village': village or '', 'as_of': today(),
            'rows': [{'village': h.village or '', 'category': h.category, 'head': mask_name(h.head_name or ''),
                      'size': h.size, 'amount': round(h.amount_fen / 100, 2)} for h in rows]}


def villages(user, township):
    access.check_township_records(user, township)
    return sorted(v for v in db.session.scalars(select(Household.village).distinct().where(
        Household.township == township, Household.status == 'receiving')) if v)
