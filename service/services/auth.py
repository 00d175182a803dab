"""Who is calling: passwords, API bearer tokens, web sessions with CSRF — one implementation for API and web.

Token and session expiry use the wall clock, not the case clock: a demo clock moved a
month ahead must not log everybody out, and a test clock must not keep a stolen token alive.
"""
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from flask import current_app, g, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Forbidden, Unauthorized
from ..extensions import db
from ..models import User
from . import audit

TOKEN_SALT = 'jiuzhu.api-token'
_DUMMY_HASH = generate_password_hash('not a password', method='scrypt')


def hash_password(password):
    return generate_password_hash(password, method='scrypt')


def find_user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _fingerprint(user):
    # Changing the password (or disabling and re-enabling with a new one) invalidates old tokens.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def authenticate(username, password):
    """The user for these credentials, or Unauthorized; every attempt lands in the audit log."""
    username = (username or '')[:100]
    user = find_user(username)
    ok = user is not None and check_password_hash(user.password_hash, password or '')
    if user is None:
        check_password_hash(_DUMMY_HASH, password or '')  # same cost whether or not the user exists
    if not ok or not user.active:
        audit.record(username, 'login_failed', reason='disabled' if ok else 'bad_credentials')
        db.session.commit()
        raise Unauthorized('用户名或密码错误，或账号已停用 (invalid credentials or disabled account)',
                           code='invalid_credentials')
    audit.record(username, 'login')
    db.session.commit()
    return user


def _serializer():
    return URLSafeTimedSerializer(current_app.config['SECRET_KEY'], salt=TOKEN_SALT)


def token_lifetime():
    return timedelta(hours=current_app.config.get('JIUZHU_TOKEN_HOURS', 8))


def issue_token(user):
    """A signed bearer token for `user` and when it expires."""
    token = _serializer().dumps({'u': user.id, 'f': _fingerprint(user)})
    return token, datetime.now(timezone.utc) + token_lifetime()


def verify_token(token):
    try:
        payload = _serializer().loads(token, max_age=int(token_lifetime().total_seconds()))
    except SignatureExpired:
        raise Unauthorized('登录已过期，请重新登录 (token expired)', code='token_expired') from None
    except BadSignature:
        raise Unauthorized('无效的访问令牌 (invalid token)', code='token_invalid') from None
    user = db.session.get(User, payload.get('u')) if isinstance(payload, dict) else None
    if user is None or not hmac.compare_digest(_fingerprint(user), str(payload.get('f', ''))):
        raise Unauthorized('无效的访问令牌 (invalid token)', code='token_invalid')
    if not user.active:
        raise Unauthorized('账号已停用 (account disabled)', code='user_disabled')
    return user


def user_from_bearer(header):
    """The user of an `Authorization: Bearer ...` header; the API accepts nothing else."""
    if not header:
        raise Unauthorized('请先登录 (authentication required)', code='authentication_required')
    scheme, _, token = header.partition(' ')
    if scheme.lower() != 'bearer' or not token.strip():
        raise Unauthorized('请使用 Bearer 令牌 (use a Bearer token)', code='authentication_required')
    user = verify_token(token.strip())
    g.jiuzhu_user = user
    return user


# ------------------------------------------------------------------ web sessions

def login_session(user):
    """Start a cookie session for the web pages (call after `authenticate`)."""
    session.clear()
    session['uid'] = user.id
    session['fp'] = _fingerprint(user)
    session['csrf'] = secrets.token_urlsafe(32)
    session['exp'] = (datetime.now(timezone.utc) + token_lifetime()).timestamp()
    g.jiuzhu_user = user


def logout_session():
    session.clear()
    g.pop('jiuzhu_user', None)


def user_from_session():
    """The session's user, or None when there is no (valid) session."""
    uid = session.get('uid')
    if uid is None:
        return None
    if session.get('exp', 0) < datetime.now(timezone.utc).timestamp():
        session.clear()
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active or not hmac.compare_digest(_fingerprint(user), str(session.get('fp', ''))):
        session.clear()
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
