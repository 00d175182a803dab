"""Who is calling: passwords, sessions, API bearer tokens, web cookies with CSRF — one implementation.

Every sign-in is a row in `user_session` (models/sessions.py). A web cookie carries the secret of
its row, an API bearer token is the secret of its row; the row says whether it still holds. So
logging out, disabling the account and changing the password end every cookie and token at once,
and a copy made before that is worth nothing.

Session times use the wall clock, not the case clock: a demo clock moved a month ahead must not
log everybody out, and a test clock must not keep a stolen token alive. Tests move the wall clock
through `app.extensions['jiuzhu.wall_clock']` (any object with `now()`).
"""
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from flask import current_app, g, has_request_context, request, session
from sqlalchemy import bindparam, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Forbidden, Invalid, Unauthorized
from ..extensions import db
from ..models import User, UserSession
from ..models.users import COUNTY
from . import audit, passwords, statements, throttle

_DUMMY_HASH = generate_password_hash('not a password', method='scrypt')
# last_seen_at is written at most this often: one indexed read per request, a write per minute.
TOUCH_EVERY = timedelta(minutes=1)
# What a user who must change the password may still do (API endpoints; the pages: web/core.py).
PASSWORD_CHANGE_ENDPOINTS = frozenset({'auth.whoami', 'auth.change_password', 'auth.logout'})


def hash_password(password):
    return generate_password_hash(password, method='scrypt')


def find_user(username):
    return db.session.scalar(select(User).where(User.username == username))


def wall_now():
    wall = current_app.extensions.get('jiuzhu.wall_clock')
    return wall.now() if wall is not None else datetime.now(timezone.utc)


def idle_limit():
    return timedelta(minutes=int(current_app.config.get('JIUZHU_SESSION_IDLE_MINUTES', 30)))


def max_age():
    return timedelta(hours=float(current_app.config.get('JIUZHU_SESSION_MAX_HOURS', 8)))


def demo_mode():
    """A manual clock (`serve --demo`, tests): the demo passwords stay usable there."""
    return bool(current_app.extensions['jiuzhu.clock'].manual)


def _client():
    return request.remote_addr if has_request_context() else None


# ------------------------------------------------------------------ passwords

def authenticate(username, password, kind='api'):
    """The user for these credentials, or Unauthorized (429 when throttled); every attempt is audited."""
    username = (username or '')[:100]
    throttle.check(username)
    user = find_user(username)
    ok = user is not None and check_password_hash(user.password_hash, password or '')
    if user is None:
        check_password_hash(_DUMMY_HASH, password or '')  # same cost whether or not the user exists
    if not ok or not user.active:
        if not ok:
            throttle.failed(username)
        audit.record(username, 'login_failed', reason='disabled' if ok else 'bad_credentials', kind=kind)
        db.session.commit()
        raise Unauthorized('用户名或密码错误，或账号已停用 (invalid credentials or disabled account)',
                           code='invalid_credentials')
    throttle.succeeded(username)
    if not demo_mode() and not user.must_change_password and passwords.problems(password, username):
        # A demo password (or one set before the policy) outside demo mode: replace it first.
        user.must_change_password = True
        audit.record(username, 'password_change_required', username=username, reason='policy')
    audit.record(username, 'login', kind=kind)
    db.session.commit()
    return user


def verify_password(user, password):
    """Check the signed-in user's current password (before changing it); throttled like a login."""
    throttle.check(user.username)
    if not check_password_hash(user.password_hash, password or ''):
        throttle.failed(user.username)
        audit.record(user.username, 'login_failed', reason='bad_current_password')
        db.session.commit()
        raise Invalid('当前密码不正确 (wrong current password)', code='wrong_password',
                      details={'current_password': '当前密码不正确'})
    throttle.succeeded(user.username)


# ------------------------------------------------------------------ session rows

def _digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(user, kind):
    """A new session row for `user`; returns the secret the client keeps (cookie or bearer token)."""
    secret = secrets.token_urlsafe(32)
    now = wall_now()
    db.session.add(UserSession(id=_digest(secret), user_id=user.id, kind=kind, created_at=now,
                               last_seen_at=now, remote_addr=_client()))
    db.session.commit()
    return secret


def end_sessions(user_id, why, except_id=None):
    """End every open session of a user (logout elsewhere, disabled, new password). Caller commits."""
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if except_id is not None:
        stmt = stmt.where(UserSession.id != except_id)
    return db.session.execute(stmt.values(ended_at=wall_now(), ended_why=why)).rowcount


class Caller:
    """The signed-in user as a request sees it: the columns every check and view reads, no ORM state.

    Built from the one statement that checks the session (_LOOKUP) instead of loading a User entity:
    the ORM's loading took about a third of a request's authentication. Nothing writes through it:
    the few places that change the signed-in user's own row (a new password) load it (`row()`)."""

    __slots__ = ('id', 'username', 'display_name', 'role', 'township', 'active', 'must_change_password')

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        # An assignment would change nothing stored: say so instead of dropping it (use row()).
        raise AttributeError(f'Caller.{name} is read-only: change the User row (Caller.row())')

    @property
    def is_county(self):
        return self.township == COUNTY

    def row(self):
        """The User entity of this caller (read in this request's session)."""
        return db.session.get(User, self.id)

    def __repr__(self):
        return f'<Caller {self.username} {self.role} {self.township}>'


def _end(sid, kind, username, why):
    db.session.execute(update(UserSession).where(UserSession.id == sid).values(ended_at=wall_now(), ended_why=why))
    audit.record(username, 'session_end', why=why, kind=kind)
    db.session.commit()


# Built once: SQLAlchemy caches its compiled form, a request only binds the two values. Plain table
# columns, not entities: the session row is only read here, and the user travels as a Caller.
_S, _U = UserSession.__table__.c, User.__table__.c
_LOOKUP = (select(_S.created_at, _S.last_seen_at, _S.ended_at, _S.ended_why,
                  *(_U[name] for name in Caller.__slots__))
           .join_from(UserSession.__table__, User.__table__, _U.id == _S.user_id)
           .where(_S.id == bindparam('sid'), _S.kind == bindparam('kind')))
_TOUCH = (update(UserSession.__table__).where(_S.id == bindparam('sid'))
          .values(last_seen_at=bindparam('now', type_=_S.last_seen_at.type)))


def _lookup(secret, kind):
    """The Caller of a live secret of this kind; Unauthorized with the reason otherwise.

    One indexed read (primary key, joined with the user); a write at most once a minute. Every
    request runs it, so it goes straight to the driver (services/statements.py: ≈ 0.2 ms of CPU less
    than SQLAlchemy's execution of the same compiled statement)."""
    found = None
    if secret:
        sid = _digest(secret)
        connection = db.session.connection()
        rows = statements.execute(connection, statements.prepared(connection, 'session lookup', lambda: _LOOKUP,
                                                                  ('sid', 'kind')), {'sid': sid, 'kind': kind}).rows
        found = rows[0] if rows else None
    if found is None:
        raise Unauthorized('无效的访问令牌 (invalid token)', code='token_invalid')
    created_at, last_seen_at, ended_at, ended_why = found[:4]
    user = Caller(*found[4:])
    if ended_at is not None:
        if ended_why == 'user_disabled':
            raise Unauthorized('账号已停用 (account disabled)', code='user_disabled')
        raise Unauthorized('已退出登录或登录已失效，请重新登录 (signed out, sign in again)', code='session_ended')
    if not user.active:
        _end(sid, kind, user.username, 'user_disabled')
        raise Unauthorized('账号已停用 (account disabled)', code='user_disabled')
    now = wall_now()
    if now - created_at > max_age():
        _end(sid, kind, user.username, 'expired')
        raise Unauthorized('登录已过期，请重新登录 (session expired)', code='token_expired')
    if now - last_seen_at > idle_limit():
        _end(sid, kind, user.username, 'idle')
        raise Unauthorized('长时间未操作，登录已超时，请重新登录 (idle timeout)', code='token_expired')
    if now - last_seen_at >= TOUCH_EVERY:
        db.session.execute(_TOUCH, {'sid': sid, 'now': now})
        db.session.commit()
    g.jiuzhu_session_id = sid
    return user


def session_expires_at(row_created_at=None):
    return (row_created_at or wall_now()) + max_age()


# ------------------------------------------------------------------ API bearer tokens

def issue_token(user):
    """A bearer token (the secret of a new API session) and when it expires at the latest."""
    return start_session(user, 'api'), session_expires_at()


def user_from_bearer(header):
    """The user of an `Authorization: Bearer ...` header; the API accepts nothing else."""
    if not header:
        raise Unauthorized('请先登录 (authentication required)', code='authentication_required')
    scheme, _, token = header.partition(' ')
    if scheme.lower() != 'bearer' or not token.strip():
        raise Unauthorized('请使用 Bearer 令牌 (use a Bearer token)', code='authentication_required')
    user = _lookup(token.strip()[:200], 'api')
    g.jiuzhu_user = user
    if user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        raise Forbidden('请先修改密码（初始或演示密码不能继续使用）：POST /api/v1/users/me/password '
                        '(password change required)', code='password_change_required')
    return user


def end_current_session(why='logout'):
    """Log out the session of this request (cookie or token); audited."""
    sid = g.get('jiuzhu_session_id')
    user = current_user()
    if sid is None or user is None:
        return False
    db.session.execute(update(UserSession).where(UserSession.id == sid, UserSession.ended_at.is_(None))
                       .values(ended_at=wall_now(), ended_why=why))
    audit.record(user.username, 'logout')
    db.session.commit()
    return True


# ------------------------------------------------------------------ web sessions

def login_session(user):
    """Start a cookie session for the web pages (call after `authenticate`): new id, new CSRF token."""
    session.clear()
    session['sid'] = start_session(user, 'web')
    session['csrf'] = secrets.token_urlsafe(32)
    g.jiuzhu_user = user
    g.jiuzhu_session_id = _digest(session['sid'])


def logout_session():
    end_current_session('logout')
    session.clear()
    g.pop('jiuzhu_user', None)
    g.pop('jiuzhu_session_id', None)


def user_from_session(allow_pending=False):
    """The session's user, or None when there is no live session.

    A user who must change the password counts only where `allow_pending` (web/core.py sends
    them to the change page; other pages, the notices included, treat them as signed out)."""
    secret = session.get('sid')
    if not secret:
        return None
    try:
        user = _lookup(str(secret), 'web')
    except Unauthorized:
        session.clear()
        return None
    if user.must_change_password and not allow_pending:
        return None
    g.jiuzhu_user = user
    return user


def csrf_token():
    """The session's CSRF token, to put in every form the web pages render."""
    if 'csrf' not in session:
        session['csrf'] = secrets.token_urlsafe(32)
    return session['csrf']


def check_csrf(submitted):
    """Refuse a state-changing web request whose form token does not match the session's."""
    expected = session.get('csrf')
    if not expected or not submitted or not hmac.compare_digest(expected, str(submitted)):
        raise Forbidden('页面已过期或请求来源无效，请刷新后重试 (CSRF check failed)', code='csrf_failed')


def current_user():
    """The authenticated user of this request (set by `user_from_bearer` or `user_from_session`)."""
    return g.get('jiuzhu_user')
