"""Configuration from environment variables (DESIGN.md, "Conventions")."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def database_uri(url, instance_path):
    if not url:
        return f"sqlite:///{Path(instance_path) / 'jiuzhu.sqlite3'}"
    # psycopg 3 is the driver we ship; plain postgresql:// URLs would pick psycopg2.
    for prefix in ('postgres://', 'postgresql://'):
        if url.startswith(prefix):
            return 'postgresql+psycopg://' + url[len(prefix):]
    return url


def _number(env, key, kind):
    value = env.get(key)
    return kind(value) if value not in (None, '') else None


def _flag(value):
    return str(value).strip().lower() in ('1', 'true', 'yes', 'on')


def from_environment(instance_path):
    env = os.environ
    return {
        'SQLALCHEMY_DATABASE_URI': database_uri(env.get('DATABASE_URL'), instance_path),
        'SECRET_KEY': env.get('SECRET_KEY'),
        # Personal data at rest (service/crypto.py, deploy/keys.md): data keys, the first one current,
        # and the key of the ID-number hashes. Required outside demo and test mode.
        'JIUZHU_DATA_KEYS': env.get('JIUZHU_DATA_KEYS'),
        'JIUZHU_DATA_KEY': env.get('JIUZHU_DATA_KEY'),
        'JIUZHU_SEARCH_KEY': env.get('JIUZHU_SEARCH_KEY'),
        'JIUZHU_CLOCK': env.get('JIUZHU_CLOCK', 'real'),
        'JIUZHU_HOLIDAYS': env.get('JIUZHU_HOLIDAYS'),
        'JIUZHU_PROCESSES_DIR': env.get('JIUZHU_PROCESSES_DIR', str(ROOT / 'processes')),
        'JIUZHU_FORMS_DIR': env.get('JIUZHU_FORMS_DIR', str(ROOT / 'forms')),
        # Attachments (photos, scanned materials) are files, not rows: services/filestore.py.
        'JIUZHU_FILES_DIR': env.get('JIUZHU_FILES_DIR') or str(Path(instance_path) / 'files'),
        'JIUZHU_MAX_FILE_BYTES': int(env.get('JIUZHU_MAX_FILE_BYTES', str(10 << 20))),
        # A deploy preview runs the changed diagrams' scenarios (services/scenario_preview.py); 0 skips them.
        'JIUZHU_PREVIEW_SCENARIOS': _flag(env.get('JIUZHU_PREVIEW_SCENARIOS', '1')),
        # The embedded default runs the timer sweep inside the web process.
        'JIUZHU_EMBEDDED_SCHEDULER': _flag(env.get('JIUZHU_EMBEDDED_SCHEDULER', '0')),
        # Sessions and tokens (services/auth.py, wall clock): end after this long without a request,
        # and this long after sign-in whatever happens. JIUZHU_TOKEN_HOURS is the older name.
        'JIUZHU_SESSION_IDLE_MINUTES': int(env.get('JIUZHU_SESSION_IDLE_MINUTES', '30')),
        'JIUZHU_SESSION_MAX_HOURS': float(env.get('JIUZHU_SESSION_MAX_HOURS', env.get('JIUZHU_TOKEN_HOURS', '8'))),
        # Wrong passwords allowed per account and per client address (services/throttle.py), and where
        # the counters live: memory:// is per process — several gunicorn workers need a shared store.
        'JIUZHU_LOGIN_LIMIT_ACCOUNT': env.get('JIUZHU_LOGIN_LIMIT_ACCOUNT', '5 per 15 minutes'),
        'JIUZHU_LOGIN_LIMIT_ADDRESS': env.get('JIUZHU_LOGIN_LIMIT_ADDRESS', '20 per 15 minutes'),
        'JIUZHU_RATELIMIT_STORAGE_URI': env.get('JIUZHU_RATELIMIT_STORAGE_URI', 'memory://'),
        # Mark the session cookie Secure on every response (also set per request when it came over HTTPS).
        'JIUZHU_SECURE_COOKIES': _flag(env.get('JIUZHU_SECURE_COOKIES', '0')),
        # How many reverse proxies (nginx) stand in front: their X-Forwarded-* headers are trusted
        # so the audit log records the client's address, not the proxy's. 0 = none (trust nothing).
        'JIUZHU_PROXIES': int(env.get('JIUZHU_PROXIES', '0')),
        # Bounds on one change to a case: engine steps without a person, and the case's stored size.
        'JIUZHU_MAX_ENGINE_STEPS': int(env.get('JIUZHU_MAX_ENGINE_STEPS', '1000')),
        'JIUZHU_MAX_CASE_BYTES': int(env.get('JIUZHU_MAX_CASE_BYTES', str(4 << 20))),
        # 1: test every pooled connection with a round trip before each use (see `engine_options`).
        'JIUZHU_POOL_PRE_PING': _flag(env.get('JIUZHU_POOL_PRE_PING', '0')),
        # Bounds of diagram code (service/engine/sandbox.py); unset keeps the sandbox's defaults:
        # 2 s and 200,000 lines per evaluation, 4 MiB per value it builds or keeps, 64 MiB it may allocate.
        'JIUZHU_SCRIPT_MAX_SECONDS': _number(env, 'JIUZHU_SCRIPT_MAX_SECONDS', float),
        'JIUZHU_SCRIPT_MAX_BYTES': _number(env, 'JIUZHU_SCRIPT_MAX_BYTES', int),
        'JIUZHU_SCRIPT_MAX_MEMORY': _number(env, 'JIUZHU_SCRIPT_MAX_MEMORY', int),
        'JIUZHU_SCRIPT_MAX_STEPS': _number(env, 'JIUZHU_SCRIPT_MAX_STEPS', int),
        # All diagram code one write (start, completion, message, timer sweep of a case) may run, together.
        'JIUZHU_SCRIPT_WRITE_SECONDS': float(env.get('JIUZHU_SCRIPT_WRITE_SECONDS') or 10),
    }


# A pooled connection older than this is closed and opened afresh when next taken from the pool.
POOL_RECYCLE_SECONDS = 1800


def engine_options(config):
    """SQLAlchemy engine options: no ping per checkout by default.

    `pool_pre_ping` costs a round trip to the database on every checkout — one per request, about a
    tenth of a task completion's statements. What it protects against is a connection the server
    closed (a restart, a failover, a firewall dropping idle connections). Without it SQLAlchemy
    still notices a dead connection at its first statement, answers that one request 503 "try
    again" (services/outage.py) and throws away every pooled connection older than the failure, so
    a restart costs at most one such request per worker; `pool_recycle` retires connections before idle-connection
    timeouts (firewalls, PgBouncer `server_idle_timeout`) can kill them. JIUZHU_POOL_PRE_PING=1
    brings the ping back where even that one request matters more than the round trip.
    """
    return {'pool_pre_ping': _flag(config.get('JIUZHU_POOL_PRE_PING')), 'pool_recycle': POOL_RECYCLE_SECONDS}
