from ..schemas.instances import TimerListArgs, TimerPage
from ..services import cases
from .common import errors, make_blueprint, me, page

blp = make_blueprint('timers', '/api/v1/timers', 'Timers 时限与定时器')


@blp.route('', methods=['GET'])
@blp.arguments(TimerListArgs, location='query')
@blp.response(200, TimerPage)
@errors(blp, 401, 403, 422)
def list_timers(args):
    """Waiting and fired timers, by due time; `overdue=true` gives fired deadlines 定时器列表"""
    filters = {k: args.get(k) for k in ('township', 'state', 'overdue', 'instance_id')}
    return page(cases.list_timers(me(), page=args['page'], per_page=args['per_page'], cursor=args.get('cursor'),
                      **filters), args)
