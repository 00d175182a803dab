"""Login throttling (登录失败处理): wrong passwords are counted per account and per client address.

Flask-Limiter owns the counters (its storage and moving-window strategy, configured per app);
this module decides what counts: only failed passwords are counted, a refusal is checked before
the password hash is computed (a guesser gets no answer and costs no scrypt), and a correct
password clears the account's count. Each refusal is a 429 with Retry-After and an audit row.

Storage: `memory://` by default, i.e. per process. Several gunicorn workers each keep their own
counters, so an attacker gets the limit once per worker: set JIUZHU_RATELIMIT_STORAGE_URI to a
shared store (redis://…) in production (README, "Security").
"""
import logging
import math
import time

from flask import current_app, g, has_request_context, request
from flask_limiter import Limiter
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ..errors import JiuzhuError
from ..extensions import db
from . import audit

NAMESPACE = 'jiuzhu-login'
log = logging.getLogger('jiuzhu.throttle')


class Throttled(JiuzhuError):
    status = 429
    code = 'too_many_attempts'

    def __init__(self, message, retry_after, details=None):
        super().__init__(message, details=details)
        self.retry_after = retry_after


def _client_address():
    return (request.remote_addr if has_request_context() else None) or 'local'


def init_app(app):
    """One Flask-Limiter per app (tests build many apps in one process: no shared counters)."""
    config = app.config
    config.setdefault('RATELIMIT_STORAGE_URI', config.get('JIUZHU_RATELIMIT_STORAGE_URI') or 'memory://')
    # A moving window: five failures are five failures, whatever the clock's minute says.
    config.setdefault('RATELIMIT_STRATEGY', 'moving-window')
    for key in ('JIUZHU_LOGIN_LIMIT_ACCOUNT', 'JIUZHU_LOGIN_LIMIT_ADDRESS'):
        parse(config[key])   # a typing slip in the limits stops the start, not every later login
    limiter = Limiter(key_func=_client_address)
    # No route is limited through Flask-Limiter's hooks: the checks below are the only users of its
    # storage and strategy. Listed as installed already, it adds no hooks to every request (a
    # before, an after and a teardown hook cost ≈ 0.2 ms of CPU per API request, for nothing).
    app.extensions.setdefault('limiter', set()).add(limiter)
    limiter.init_app(app)
    app.extensions['jiuzhu.limiter'] = limiter
    # When the shared store is down, this process keeps counting on its own: sign-in stays open
    # and guessing stays bounded (per worker) instead of either failing.
    app.extensions['jiuzhu.limiter_fallback'] = MovingWindowRateLimiter(MemoryStorage())
    return limiter


def _limits():
    config = current_app.config
    return (('account', parse(config['JIUZHU_LOGIN_LIMIT_ACCOUNT'])),
            ('address', parse(config['JIUZHU_LOGIN_LIMIT_ADDRESS'])))


def _keys(username):
    return {'account': (username or '').strip().lower()[:100], 'address': _client_address()}


def _call(method, item, *identifiers):
    try:
        return getattr(current_app.extensions['jiuzhu.limiter'].limiter, method)(item, NAMESPACE, *identifiers)
    except Exception:   # noqa: BLE001  (any storage error: redis down, timeout, refused)
        log.exception('login throttle storage failed; counting in this process meanwhile')
        return getattr(current_app.extensions['jiuzhu.limiter_fallback'], method)(item, NAMESPACE, *identifiers)


def check(username):
    """Refuse (429) before any password is looked at when the account or the address is over its limit."""
    keys = _keys(username)
    for scope, item in _limits():
        if _call('test', item, scope, keys[scope]):
            continue
        reset_at, _ = _call('get_window_stats', item, scope, keys[scope])
        retry_after = max(1, math.ceil(reset_at - time.time()))
        minutes = max(1, math.ceil(retry_after / 60))
        if has_request_context():
            g.jiuzhu_retry_after = retry_after
        audit.record(username or '', 'login_throttled', scope=scope, retry_after=retry_after)
        db.session.commit()
        raise Throttled(f'登录失败次数过多，请 {minutes} 分钟后再试 (too many failed sign-ins, '
                        f'retry in {minutes} min)', retry_after, details={'retry_after': retry_after, 'scope': scope})


def failed(username):
    """Count one wrong password for the account and for the client's address."""
    keys = _keys(username)
    for scope, item in _limits():
        _call('hit', item, scope, keys[scope])


def succeeded(username):
    """A correct password clears the account's count (the address keeps its own)."""
    keys = _keys(username)
    for scope, item in _limits():
        if scope == 'account':
            _call('clear', item, scope, keys[scope])
