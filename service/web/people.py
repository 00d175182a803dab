"""People as the pages name them: full name and post; the account name only as a tooltip.

Audit entries, task rows and cases store usernames (and `system:…` actors for the engine's own
steps). A page names people many times over (history, task lists), so the staff list is read
once per request: a district has hundreds of accounts, not millions.
"""
from flask import g, has_request_context
from markupsafe import Markup
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..services.users import ROLE_NAMES

# Actors that are not people: the engine's timers, the calendar's monthly starts, set-up tools.
SYSTEM_ACTORS = {
    'system:timer': '系统（计时器）',
    'system:calendar': '系统（每月自动发起）',
    'system:referral': '系统（类别转入自动发起）',
    'demo': '系统（演示数据）',
}


def _staff():
    cache = g.get('jiuzhu_people') if has_request_context() else None
    if cache is None:
        cache = {u.username: u for u in db.session.scalars(select(User))}
        if has_request_context():
            g.jiuzhu_people = cache
    return cache


def post(user):
    """The post of an account: its role, and the township of township staff."""
    role = ROLE_NAMES.get(user.role, '')
    if user.display_name and role and role in user.display_name:
        return ''
    return role


def name(username):
    """Plain text: 李经办（城关镇）· 镇街经办人; system actors by what they are."""
    if not username:
        return '—'
    if username in SYSTEM_ACTORS:
        return SYSTEM_ACTORS[username]
    if username.startswith('system:'):
        return '系统'
    user = _staff().get(username)
    if user is None:
        return '（未登记的人员）'
    job = post(user)
    return f'{user.display_name} · {job}' if job else user.display_name


def person(username):
    """HTML: the name and post, the username as the title (tooltip) for support calls."""
    text = name(username)
    if not username or username in SYSTEM_ACTORS or username.startswith('system:'):
        return Markup('<span class="person">{}</span>').format(text)
    return Markup('<span class="person" title="{}">{}</span>').format(username, text)


def staff_options(township=None):
    """[(username, label)] of active staff for a select (a close relative among the staff, 近亲属备案):
    the township's own staff first, then the county's."""
    rows = [u for u in _staff().values() if u.active and u.role != 'admin']
    if township:
        rows = [u for u in rows if u.township in (township, 'county')]
    rows.sort(key=lambda u: (u.township == 'county', u.township, u.role, u.display_name))
    return [(u.username, name(u.username)) for u in rows]


def install(app):
    app.jinja_env.filters['zh_person'] = person
    app.jinja_env.filters['zh_person_text'] = name
