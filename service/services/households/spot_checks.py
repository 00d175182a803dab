"""The county's yearly random spot check (抽查复核): at least 30 % of each township's new households.

Seed 002: 每年按当年新增救助对象家庭的30%开展抽查复核 (and seeds 003, 004). The draw is auditable
and reproducible by anyone, with no random generator's state involved:

- population: per township, the ids of the households granted in that year (a `grant` dated
  change recorded in the year, Beijing time), sorted;
- order: each id's HMAC-SHA256 under the seed, of the text "<township>:<id>", ascending (hex);
- sample: the first ceil(n × percent / 100) of that order — never fewer than the share.
The seed (random unless given), the percent, the population and the sample are recorded in
`spot_check_draw`; `redraw` recomputes the sample from the recorded values. Each drawn household
gets a county home-visit case (processes/common/spot_check_visit.bpmn), linked to it.
"""
import hashlib
import hmac
import math
import secrets
from datetime import datetime

from sqlalchemy import select

from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...models import Household, HouseholdAmount, HouseholdCase, ProcessInstance, SpotCheckDraw
from .. import access, audit, repository, runtime
from ..context import now
from .effects import SHANGHAI

PROCESS_KEY = 'spot_check_visit'
MIN_PERCENT = 30


def population(year):
    start = datetime(year, 1, 1, tzinfo=SHANGHAI)
    rows = db.session.execute(
        select(Household.township, Household.id).join(HouseholdAmount, HouseholdAmount.household_id == Household.id)
        .where(HouseholdAmount.change == 'grant', HouseholdAmount.recorded_at >= start,
               HouseholdAmount.recorded_at < start.replace(year=year + 1)).distinct()).all()
    out = {}
    for township, hid in rows:
        out.setdefault(township, set()).add(hid)
    return {township: sorted(ids) for township, ids in sorted(out.items())}


def _order_key(seed, township, hid):
    return hmac.new(seed.encode(), f'{township}:{hid}'.encode(), hashlib.sha256).hexdigest()


def redraw(seed, people, percent):
    """The sample that follows from a seed, a population and a share (see the module's text)."""
    sample = {}
    for township, ids in sorted(people.items()):
        k = math.ceil(len(ids) * percent / 100)
        ordered = sorted(ids, key=lambda hid: _order_key(seed, township, hid))
        sample[township] = sorted(ordered[:k])
    return sample


def draw(user, year, percent=MIN_PERCENT, seed=None):
    access.check_spot_check(user)
    if not isinstance(percent, int) or not MIN_PERCENT <= percent <= 100:
        raise Invalid(f'抽查比例应在 {MIN_PERCENT}% 到 100% 之间 (percent must be 30-100)',
                      details={'percent': f'{MIN_PERCENT} 到 100'}, code='bad_percent')
    try:
        repository.latest(PROCESS_KEY)
    except NotFound:
        raise Conflict('入户抽查流程尚未部署，不能抽查 (spot_check_visit is not deployed)',
                       code='process_not_deployed') from None
    seed = seed or secrets.token_hex(16)
    people = population(year)
    row = SpotCheckDraw(year=year, percent=percent, seed=seed, population=people,
                        sample=redraw(seed, people, percent), drawn_by=user.username, drawn_at=now())
    db.session.add(row)
    db.session.flush()
    audit.record(user.username, 'spot_check_drawn', draw_id=row.id, year=year, percent=percent, seed=seed,
                 drawn=sum(len(v) for v in row.sample.values()))
    db.session.commit()
    for township, ids in row.sample.items():
        for hid in ids:
            _start_visit(row, db.session.get(Household, hid), user.username)
    return row


def _start_visit(row, household, actor):
    members = household.members or []
    head = members[0] if members else {}
    data = {'household_id': household.id, 'draw_id': row.id, 'year': row.year,
            'applicant': {'name': household.head_name, 'id_number': head.get('id_number'),
                          'household_size': household.size},
            'household': {'category': household.category, 'amount': household.amount_fen / 100}}

    def prepare(instance, _data):
        db.session.add(HouseholdCase(household_id=household.id, instance_id=instance.id, role='spot_check',
                                     linked_at=now()))
    return runtime.start_instance(PROCESS_KEY, household.township, data, actor,
                                  business_key=f'抽查-{row.year}-{row.id}-{household.id}', prepare=prepare)


def get(user, draw_id):
    access.check_spot_check(user)
    row = db.session.get(SpotCheckDraw, draw_id)
    if row is None:
        raise NotFound(f'没有编号为 {draw_id} 的抽查 (no such draw)', code='draw_not_found')
    return row


def describe(row):
    people = {t: list(ids) for t, ids in row.population.items()}
    return {'id': row.id, 'year': row.year, 'percent': row.percent, 'seed': row.seed, 'population': people,
            'sample': row.sample, 'drawn_by': row.drawn_by, 'drawn_at': row.drawn_at,
            'reproduced': redraw(row.seed, people, row.percent) == row.sample}


def listing(user, limit=50):
    access.check_spot_check(user)
    return db.session.scalars(select(SpotCheckDraw).order_by(SpotCheckDraw.id.desc()).limit(limit)).all()


def drawn(row):
    """The drawn households with their county home-visit cases, by township (for the page and the export)."""
    ids = [hid for township in sorted(row.sample) for hid in row.sample[township]]
    households = {h.id: h for h in db.session.scalars(select(Household).where(Household.id.in_(ids)))} if ids else {}
    visits = {}
    if ids:
        for link, instance in db.session.execute(
                select(HouseholdCase, ProcessInstance).join(ProcessInstance, ProcessInstance.id == HouseholdCase.instance_id)
                .where(HouseholdCase.role == 'spot_check', HouseholdCase.household_id.in_(ids),
                       ProcessInstance.business_key.like(f'抽查-{row.year}-{row.id}-%'))).all():
            visits[link.household_id] = instance
    out = []
    for township in sorted(row.sample):
        for hid in row.sample[township]:
            household, visit = households.get(hid), visits.get(hid)
            out.append({'township': township, 'household_id': hid,
                        'head_name': household.head_name if household else '',
                        'category': household.category if household else '',
                        'size': household.size if household else 0,
                        'visit_id': visit.id if visit else None,
                        'visit_status': visit.status if visit else None})
    return out
