"""Running the migrations: Alembic on its own connection, one migrator at a time.

Used by the `jiuzhu db` commands and by create_app for an empty database (docs/migrations.md).
"""
import contextlib
import re
import warnings
from dataclasses import dataclass

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from . import readiness
from .readiness import SchemaState, alembic_config, target_metadata

# The revision that is today's schema of the create_all era: an un-versioned database equal to
# it is stamped with it.
BASELINE = '0001'
# pg_advisory_lock key: gunicorn workers starting together on an empty database migrate one at a time.
LOCK_KEY = 7_236_500_101


class MigrationRefused(Exception):
    """The database cannot be brought to the head as it is; `lines` say why and what to do."""

    def __init__(self, lines):
        super().__init__('\n'.join(lines))
        self.lines = lines


@dataclass(frozen=True)
class Upgraded:
    before: SchemaState
    after: SchemaState
    stamped: bool   # an un-versioned (create_all) database was recorded as the baseline first


def migration_engine(url):
    # Not the app's engine: without its connect hook SQLite's foreign keys stay off, so a batch-mode
    # copy of a parent table (process_instance) does not trip over its children's references.
    return create_engine(url, poolclass=NullPool)


@contextlib.contextmanager
def locked(url):
    """A connection holding the migration lock (PostgreSQL advisory lock; SQLite has one writer anyway)."""
    engine = migration_engine(url)
    try:
        with engine.connect() as connection:
            postgres = connection.dialect.name == 'postgresql'
            if postgres:
                connection.execute(text('SELECT pg_advisory_lock(:key)'), {'key': LOCK_KEY})
                connection.commit()
            try:
                yield connection
            finally:
                if postgres:
                    connection.rollback()
                    connection.execute(text('SELECT pg_advisory_unlock(:key)'), {'key': LOCK_KEY})
                    connection.commit()
    finally:
        engine.dispose()


def state_of(connection):
    state = readiness.read_state(connection)
    connection.rollback()
    return state


def upgrade(url, revision='head'):
    """Bring the database to `revision`; an un-versioned one only if it equals the baseline."""
    with locked(url) as connection:
        before = state_of(connection)
        if before.state == 'unknown':
            raise MigrationRefused([before.message()])
        stamped = before.state == 'unversioned'
        if stamped:
            from .baseline_check import differences
            found = differences(connection)
            if found:
                raise MigrationRefused(_mismatch_lines(found))
        with connection.begin():
            config = alembic_config(connection)
            if stamped:
                command.stamp(config, BASELINE)
            command.upgrade(config, revision)
        return Upgraded(before, state_of(connection), stamped)


def _mismatch_lines(found):
    return ([f'数据库中已有 jiuzhu 的表但没有结构版本记录，且与基线版本 {BASELINE} 不同 '
             f'(the tables were made before migrations and differ from baseline {BASELINE}):']
            + [f'  - {line}' for line in found]
            + ['处理办法 (what to do): 先备份数据库；按上面各条把表结构改成与基线一致'
               f'（service/migrations/versions/{BASELINE}_baseline.py），再运行 `jiuzhu db stamp {BASELINE}` 和 '
               '`jiuzhu db upgrade`；或在新的空数据库上运行 `jiuzhu db upgrade` 后迁入数据。详见 docs/migrations.md '
               f'(back up; make the schema equal to the baseline, then `jiuzhu db stamp {BASELINE}` and '
               '`jiuzhu db upgrade`; or upgrade an empty database and move the data over).'])


def downgrade(url, revision):
    with locked(url) as connection:
        with connection.begin():
            command.downgrade(alembic_config(connection), revision)
        return state_of(connection)


def stamp(url, revision):
    """Record `revision` without running anything: for a schema repaired by hand."""
    with locked(url) as connection:
        with connection.begin():
            command.stamp(alembic_config(connection), revision, purge=True)
        return state_of(connection)


def current(url):
    engine = migration_engine(url)
    try:
        return readiness.check(engine)
    finally:
        engine.dispose()


def history():
    """(revision, down revision, message), newest first."""
    return [(script.revision, script.down_revision, script.doc)
            for script in readiness.script_directory().walk_revisions()]


def drift(connection):
    """What differs between the models and this (migrated) database; [] when they agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    context = MigrationContext.configure(connection, opts={'compare_type': True})
    with warnings.catch_warnings():
        # The GIN index of the waiting messages (models/waiting.py) is PostgreSQL's alone: SQLite
        # has no such index to compare, and alembic says so on every check.
        warnings.filterwarnings('ignore', message='autogenerate skipping metadata-specified expression-based index')
        found = compare_metadata(context, target_metadata())
    if connection.dialect.name == 'sqlite':
        # SQLite's reflection only approximates an index with a DESC column (the task lists'), so
        # alembic reports it as removed and added again under the same name; PostgreSQL compares it exactly.
        names = lambda op: {d[1].name for d in found if isinstance(d, tuple) and d[0] == op}  # noqa: E731
        both = names('remove_index') & names('add_index')
        found = [d for d in found if not (isinstance(d, tuple) and d[0] in ('remove_index', 'add_index')
                                          and d[1].name in both)]
    return found


def check(url):
    engine = migration_engine(url)
    try:
        with engine.connect() as connection:
            return drift(connection)
    finally:
        engine.dispose()


def next_revision_id():
    numbered = [int(rev) for rev, _, _ in history() if re.fullmatch(r'\d+', rev)]
    return f'{max(numbered, default=0) + 1:04d}'


def new_revision(message, autogenerate=True):
    """Write versions/NNNN_<message>.py: the models compared with a scratch SQLite database at head."""
    engine = create_engine('sqlite://')
    try:
        with engine.connect() as connection:
            with connection.begin():
                command.upgrade(alembic_config(connection), 'head')
            script = command.revision(alembic_config(connection), message, autogenerate=autogenerate,
                                      rev_id=next_revision_id(), version_path=str(readiness.VERSION_LOCATIONS[0]))
    finally:
        engine.dispose()
    return script.path
