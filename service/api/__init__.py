"""The REST API under /api/v1 (flask-smorest): blueprints, OpenAPI document, JSON errors."""
import logging

from flask import jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from ..errors import JiuzhuError
from ..extensions import db
from ..schemas.common import ErrorSchema
from ..services import outage

log = logging.getLogger('jiuzhu.api')

PREFIX = '/api/v1'

_HTTP_ZH = {
    400: ('bad_request', '请求格式有误 (bad request)'),
    401: ('unauthorized', '请先登录 (authentication required)'),
    403: ('forbidden', '无权进行此操作 (forbidden)'),
    404: ('not_found', '没有这个地址 (no such resource)'),
    405: ('method_not_allowed', '此地址不支持该请求方法 (method not allowed)'),
    409: ('conflict', '请求与当前状态冲突 (conflict)'),
    413: ('payload_too_large', '上传内容过大 (payload too large)'),
    415: ('unsupported_media_type', '不支持的内容类型 (unsupported media type)'),
    422: ('validation_error', '请求参数有误，请检查标出的字段 (invalid request)'),
    500: ('internal_error', '服务器内部错误，请联系管理员 (internal error)'),
}

# marshmallow's words, for people who read Chinese first.
_FIELD_ZH = {
    'Missing data for required field.': '必填',
    'Unknown field.': '未知字段',
    'Field may not be null.': '不能为空',
    'Not a valid string.': '应为文本',
    'Not a valid integer.': '应为整数',
    'Not a valid number.': '应为数字',
    'Not a valid boolean.': '应为是/否',
    'Not a valid mapping type.': '应为对象',
    'Not a valid list.': '应为列表',
    'Not a valid datetime.': '时间格式不正确，应为 ISO 8601',
    'Not a valid aware datetime.': '时间须带时区，如 2026-09-28T09:00:00+08:00',
    'Invalid input type.': '输入类型不正确',
}


def _zh(message):
    if message in _FIELD_ZH:
        return _FIELD_ZH[message]
    return f'不符合要求 ({message})'


def _flatten(messages, prefix=''):
    """webargs/marshmallow nested messages → {dotted.path: Chinese message}."""
    out = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f'{prefix}.{key}' if prefix else str(key)
            if isinstance(value, dict):
                out.update(_flatten(value, path))
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                out[path] = '；'.join(_zh(v) for v in value)
            else:
                out[path] = _zh(str(value))
    elif isinstance(messages, list):
        out[prefix or '$'] = '；'.join(_zh(str(v)) for v in messages)
    return out


def error_response(status, code, message, details=None, headers=None):
    response = jsonify({'error': code, 'message': message, 'details': details})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _is_api():
    return request.path == PREFIX or request.path.startswith(PREFIX + '/')


def handle_jiuzhu_error(exc):
    if not _is_api():
        return exc.message, exc.status
    if exc.status >= 500:
        log.error('%s', exc)
    return error_response(exc.status, exc.code, exc.message, exc.details)


def handle_http_exception(exc):
    if not _is_api():
        return exc
    status = exc.code or 500
    code, message = _HTTP_ZH.get(status, (exc.name.lower().replace(' ', '_'), exc.description))
    data = getattr(exc, 'data', None) or {}
    messages = data.get('messages') or data.get('errors')
    details = None
    if messages:
        # webargs keys by location; one location is the common case, so drop that level.
        if isinstance(messages, dict) and len(messages) == 1:
            messages = next(iter(messages.values()))
        details = _flatten(messages)
        if status == 400 and any('Invalid JSON body' in v for v in details.values()):
            code, message, details = 'malformed_json', 'JSON 格式错误，无法解析请求体 (malformed JSON body)', None
    headers = dict(data.get('headers') or {})
    valid_methods = getattr(exc, 'valid_methods', None)
    if status == 405 and valid_methods:
        headers['Allow'] = ', '.join(valid_methods)
    return error_response(status, code, message, details, headers)


def handle_unexpected(exc):
    if not _is_api():
        raise exc
    if outage.ended_request(exc):
        return error_response(503, 'database_unavailable', outage.MESSAGE, headers={'Retry-After': outage.RETRY_AFTER})
    db.session.rollback()
    log.exception('unexpected error on %s %s', request.method, request.path)
    code, message = _HTTP_ZH[500]
    return error_response(500, code, message)


class JiuzhuApi(Api):
    """flask-smorest's Api with the OpenAPI document built when first read.

    Documenting the views deep-copies every operation: about three quarters of create_app's
    time. Most apps never read the document (a gunicorn worker that never serves openapi.json,
    each test's app), so the blueprints are routed at once and documented on first use of `spec`.
    """
    ERROR_SCHEMA = ErrorSchema

    @property
    def spec(self):
        pending = self.__dict__.get('_undocumented') or []
        self._undocumented = []
        for blp, name, parameters in pending:
            blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
            self._spec.tag({'name': name, 'description': blp.description})
        return self._spec

    @spec.setter
    def spec(self, value):
        self._spec = value

    def register_blueprint(self, blp, *, parameters=None, **options):
        name = options.get('name', blp.name)
        self._app.extensions['flask-smorest']['blp_name_to_api'][name] = self
        self._app.register_blueprint(blp, **options)
        self.__dict__.setdefault('_undocumented', []).append((blp, name, parameters))

    def _register_error_handlers(self):
        # Registered by init_api, limited to /api/ paths so the web pages keep HTML errors.
        pass


def init_api(app):
    app.config.setdefault('API_TITLE', 'jiuzhu 救助 API')
    app.config.setdefault('API_VERSION', 'v1')
    app.config.setdefault('OPENAPI_VERSION', '3.0.3')
    app.config.setdefault('OPENAPI_URL_PREFIX', PREFIX)
    app.config.setdefault('OPENAPI_JSON_PATH', 'openapi.json')
    app.config.setdefault('API_SPEC_OPTIONS', {
        'info': {'description': '社会救助审核确认流程服务。除 POST /api/v1/auth/token 外，所有请求须带 '
                                '`Authorization: Bearer <token>`。列表分页：`page`、`per_page`，总数在响应体 `total`。'},
        'security': [{'bearerAuth': []}],
        'components': {'securitySchemes': {'bearerAuth': {'type': 'http', 'scheme': 'bearer'}}},
    })
    api = JiuzhuApi(app)
    app.register_error_handler(JiuzhuError, handle_jiuzhu_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)

    from . import audit, auth, casework, clock, definitions, entrustments, incidents, instances, tasks, timers
    for module in (auth, definitions, instances, incidents, tasks, timers, clock, audit, entrustments, casework):
        api.register_blueprint(module.blp)
    from . import households   # issue 13
    api.register_blueprint(households.blp)
    from . import lists   # issue 11: search, worklists, saved filters, inbox
    api.register_blueprint(lists.blp)
    from . import complaints, oversight   # issue 13: complaints, rectification orders, escalated reviews
    api.register_blueprint(complaints.blp)
    api.register_blueprint(oversight.blp)
    app.extensions['jiuzhu.api'] = api
    return api
