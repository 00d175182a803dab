"""What every API blueprint shares: bearer authentication and documented error responses."""
import weakref

from flask import request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from ..errors import JiuzhuError, NotFound
from ..schemas.common import MAX_ID
from ..services import auth

# Endpoints reachable without a token: only the one that hands out tokens.
PUBLIC_ENDPOINTS = {'auth.token'}


class QueryParser(FlaskParser):
    """webargs' parser, handing a query string to a schema without list fields as a plain dict.

    webargs wraps the query in a MultiDictProxy so that list fields get every value of a repeated
    parameter; for the other fields the proxy answers the first value, as `to_dict()` does. Each of
    the schema's fields read through the proxy (an abstract Mapping: marshmallow's collection check,
    a lookup per field), half of a task list's argument parsing (≈ 15 µs). Schemas with list fields
    keep the proxy."""

    def load_querystring(self, req, schema):
        multiple = _MULTIPLE.get(schema)
        if multiple is None:
            multiple = _MULTIPLE[schema] = bool(self._makeproxy({}, schema).multiple_keys)
        return self._makeproxy(req.args, schema) if multiple else req.args.to_dict()


_MULTIPLE = weakref.WeakKeyDictionary()   # schema instance -> has fields taking repeated values


class ApiBlueprint(Blueprint):
    """flask-smorest's Blueprint with each argument schema made once, when the view is declared.

    Given a schema class, webargs makes an instance of it on every request (about a quarter of a
    millisecond for a list's query arguments); the response schemas are instances already.
    Loading keeps no state on the schema, so the threads of a worker share it."""

    ARGUMENTS_PARSER = QueryParser()

    def arguments(self, schema, *args, **kwargs):
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)


def make_blueprint(name, url_prefix, description):
    blp = ApiBlueprint(name, __name__, url_prefix=url_prefix, description=description)

    @blp.before_request
    def _authenticate():
        _refuse_unstorable()
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        auth.user_from_bearer(request.headers.get('Authorization'))
        return None

    return blp


def _refuse_unstorable():
    """Input no database can compare or store: NUL characters (PostgreSQL text) and ids past 32 bits."""
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise NotFound('没有这个对象 (no such object)', code='not_found')
    body = request.get_data(cache=True) if request.mimetype == 'application/json' else b''
    if '\x00' in request.path or b'%00' in request.query_string or b'\x00' in request.query_string \
            or b'\x00' in body or b'\\u0000' in body:
        raise JiuzhuError('请求中含有空字符 (NUL characters are not accepted)', code='bad_request')


def me():
    return auth.current_user()


def errors(blp, *statuses):
    """Document the error responses a view can give (all share the {error, message, details} shape).

    Only documented: flask-smorest's alt_response also wraps the view once per status, and each
    wrapper asks Flask whether the next one is a coroutine on every request (six for a completion)."""
    def decorate(view):
        documented = view
        for status in statuses:
            documented = blp.alt_response(status, schema=_error_schema(),
                                          description=_DESCRIPTIONS.get(status, ''))(documented)
        if documented is not view:
            view._apidoc = documented._apidoc
        return view
    return decorate


def _error_schema():
    from ..schemas.common import ErrorSchema
    return ErrorSchema


_DESCRIPTIONS = {400: '请求格式有误', 401: '未登录或令牌无效', 403: '无权操作', 404: '不存在（或不在本镇街）',
                 409: '与当前状态冲突', 422: '参数或表单有误，details 列出字段'}


def page(found, args):
    """A listing.Page as the API's page body."""
    return {'items': found.items, 'total': found.total, 'total_capped': found.capped, 'next': found.next,
            'page': args['page'], 'per_page': args['per_page']}


def paged(items, total, args):
    """A page-number list (incidents, audit) in the same body; their totals are capped too."""
    from ..services.listing import TOTAL_CAP
    return {'items': items, 'total': total, 'total_capped': total >= TOTAL_CAP,
            'page': args['page'], 'per_page': args['per_page']}
