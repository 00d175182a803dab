from flask import current_app

from ..scheduler import catch_up
from ..schemas.clock import ClockSchema, ClockSetRequest
from ..services import clockctl
from .common import errors, make_blueprint, me

blp = make_blueprint('clock', '/api/v1/clock', 'Clock 系统时钟')


@blp.route('', methods=['GET'])
@blp.response(200, ClockSchema)
@errors(blp, 401)
def read():
    """The service's current time and whether it can be set 当前时间"""
    return clockctl.read()


@blp.route('', methods=['PUT'])
@blp.arguments(ClockSetRequest)
@blp.response(200, ClockSchema)
@errors(blp, 401, 403, 409, 422)
def set_clock(body):
    """Set the manual clock (admin, county supervisor; tests and demo only), then fire due timers 调整时钟"""
    clockctl.set_now(me(), body['now'])
    return dict(clockctl.read(), **catch_up(current_app._get_current_object()))
