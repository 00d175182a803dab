"""The throwaway app scenarios run in: its own SQLite file, a manual clock, the files under test deployed.

Nothing of it outlives the run: the database lives in a temporary folder removed at the end. It
is a real app (services, write path, engine, timers), so a scenario passes exactly as a case
would. It must be built in a process of its own or in a test: `create_app` installs the data
keyring and the calendar for the whole process (the deploy preview runs scenarios in a child
process for that reason, services/scenario_preview.py).
"""
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .loader import DEFAULT_START_AT

# Demo-mode keys (public, like the demo's): the data of a scenario is made up and thrown away.
_KEYS = {'JIUZHU_DATA_KEYS': 'scenario:c2NlbmFyaW8tc2NlbmFyaW8tc2NlbmFyaW8tc2NlbmE=',
         'JIUZHU_SEARCH_KEY': 'c2NlbmFyaW8tc2VhcmNoLXNjZW5hcmlvLXNlYXJjaCE='}


def _schema_at_head(url):
    """The models' tables and the head revision, as the migrations would leave them (faster)."""
    from alembic.migration import MigrationContext

    from ..migrations import readiness, runner
    engine = runner.migration_engine(url)
    try:
        with engine.begin() as connection:
            runner.target_metadata().create_all(connection)
            MigrationContext.configure(connection).stamp(readiness.script_directory(), 'head')
    finally:
        engine.dispose()


@contextmanager
def scenario_app(processes_dir, forms_dir, files=None, forms=None, database_url=None):
    """An app context with `files` ({path under processes_dir: bytes}, default: the whole folder)
    deployed (forms: {name: text}, default forms_dir); yields the app. `database_url`: an empty database to use instead of a temporary SQLite."""
    from .. import create_app
    from ..extensions import db
    from ..services import repository
    # In memory where the system offers it (/dev/shm): the database is written to for every step.
    shm = Path('/dev/shm')
    folder = Path(tempfile.mkdtemp(prefix='jiuzhu-scenarios-', dir=shm if shm.is_dir() else None))
    try:
        url = database_url or f'sqlite:///{folder / "scenarios.sqlite3"}'
        if database_url is None:
            _schema_at_head(url)
        app = create_app({'TESTING': True, 'DATABASE_URL': url, 'SECRET_KEY': 'scenarios',
                          'JIUZHU_CLOCK': 'manual', 'JIUZHU_CLOCK_START': DEFAULT_START_AT,
                          'JIUZHU_PROCESSES_DIR': str(processes_dir), 'JIUZHU_FORMS_DIR': str(forms_dir),
                          **_KEYS})
        with app.app_context():
            try:
                tree = repository.read_tree(Path(processes_dir)) if files is None else dict(files)
                repository.deploy(tree, 'scenarios', forms=forms)
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
