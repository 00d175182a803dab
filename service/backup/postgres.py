"""PostgreSQL: `pg_dump --format=custom` out, `pg_restore` in.

The connection goes to the client programs through libpq's environment variables, never their
command line: a password there would show in `ps` to every user of the machine.
"""
import os
import re
import shutil
import subprocess
import tempfile

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from ..config import database_uri
from ..migrations.readiness import read_state
from .errors import BackupError, not_empty
from .facts import read_facts

# URL query parameters libpq also reads from the environment.
_QUERY_ENV = {'host': 'PGHOST', 'port': 'PGPORT', 'sslmode': 'PGSSLMODE', 'sslrootcert': 'PGSSLROOTCERT',
              'sslcert': 'PGSSLCERT', 'sslkey': 'PGSSLKEY', 'sslcrl': 'PGSSLCRL', 'sslpassword': 'PGSSLPASSWORD',
              'connect_timeout': 'PGCONNECT_TIMEOUT', 'options': 'PGOPTIONS', 'application_name': 'PGAPPNAME',
              'target_session_attrs': 'PGTARGETSESSIONATTRS', 'gssencmode': 'PGGSSENCMODE',
              'passfile': 'PGPASSFILE', 'service': 'PGSERVICE', 'channel_binding': 'PGCHANNELBINDING'}
# Inherited variables that would point the programs at another server, database or role.
_TARGET = ('PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD', 'PGSERVICE', 'PGOPTIONS')
# A drop that waits this long for a lock means the service still uses the database.
LOCK_TIMEOUT = '10s'


def client_env(url):
    """os.environ with the connection of `url` in PG* variables."""
    url = make_url(url)
    env = {key: value for key, value in os.environ.items() if key not in _TARGET}
    for key, value in url.query.items():
        if key not in _QUERY_ENV:
            raise BackupError(f'DATABASE_URL 的参数 {key} 无法传给 pg_dump/pg_restore '
                              f'(the URL parameter {key} cannot be passed to the PostgreSQL client programs)')
        env[_QUERY_ENV[key]] = value if isinstance(value, str) else value[-1]
    for attr, name in (('host', 'PGHOST'), ('port', 'PGPORT'), ('username', 'PGUSER'),
                       ('password', 'PGPASSWORD'), ('database', 'PGDATABASE')):
        value = getattr(url, attr)
        if value is not None:
            env[name] = str(value)
    env.setdefault('PGCONNECT_TIMEOUT', '10')
    return env


def binary(name):
    """The client program on PATH, or in JIUZHU_PG_BIN (e.g. /usr/lib/postgresql/16/bin)."""
    folder = os.environ.get('JIUZHU_PG_BIN')
    found = shutil.which(name, path=folder) if folder else shutil.which(name)
    if not found:
        raise BackupError(f'找不到 {name}：请安装 PostgreSQL 客户端（postgresql-client，大版本不低于服务器），'
                          f'或用 JIUZHU_PG_BIN 指明其目录 ({name} not found: install postgresql-client of the '
                          f"server's major version or newer, or set JIUZHU_PG_BIN to its directory)")
    return found


def major_of(version):
    match = re.match(r'(\d+)', str(version or ''))
    return int(match.group(1)) if match else None


def client_version(program):
    out = subprocess.run([program, '--version'], capture_output=True, text=True, check=False).stdout
    match = re.search(r'\(PostgreSQL\)\s+(\d+(?:\.\d+)*)', out)
    if not match:
        raise BackupError(f'无法识别 {program} 的版本 (cannot read the version of {program}): {out.strip()}')
    return match.group(1)


def _engine(url):
    return create_engine(database_uri(url, '.'), poolclass=NullPool)


def _server_version(conn):
    number = int(conn.execute(text('SHOW server_version_num')).scalar())
    return number // 10000, conn.execute(text('SHOW server_version')).scalar().split()[0]


def _refuse_older(program, version, server_major, server_version):
    if major_of(version) < server_major:
        raise BackupError(f'{os.path.basename(program)} {version} 比数据库服务器 {server_version} 旧，不能使用：请安装 '
                          f'{server_major} 或更新版本的 PostgreSQL 客户端，或用 JIUZHU_PG_BIN 指明其目录 '
                          f'({program} {version} is older than the server {server_version}: install the '
                          f'PostgreSQL {server_major} client or newer, or set JIUZHU_PG_BIN)')


def _run(args, env, stdin=None, feed=None):
    """Run a client program; its error output becomes the BackupError's message."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(args, env=env, stdin=subprocess.PIPE if feed else None,
                                   stdout=subprocess.DEVNULL, stderr=errors)
        if feed is not None:
            try:
                for chunk in iter(lambda: feed.read(1 << 20), b''):
                    process.stdin.write(chunk)
            except BrokenPipeError:
                pass    # it stopped at an error (--exit-on-error): its message says which
            finally:
                try:
                    process.stdin.close()
                except BrokenPipeError:
                    pass
        code = process.wait()
        errors.seek(0)
        said = errors.read().decode(errors='replace').strip()
    if code != 0:
        raise BackupError(f'{os.path.basename(args[0])} 失败 (failed, exit {code}):\n{said}')


def dump(url, payload_path):
    """Dump the database into `payload_path`; the facts of the manifest come from the same snapshot."""
    program = binary('pg_dump')
    version = client_version(program)
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level='REPEATABLE READ')
            server_major, server_version = _server_version(conn)
            _refuse_older(program, version, server_major, server_version)
            # pg_dump reads the very snapshot the manifest's revision and audit anchor were read in.
            snapshot = conn.execute(text('SELECT pg_export_snapshot()')).scalar()
            facts = read_facts(conn)
            _run([program, '--format=custom', '--no-password', f'--snapshot={snapshot}',
                  f'--file={payload_path}'], client_env(url))
            conn.rollback()
    except DBAPIError as exc:
        raise BackupError(f'数据库出错 (database error): {exc.orig}') from exc
    finally:
        engine.dispose()
    return dict(facts, pg_dump_version=version, server_version=server_version)


def restore(url, backup, force):
    """Restore the dump into the database of `url`: into an empty one, or with `force` over one."""
    database = make_url(url).database
    if not database:
        raise BackupError('DATABASE_URL 须写明数据库名 (DATABASE_URL must name the database)')
    program = binary('pg_restore')
    version = client_version(program)
    made_with = backup.manifest.get('pg_dump_version')
    if major_of(made_with) and major_of(version) < major_of(made_with):
        raise BackupError(f'备份由 pg_dump {made_with} 制作，pg_restore {version} 读不了：请安装更新的 PostgreSQL 客户端 '
                          f'(made by pg_dump {made_with}; pg_restore {version} cannot read it: install a newer client)')
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            server_major, server_version = _server_version(conn)
            _refuse_older(program, version, server_major, server_version)
            if not conn.execute(text("SELECT has_schema_privilege(current_schema(), 'CREATE')")).scalar():
                raise BackupError('当前数据库账号不能在该库建表：请用数据库所有者的 DATABASE_URL 恢复（/etc/jiuzhu/jiuzhu-owner.env）'
                                  '(this role may not create tables here: restore as the database owner)')
            state = read_state(conn)
            conn.rollback()
            if state.state != 'empty':
                if not force:
                    raise not_empty(state)
                _drop_everything(conn)
    except DBAPIError as exc:
        raise BackupError(f'数据库出错 (database error): {exc.orig}') from exc
    finally:
        engine.dispose()
    tar, payload = backup.payload()
    with tar:
        # Tables, then data (COPY), then indexes, constraints and triggers: the audit log's rows go
        # in before its append-only triggers exist. One transaction: a failed restore leaves nothing.
        # Ownership and grants are the restoring owner's; the application role is granted again
        # by deploy/postgresql-app-role.sql, which may not exist yet on a new server.
        _run([program, '--no-password', '--no-owner', '--no-privileges', '--exit-on-error',
              '--single-transaction', '--dbname', database], client_env(url), feed=payload)


_KINDS = {'r': 'TABLE', 'p': 'TABLE', 'f': 'FOREIGN TABLE', 'v': 'VIEW', 'm': 'MATERIALIZED VIEW', 'S': 'SEQUENCE'}
_OBJECTS = """
SELECT c.relkind::text, format('%I.%I', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND pg_has_role(c.relowner, 'USAGE')
UNION ALL
SELECT 'function', p.oid::regprocedure::text
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p') AND pg_has_role(p.proowner, 'USAGE')
UNION ALL
SELECT 'type', format('%I.%I', n.nspname, t.typname)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd') AND pg_has_role(t.typowner, 'USAGE')
"""


def _drop_everything(conn):
    """--force: empty the schema of what the restoring role owns (tables with their triggers and rows).

    DROP TABLE is no UPDATE, DELETE or TRUNCATE: the audit log's guard triggers go with the table.
    """
    order = ['TABLE', 'FOREIGN TABLE', 'MATERIALIZED VIEW', 'VIEW', 'SEQUENCE', 'function', 'type']
    try:
        conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        found = [(_KINDS.get(kind, kind), name) for kind, name in conn.execute(text(_OBJECTS))]
        for kind in order:
            for found_kind, name in found:
                if found_kind == kind:
                    conn.execute(text(f'DROP {kind.upper()} IF EXISTS {name} CASCADE'))
        conn.commit()
    except DBAPIError as exc:
        conn.rollback()
        if 'lock timeout' in str(exc.orig):
            raise BackupError('数据库正在被使用：请先停止 jiuzhu-web 和 jiuzhu-scheduler 再恢复 '
                              '(the database is in use: stop jiuzhu-web and jiuzhu-scheduler first)') from exc
        raise
