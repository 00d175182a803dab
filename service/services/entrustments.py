"""The entrustment registry (委托书) and what it decides: the flow a new case of a township starts on.

A township confirms a category itself only while a 委托书 entrusting it is in force (seed 002:
「以书面形式明确授权事项、权限范围、责任边界和委托期限」). Seed 004 moves townships through three
phases on set dates: preparation (the county still confirms: the legacy flow), transition (the
township confirms on the delegated flow, with the county's guidance) and full delegation.
Each phase is one row with its term; the row in force on the day a case starts picks its flow,
and a case never changes flow afterwards (it keeps its definition version).
"""
from datetime import date, timedelta, timezone

from sqlalchemy import and_, or_, select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import COUNTY, Entrustment, ProcessDefinition, User
from ..models.figures import StartCount
from . import access, audit
from .context import now

PHASES = {'preparation': '前期准备', 'transition': '下放过渡', 'full': '完全下放'}
LEGACY = 'legacy'
SHANGHAI = timezone(timedelta(hours=8))
EDITABLE = ('phase', 'variant', 'matters', 'scope_text', 'scope', 'responsibility', 'letter_no', 'signed_by',
            'signed_on', 'valid_from', 'valid_to')


def today():
    """The day in China by the app's clock: terms run in whole local days."""
    return now().astimezone(SHANGHAI).date()


def in_force(township, category, day=None):
    return db.session.scalars(select(Entrustment).where(
        Entrustment.township == township, Entrustment.category == category, _in_force_on(day or today()))
        .order_by(Entrustment.valid_from.desc()).limit(1)).first()


def _in_force_on(day):
    return and_(Entrustment.revoked_at.is_(None), Entrustment.valid_from <= day,
                or_(Entrustment.valid_to.is_(None), Entrustment.valid_to >= day))


def flow_variant(township, category, day=None):
    """(variant, entrustment): the legacy flow unless an entrustment past preparation is in force."""
    row = in_force(township, category, day)
    if row is None or row.phase == 'preparation':
        return LEGACY, row
    return row.variant, row


def check_start(definition, township, day=None):
    """Refuse a start on a flow the township is not entrusted with; the facts the case records.

    Definitions without a variant (monthly rosters, a designer's own processes) are not part of
    the reform and start anywhere.
    """
    if not definition.variant:
        return {}
    variant, row = flow_variant(township, definition.category, day)
    if definition.variant != variant:
        from ..web.fmt import CATEGORY_NAMES, VARIANT_NAMES
        category = CATEGORY_NAMES.get(definition.category, definition.category)
        if row is None:
            why = f'本镇街没有有效的「{category}」委托书，只能按改革前流程由区县审批'
        else:
            why = (f'本镇街「{category}」委托书（{row.letter_no or "未填文号"}，{PHASES[row.phase]}阶段）'
                   f'规定使用「{VARIANT_NAMES.get(variant, variant)}」流程')
        raise Invalid(f'{why}，不能按「{definition.name}」发起 (township not entrusted with this flow)',
                      details={'category': definition.category, 'variant': variant,
                               'entrustment_id': row.id if row else None}, code='not_entrusted')
    if row is None:
        return {}
    return {'entrustment_phase': row.phase, 'entrustment_letter': row.letter_no}


def definition_for(category, township, day=None):
    """The newest version of the flow a new case of this category starts on in this township."""
    variant, _ = flow_variant(township, category, day)
    definition = db.session.scalars(select(ProcessDefinition).where(
        ProcessDefinition.category == category, ProcessDefinition.variant == variant)
        .order_by(ProcessDefinition.version.desc(), ProcessDefinition.id.desc()).limit(1)).first()
    if definition is None:
        raise Invalid(f'没有部署「{category}」的{variant}流程，无法发起 (no deployed flow for this category)',
                      details={'category': category, 'variant': variant}, code='no_flow_for_category')
    return definition


# ------------------------------------------------------------------ the registry

def listing(user, township=None, category=None, day=None, in_force_only=False):
    access.check_entrustment_read(user)
    stmt = access.scope_township(user, select(Entrustment), Entrustment.township, township)
    if category:
        stmt = stmt.where(Entrustment.category == category)
    if in_force_only:
        stmt = stmt.where(_in_force_on(day or today()))
    return db.session.scalars(stmt.order_by(Entrustment.township, Entrustment.category,
                                            Entrustment.valid_from)).all()


def get(user, entrustment_id):
    access.check_entrustment_read(user)
    row = db.session.get(Entrustment, entrustment_id)
    if row is None or not (access.sees_all_townships(user) or row.township == user.township):
        raise NotFound('没有这份委托书 (no such entrustment)', code='entrustment_not_found')
    return row


def create(user, township, category, **fields):
    access.check_entrust(user)
    row = Entrustment(township=township, category=category, created_by=user.username, created_at=now())
    _apply(row, fields)
    _check(row)
    db.session.add(row)
    db.session.flush()
    audit.record(user.username, 'entrustment_create', entrustment_id=row.id, **_facts(row))
    db.session.commit()
    return row


def update(user, entrustment_id, expected_version, **fields):
    access.check_entrust(user)
    row = get(user, entrustment_id)
    _refuse_stale(row, expected_version)
    if row.revoked_at is not None:
        raise Conflict('委托书已撤销，不能再修改 (revoked)', code='entrustment_revoked')
    before = _facts(row)
    _apply(row, fields)
    _check(row)
    after = _facts(row)
    audit.record(user.username, 'entrustment_update', entrustment_id=row.id,
                 changed={k: [before[k], after[k]] for k in after if before[k] != after[k]})
    db.session.commit()
    return row


def revoke(user, entrustment_id, expected_version, reason):
    access.check_entrust(user)
    row = get(user, entrustment_id)
    _refuse_stale(row, expected_version)
    if row.revoked_at is not None:
        raise Conflict('委托书已撤销 (already revoked)', code='entrustment_revoked')
    if not (reason or '').strip():
        raise Invalid('请填写撤销理由 (a reason is required)', details={'fields': {'reason': '必填'}})
    row.revoked_at, row.revoked_by, row.revoke_reason = now(), user.username, reason.strip()
    audit.record(user.username, 'entrustment_revoke', entrustment_id=row.id, reason=row.revoke_reason,
                 **_facts(row))
    db.session.commit()
    return row


def staffed_townships():
    return {t for t in db.session.scalars(select(User.township).distinct()) if t and t != COUNTY}


def _refuse_stale(row, expected_version):
    if expected_version is not None and expected_version != row.version:
        raise Conflict(f'委托书已被他人修改（第 {row.version} 版），请刷新后重试 (stale version)',
                       details={'version': row.version}, code='stale_version')


def _apply(row, fields):
    for key, value in fields.items():
        if key in EDITABLE:
            setattr(row, key, value)
    row.scope = row.scope or {}
    for key in ('matters', 'scope_text', 'responsibility', 'letter_no', 'signed_by'):
        setattr(row, key, (getattr(row, key) or '').strip())


def _check(row):
    errors = {}
    if row.phase not in PHASES:
        errors['phase'] = f'应为{"、".join(PHASES.values())}之一'
    if row.phase in ('transition', 'full') and not row.variant:
        errors['variant'] = '下放过渡和完全下放阶段须指定镇街使用的流程'
    if row.phase in ('transition', 'full') and row.variant == LEGACY:
        errors['variant'] = '改革前流程由区县审批，不能作为下放流程'
    if row.variant and row.phase in ('transition', 'full') and not db.session.scalar(
            select(ProcessDefinition.id).where(ProcessDefinition.category == row.category,
                                               ProcessDefinition.variant == row.variant).limit(1)):
        errors['variant'] = '没有部署这个类别的这种流程'
    if row.valid_from is None:
        errors['valid_from'] = '必填'
    elif row.valid_to is not None and row.valid_to < row.valid_from:
        errors['valid_to'] = '截止日期不能早于起始日期'
    if row.township not in staffed_townships():
        errors['township'] = '没有这个镇街（须先有该镇街的工作人员账号）'
    if errors:
        raise Invalid('委托书内容有误，请检查标出的字段 (invalid entrustment)', details={'fields': errors})
    overlap = db.session.scalars(select(Entrustment).where(
        Entrustment.township == row.township, Entrustment.category == row.category,
        Entrustment.revoked_at.is_(None), Entrustment.id != (row.id or 0),
        or_(Entrustment.valid_to.is_(None), Entrustment.valid_to >= row.valid_from),
        *([Entrustment.valid_from <= row.valid_to] if row.valid_to else []))).first()
    if overlap is not None:
        raise Conflict(f'与已有委托书（{overlap.letter_no or overlap.id}，{overlap.valid_from} 起）期限重叠：'
                       f'同一镇街同一类别同一天只能有一份有效委托 (terms overlap)',
                       details={'overlaps': overlap.id}, code='entrustment_overlap')


def _facts(row):
    return {'township': row.township, 'category': row.category, 'phase': row.phase, 'variant': row.variant,
            'letter_no': row.letter_no, 'scope': row.scope, 'valid_from': _day(row.valid_from),
            'valid_to': _day(row.valid_to), 'signed_by': row.signed_by, 'signed_on': _day(row.signed_on),
            'matters': row.matters, 'scope_text': row.scope_text, 'responsibility': row.responsibility}


def _day(value):
    return value.isoformat() if isinstance(value, date) else value


# ------------------------------------------------------------------ the phase report

def phase_report(user, township=None, since=None):
    """Cases started per township, category, flow and month (Asia/Shanghai): how the switch-over went.

    Read from start_count, the cases started per township, definition version and month that the
    write path keeps (services/figures.py): grouping the case table itself cost 1.4-2 s at a million
    cases. Every case counts, whatever its status; the few definitions are joined here.
    """
    access.check_supervision(user)
    stmt = select(StartCount.township, StartCount.definition_id, StartCount.month, StartCount.n) \
        .where(StartCount.n != 0)
    if township:
        stmt = stmt.where(StartCount.township == township)
    if since:
        # Months are 'YYYY-MM' text: from the month of `since` on ('' — no start time — never).
        stmt = stmt.where(StartCount.month >= f'{since.year:04d}-{since.month:02d}')
    flows = {row.id: (row.category, row.variant) for row in db.session.execute(
        select(ProcessDefinition.id, ProcessDefinition.category, ProcessDefinition.variant)
        .where(ProcessDefinition.variant.is_not(None)))}
    counts = {}
    for code, definition_id, month, n in db.session.execute(stmt):
        if definition_id in flows:
            key = (code, month or None, *flows[definition_id])
            counts[key] = counts.get(key, 0) + n
    return [{'township': code, 'category': category, 'variant': variant, 'month': label, 'cases': n}
            for (code, label, category, variant), n in sorted(counts.items(), key=lambda kv: (
                kv[0][0], kv[0][1] or '', kv[0][2] or '', kv[0][3] or ''))]
