from flask import Blueprint, current_app, jsonify

from ..migrations.readiness import current_state

bp = Blueprint('health', __name__)


@bp.get('/healthz')
def healthz():
    """Ready (200) only when the database schema is the one this code needs; else 503 with both revisions."""
    schema = current_state(current_app)
    if not schema.ready:
        return jsonify(status='not_ready', message=schema.message(), database=schema.as_dict()), 503
    clock = current_app.extensions['jiuzhu.clock']
    return jsonify(status='ok', now=clock.now().isoformat(), clock='manual' if clock.manual else 'real',
                   database=schema.as_dict())
