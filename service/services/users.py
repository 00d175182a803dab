"""People: accounts and close-relative registrations (近亲属备案)."""
from sqlalchemy import select
from stdnum.cn import ric

from .. import crypto
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import COUNTY, ROLES, CloseRelative, User
from . import audit, auth, passwords
from .auth import find_user, hash_password
from .context import now
from .masking import mask_id_number

TOWNSHIP_ROLES = frozenset({'village_assistant', 'township_caseworker', 'township_leader'})
COUNTY_ROLES = frozenset(ROLES) - TOWNSHIP_ROLES

ROLE_NAMES = {
    'village_assistant': '村（社区）协理员',
    'township_caseworker': '镇街经办人',
    'township_leader': '镇街分管领导',
    'county_verifier': '区核对中心',
    'county_supervisor': '区民政局监管',
    'designer': '流程设计',
    'admin': '系统管理员',
    'disability_federation': '区残联',
}


def add_user(username, display_name, role, township, password, actor, must_change=False, policy=True):
    """A new account. `must_change`: the password is temporary (asked to change it at first sign-in).
    `policy=False` only for the demo accounts (demo.py), whose known password works in demo mode only."""
    if role not in ROLES:
        raise Invalid(f'未知角色 {role} (unknown role)', details={'role': f'应为以下之一：{", ".join(ROLES)}'})
    township = (township or '').strip()
    if role in TOWNSHIP_ROLES and (not township or township == COUNTY):
        raise Invalid('镇街角色必须属于一个镇街 (a township role needs a township code)',
                      details={'township': '必填镇街代码'})
    if role in COUNTY_ROLES:
        township = COUNTY
    if not username or len(username) > 100:
        raise Invalid('用户名无效 (invalid username)', details={'username': '1 到 100 个字符'})
    if policy:
        passwords.check(password, username)
    elif not password:
        raise Invalid('密码不能为空 (password required)', details={'password': '必填'})
    if find_user(username) is not None:
        raise Conflict(f'用户 {username} 已存在 (user exists)', code='user_exists')
    user = User(username=username, display_name=display_name or username, role=role, township=township,
                password_hash=hash_password(password), active=True, created_at=now(),
                must_change_password=bool(must_change))
    db.session.add(user)
    audit.record(actor, 'user_add', username=username, role=role, township=township)
    db.session.commit()
    return user


def list_users(role=None, township=None):
    q = select(User).order_by(User.township, User.role, User.username)
    if role:
        q = q.where(User.role == role)
    if township:
        q = q.where(User.township == township)
    return db.session.scalars(q).all()


def set_active(username, active, actor):
    user = find_user(username)
    if user is None:
        raise NotFound(f'没有用户 {username} (no such user)', code='user_not_found')
    user.active = active
    ended = 0 if active else auth.end_sessions(user.id, 'user_disabled')
    audit.record(actor, 'user_enable' if active else 'user_disable', username=username,
                 **({} if active else {'sessions_ended': ended}))
    db.session.commit()
    return user


def end_sessions(username, actor):
    """Sign a person out everywhere (a lost laptop, a leaked token): every session and token ends."""
    user = find_user(username)
    if user is None:
        raise NotFound(f'没有用户 {username} (no such user)', code='user_not_found')
    ended = auth.end_sessions(user.id, 'logout')
    audit.record(actor, 'user_logout_everywhere', username=username, sessions_ended=ended)
    db.session.commit()
    return ended


def set_password(username, password, actor, must_change=False):
    """An administrator sets a password (`must_change`: temporary). Every session of the user ends."""
    user = find_user(username)
    if user is None:
        raise NotFound(f'没有用户 {username} (no such user)', code='user_not_found')
    passwords.check(password, username)
    _replace_password(user, password, must_change)
    audit.record(actor, 'user_password', username=username, must_change=bool(must_change))
    db.session.commit()
    return user


def change_own_password(caller, current, new):
    """A signed-in user (auth.Caller) replaces their password: the current one first (throttled like
    a login), then the policy, and not the same again. Every session ends; the caller starts a new one.
    Returns the user's row."""
    user = caller.row()
    auth.verify_password(user, current)
    passwords.check(new, user.username, field='new_password')
    if current == new:
        raise Invalid('新密码不能与当前密码相同 (the new password must differ)',
                      details={'new_password': '新密码不能与当前密码相同'}, code='weak_password')
    _replace_password(user, new, False)
    audit.record(user.username, 'password_change')
    db.session.commit()
    return user


def _replace_password(user, password, must_change):
    user.password_hash = hash_password(password)
    user.must_change_password = bool(must_change)
    auth.end_sessions(user.id, 'password_changed')


def register_close_relative(staff_username, name, id_number, relation, actor):
    """Declare that `staff_username` is a close relative of the person with `id_number`."""
    if find_user(staff_username) is None:
        raise NotFound(f'没有用户 {staff_username} (no such user)', code='user_not_found')
    id_number = (id_number or '').strip().upper()
    if not ric.is_valid(id_number):
        raise Invalid('身份证号码无效 (invalid resident ID number)', details={'id_number': '身份证号码无效'})
    id_hash = crypto.active().id_hash(id_number)
    existing = db.session.scalar(select(CloseRelative).where(
        CloseRelative.staff_username == staff_username, CloseRelative.id_hash == id_hash))
    if existing is not None:
        return existing
    row = CloseRelative(staff_username=staff_username, name=name, id_number=id_number, id_hash=id_hash,
                        relation=relation, registered_by=actor, registered_at=now())
    db.session.add(row)
    # The audit log keeps no full ID numbers.
    audit.record(actor, 'close_relative_register', staff=staff_username, relative_id=mask_id_number(id_number))
    db.session.commit()
    # Checked again after the start: the person's open cases exclude the relative and get a county visit.
    from . import county_visits
    county_visits.relative_registered(staff_username, id_hash, actor, {'name': name, 'id_number': id_number})
    return row


def relatives_of(id_number):
    """Usernames of the staff registered as close relatives of the person with this ID number."""
    id_hash = crypto.active().id_hash(id_number)
    if id_hash is None:
        return []
    return list(db.session.scalars(select(CloseRelative.staff_username).where(CloseRelative.id_hash == id_hash)))
