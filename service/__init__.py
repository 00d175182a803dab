"""jiuzhu (救助): BPMN orchestration of social-assistance review and confirmation."""
import logging
import os
import secrets
from pathlib import Path

from flask import Flask

from . import calendar, crypto
from .clock import make_clock
from .config import database_uri, engine_options, from_environment
from .engine.core import Engine
from .engine.parser import load_lanes
from .extensions import db, tune_postgresql, tune_sqlite

log = logging.getLogger('jiuzhu')


def create_app(config=None):
    """The app factory. `config` (a mapping) overrides the environment."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(from_environment(app.instance_path))
    if config:
        config = dict(config)
        if 'DATABASE_URL' in config:
            config['SQLALCHEMY_DATABASE_URI'] = database_uri(config.pop('DATABASE_URL'), app.instance_path)
        app.config.update(config)
    if not app.config.get('SECRET_KEY'):
        log.warning('SECRET_KEY is not set: using a random key, sessions and tokens end with this process')
        app.config['SECRET_KEY'] = secrets.token_hex(32)
    app.config.setdefault('SQLALCHEMY_ENGINE_OPTIONS', engine_options(app.config))
    # Refuses (KeyConfigError) outside demo and test mode without keys: data written under a key
    # nobody kept could never be read again.
    keyring = crypto.keyring_from(app.config, crypto.demo_mode(app.config))
    app.extensions['jiuzhu.keyring'] = keyring
    crypto.install(keyring)
    from .services.masking import install_log_masking
    install_log_masking()
    from .services import figures  # noqa: F401  (keeps the supervision counts with every flush)

    if app.config.get('JIUZHU_PROXIES'):
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = int(app.config['JIUZHU_PROXIES'])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    calendar.configure(app.config.get('JIUZHU_HOLIDAYS'))
    db.init_app(app)

    clock = make_clock(app.config['JIUZHU_CLOCK'], app.config.get('JIUZHU_CLOCK_START'))
    from .engine.sandbox import limits_from_config
    engine = Engine(clock, max_steps=int(app.config['JIUZHU_MAX_ENGINE_STEPS']),
                    max_case_bytes=int(app.config['JIUZHU_MAX_CASE_BYTES']), limits=limits_from_config(app.config),
                    write_seconds=float(app.config['JIUZHU_SCRIPT_WRITE_SECONDS']))
    engine.lanes = load_lanes(Path(app.config['JIUZHU_PROCESSES_DIR']) / 'lanes.json')
    engine.forms_dir = Path(app.config['JIUZHU_FORMS_DIR'])
    app.extensions['jiuzhu.clock'] = clock
    app.extensions['jiuzhu.engine'] = engine

    from . import models  # noqa: F401  (registers the tables)
    from .scheduler import models as _scheduler_models  # noqa: F401  (calendar_start)
    from .services.households import effects as household_effects
    household_effects.install()   # binds the `household_effect` service operator
    from .services import referrals
    referrals.install()           # binds the `refer_case` service operator
    from .services import complaints
    complaints.install()          # binds `complaint_feedback`
    from .migrations import readiness
    with app.app_context():
        tune_sqlite(db.engine)
        tune_postgresql(db.engine)
        # The schema comes from the migrations (docs/migrations.md). An empty database (the embedded
        # SQLite on first start, a fresh test database) is brought to the head here; one that is
        # behind is not touched: every request but /healthz answers 503 until `jiuzhu db upgrade`.
        schema = readiness.check(db.engine)
        if schema.state == 'empty':
            from .migrations import runner
            schema = runner.upgrade(app.config['SQLALCHEMY_DATABASE_URI']).after
    app.extensions['jiuzhu.schema'] = schema
    readiness.install_guard(app)

    from .web.health import bp as health_bp
    app.register_blueprint(health_bp)
    from .web import init_web
    init_web(app)
    from .documents import bp as documents_bp
    app.register_blueprint(documents_bp)
    from .api import init_api
    init_api(app)
    if schema.ready and app.config.get('JIUZHU_EMBEDDED_SCHEDULER') and (
            not app.testing or (config or {}).get('JIUZHU_EMBEDDED_SCHEDULER')):
        # Tests get no background thread unless their own config asks for one.
        from .scheduler.runner import start_embedded
        start_embedded(app)
    return app
