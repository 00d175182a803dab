from flask import Blueprint, current_app, jsonify

bp = Blueprint('health', __name__)


@bp.get('/healthz')
def healthz():
    clock = current_app.extensions['jiuzhu.clock']
    return jsonify(status='ok', now=clock.now().isoformat(), clock='manual' if clock.manual else 'real')
