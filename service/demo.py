"""Demo data for `jiuzhu serve --demo`: the processes, people in two townships and the county, cases.

Idempotent: a second run finds every user and case by name and adds nothing.
"""
import logging
from datetime import date, timedelta, timezone

from sqlalchemy import select
from stdnum.cn import ric
from werkzeug.security import check_password_hash

from .config import ROOT
from .errors import JiuzhuError
from .extensions import db
from .models import AuditEntry, ProcessInstance, User
from .services import audit, cases, forms, repository, users
from .services.auth import find_user
from .services.context import now

log = logging.getLogger('jiuzhu.demo')

DEMO_PASSWORD = 'jiuzhu-demo'
TOWNSHIPS = {'t01': '城关镇', 't02': '河西街道'}

# (username, display name, role, township)
DEMO_USERS = [
    ('t01_xieli', '王协理（城关镇幸福村）', 'village_assistant', 't01'),
    ('t01_jingban', '李经办（城关镇）', 'township_caseworker', 't01'),
    ('t01_jingban2', '赵经办（城关镇）', 'township_caseworker', 't01'),
    ('t01_lingdao', '张镇长（城关镇分管领导）', 'township_leader', 't01'),
    ('t02_xieli', '陈协理（河西街道）', 'village_assistant', 't02'),
    ('t02_jingban', '刘经办（河西街道）', 'township_caseworker', 't02'),
    ('t02_lingdao', '周主任（河西街道分管领导）', 'township_leader', 't02'),
    ('hedui', '孙核对（区核对中心）', 'county_verifier', 'county'),
    ('canlian', '钱审核（区残联）', 'disability_federation', 'county'),
    ('jianguan', '吴科长（区民政局）', 'county_supervisor', 'county'),
    ('sheji', '郑设计（流程设计）', 'designer', 'county'),
    ('admin', '系统管理员', 'admin', 'county'),
]

# (business key, township, applicant, tasks to complete, close relative of staff)
DEMO_CASES = [
    ('DEMO-001', 't01', '张大山', 0, None),
    ('DEMO-002', 't01', '李秀英', 1, None),
    ('DEMO-003', 't02', '王建国', 0, None),
    ('DEMO-004', 't02', '刘桂兰', 3, None),
    ('DEMO-005', 't01', '赵小红', 0, 't01_jingban2'),
]
PREFERRED_PROCESSES = ('dibao_a', 'dibao_b', 'dibao_legacy')
SHANGHAI = timezone(timedelta(hours=8))


def load_demo():
    try:
        for definition, new in repository.deploy_directory(ROOT / 'processes', 'demo'):
            log.info('%s %s v%s', 'deployed' if new else 'unchanged', definition.key, definition.version)
    except JiuzhuError as exc:
        # Serve what is already deployed rather than nothing; `jiuzhu validate` shows the problems.
        db.session.rollback()
        log.warning('demo: processes/ not deployed: %s', exc)
    load_users()
    load_entrustments()
    load_cases()


def load_users():
    # The demo password is on the common-password list on purpose: outside demo mode (a real clock)
    # signing in with it sets must_change_password (services/auth.authenticate), so a database
    # that started as a demo cannot go to production with these accounts open.
    for username, name, role, township in DEMO_USERS:
        if find_user(username) is None:
            users.add_user(username, name, role, township, DEMO_PASSWORD, 'demo', policy=False)


def flag_demo_passwords():
    """On a real clock: demo accounts still on the demo password must choose a new one at sign-in.

    Runs at every start of a real-clock app (web/core.py), cheaply: accounts already flagged, and
    accounts whose password was ever set again (audit log), are skipped without hashing; the rest
    (at most the twelve demo names) are checked against the demo password once. Returns the names flagged.
    """
    names = [username for username, *_ in DEMO_USERS]
    candidates = db.session.scalars(select(User).where(User.username.in_(names),
                                                       User.must_change_password.is_(False))).all()
    if not candidates:
        return []
    changed = set()
    for entry in db.session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(('user_password', 'password_change')))):
        changed.add(entry.actor if entry.action == 'password_change' else (entry.detail or {}).get('username'))
    flagged = []
    for user in candidates:
        if user.username not in changed and check_password_hash(user.password_hash, DEMO_PASSWORD):
            user.must_change_password = True
            audit.record('system', 'password_change_required', username=user.username, reason='demo_password')
            flagged.append(user.username)
    db.session.commit()
    if flagged:
        log.warning('demo accounts must change their password at next sign-in: %s', ', '.join(flagged))
    return flagged


def demo_id_number(seq):
    """A valid (checksummed) resident ID number for demo applicant `seq`."""
    body = f'11010519{60 + seq % 30:02d}0{1 + seq % 9}1{seq % 10}{seq % 1000:03d}'
    return body + ric.calc_check_digit(body + '0')  # stdnum ignores the last character


# (township, category, phase, variant, letter number): both townships confirm dibao themselves;
# 河西街道 is still in the transition phase for temporary aid (the county guides its decisions) and
# preparing for 特困 (the county still confirms those).
DEMO_ENTRUSTMENTS = [
    ('t01', 'dibao', 'full', 'delegated_a', '区民委〔2026〕1号'),
    ('t01', 'temporary_aid', 'full', 'delegated_a', '区民委〔2026〕1号'),
    ('t02', 'dibao', 'full', 'delegated_a', '区民委〔2026〕2号'),
    ('t02', 'temporary_aid', 'transition', 'delegated_a', '区民委〔2026〕2号'),
    ('t01', 'tekun', 'full', 'delegated_b', '区民委〔2026〕1号'),
    ('t02', 'tekun', 'preparation', None, '区民委〔2026〕2号'),
    # Issue 12: 城关镇 recognises 低保边缘/刚性支出 and decides the subsidies itself; 河西街道 is in transition
    # for 低保边缘, has no 委托书 for 刚性支出 (the county recognises) and prepares for the 两项补贴.
    ('t01', 'marginal_dibao', 'full', 'delegated_b', '区民委〔2026〕1号'),
    ('t01', 'rigid_expense', 'full', 'delegated_b', '区民委〔2026〕1号'),
    ('t01', 'disability_subsidy', 'full', 'delegated_a', '区民委〔2026〕1号'),
    ('t01', 'welfare_subsidy', 'full', 'delegated_a', '区民委〔2026〕1号'),
    ('t02', 'marginal_dibao', 'transition', 'delegated_b', '区民委〔2026〕2号'),
    ('t02', 'disability_subsidy', 'preparation', None, '区民委〔2026〕2号'),
    ('t02', 'welfare_subsidy', 'full', 'delegated_a', '区民委〔2026〕2号'),
]


def load_entrustments():
    from .models import Entrustment
    from .services import entrustments
    admin = find_user('admin')
    for township, category, phase, variant, letter in DEMO_ENTRUSTMENTS:
        if db.session.scalar(select(Entrustment.id).where(Entrustment.township == township,
                                                          Entrustment.category == category)):
            continue
        try:
            entrustments.create(admin, township, category, phase=phase, variant=variant, letter_no=letter,
                                matters='社会救助审核确认', signed_by='区民政局局长', signed_on=date(2025, 12, 20),
                                valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31),
                                scope_text='临时救助金额不超过当年5个月低保标准' if category == 'temporary_aid' else '',
                                responsibility='受委托单位对审核确认行为的后果承担责任，接受委托单位监督')
        except JiuzhuError as exc:
            db.session.rollback()
            log.warning('demo entrustment %s %s skipped: %s', township, category, exc)


def _process_key():
    keys = {d.key for d in repository.list_definitions(latest_only=True)}
    return next((k for k in PREFERRED_PROCESSES if k in keys), None)


def load_cases():
    key = _process_key()
    if key is None:
        log.warning('demo cases skipped: none of %s is deployed', ', '.join(PREFERRED_PROCESSES))
        return
    for seq, (business_key, township, name, steps, relative_of) in enumerate(DEMO_CASES, start=1):
        if db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.business_key == business_key)):
            continue
        try:
            _demo_case(key, seq, business_key, township, name, steps, relative_of)
        except JiuzhuError as exc:
            # The demo must never keep the service from starting; the diagrams may be mid-edit.
            db.session.rollback()
            log.warning('demo case %s stopped: %s', business_key, exc)


def _user(role, township):
    where = [User.role == role, User.active.is_(True)]
    if township:
        where.append(User.township == township)
    return db.session.scalar(select(User).where(*where).order_by(User.username).limit(1))


def _demo_case(key, seq, business_key, township, name, steps, relative_of):
    definition = repository.latest(key)
    applicant = {'name': name, 'id_number': demo_id_number(seq), 'phone': f'1390531{seq:04d}',
                 'address': f'{TOWNSHIPS[township]}幸福路 {seq} 号', 'household_size': 1 + seq % 4}
    form_name = forms.start_form_name(definition)
    data = sample_data(forms.load(form_name, definition)) if form_name else {}
    base = data.get('applicant') if isinstance(data.get('applicant'), dict) else {}
    data['applicant'] = {**base, **applicant}
    if relative_of:
        data['close_relative_of_staff'] = relative_of
    instance = cases.start_case(_user('township_caseworker', township), key, township, data, business_key)
    for _ in range(steps):
        ready = cases.ready_tasks(instance.id)
        if not ready:
            break
        task = ready[0]
        worker = _user(task.role, None if task.role in users.COUNTY_ROLES else township)
        if worker is None:
            break
        form = forms.task_form(task)
        cases.complete(worker, task.id, sample_data(form['schema']) if form else {})


def sample_data(schema, name=''):
    """Plausible values for a form's required fields, so demo cases move without the real data."""
    if not isinstance(schema, dict):
        return None
    for word in ('const', 'default'):
        if word in schema:
            return schema[word]
    if schema.get('enum'):
        return schema['enum'][0]
    if schema.get('examples'):
        return schema['examples'][0]
    for word in ('oneOf', 'anyOf'):
        if schema.get(word):
            return sample_data(schema[word][0], name)
    kind = schema.get('type')
    if isinstance(kind, list):
        kind = next((k for k in kind if k != 'null'), 'null')
    if kind == 'object' or 'properties' in schema:
        props = schema.get('properties') or {}
        return {field: sample_data(props.get(field, {}), field) for field in schema.get('required', [])}
    if kind == 'array':
        return [sample_data(schema.get('items', {}), name) for _ in range(schema.get('minItems', 0))]
    if kind == 'boolean':
        return True
    if kind in ('integer', 'number'):
        value = schema.get('minimum', schema.get('exclusiveMinimum', 0) + (1 if 'exclusiveMinimum' in schema else 0))
        return int(value) if kind == 'integer' else value
    fmt = schema.get('format')
    if fmt == 'date':
        return now().astimezone(SHANGHAI).date().isoformat()
    if fmt == 'date-time':
        return now().astimezone(SHANGHAI).isoformat()
    if fmt == 'cn-resident-id':
        return demo_id_number(99)
    return '演示' * max(1, (schema.get('minLength') or 0) // 2 + 1)
