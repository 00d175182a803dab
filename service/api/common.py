"""What every API blueprint shares: bearer authentication and documented error responses."""
from flask import request
from flask_smorest import Blueprint

from ..services import auth

# Endpoints reachable without a token: only the one that hands out tokens.
PUBLIC_ENDPOINTS = {'auth.token'}


def make_blueprint(name, url_prefix, description):
    blp = Blueprint(name, __name__, url_prefix=url_prefix, description=description)

    @blp.before_request
    def _authenticate():
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        auth.user_from_bearer(request.headers.get('Authorization'))
        return None

    return blp


def me():
    return auth.current_user()


def errors(blp, *statuses):
    """Document the error responses a view can give (all share the {error, message, details} shape)."""
    def decorate(view):
        for status in statuses:
            view = blp.alt_response(status, schema=_error_schema(), description=_DESCRIPTIONS.get(status, ''))(view)
        return view
    return decorate


def _error_schema():
    from ..schemas.common import ErrorSchema
    return ErrorSchema


_DESCRIPTIONS = {400: '请求格式有误', 401: '未登录或令牌无效', 403: '无权操作', 404: '不存在（或不在本镇街）',
                 409: '与当前状态冲突', 422: '参数或表单有误，details 列出字段'}


def page(items, total, args):
    return {'items': items, 'total': total, 'page': args['page'], 'per_page': args['per_page']}
