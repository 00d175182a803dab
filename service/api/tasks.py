from ..schemas.tasks import (AssignRequest, CompleteRequest, PriorityRequest, TaskDetailSchema, TaskListArgs,
                             TaskPage, TaskSchema)
from ..services import cases
from .common import errors, make_blueprint, me, page

blp = make_blueprint('tasks', '/api/v1/tasks', 'Tasks 待办任务')


@blp.route('', methods=['GET'])
@blp.arguments(TaskListArgs, location='query')
@blp.response(200, TaskPage)
@errors(blp, 401, 403, 422)
def list_tasks(args):
    """Tasks the caller may see, by due date (none last) then age; `mine`, `group`, ... narrow it 待办列表"""
    filters = {k: args.get(k) for k in ('mine', 'group', 'unassigned', 'township', 'overdue', 'due_before',
                                        'instance_id', 'state')}
    return page(cases.list_tasks(me(), page=args['page'], per_page=args['per_page'], cursor=args.get('cursor'),
                      **filters), args)


@blp.route('/<string:task_id>', methods=['GET'])
@blp.response(200, TaskDetailSchema)
@errors(blp, 401, 403, 404, 409)
def detail(task_id):
    """The task with its form (JSON Schema + UI schema) and the case's current data (audited read) 任务详情"""
    return cases.task_detail(me(), task_id)


@blp.route('/<string:task_id>/claim', methods=['POST'])
@blp.response(200, TaskSchema)
@errors(blp, 401, 403, 404, 409)
def claim(task_id):
    """Claim the task for the caller 认领"""
    return cases.claim(me(), task_id)


@blp.route('/<string:task_id>/unclaim', methods=['POST'])
@blp.response(200, TaskSchema)
@errors(blp, 401, 403, 404, 409)
def unclaim(task_id):
    """Give the task back (its assignee, or the township leader) 退回认领"""
    return cases.unclaim(me(), task_id)


@blp.route('/<string:task_id>/assign', methods=['POST'])
@blp.arguments(AssignRequest)
@blp.response(200, TaskSchema)
@errors(blp, 401, 403, 404, 409, 422)
def assign(body, task_id):
    """Assign to a user of the lane's role in the same township (township leader) 分派"""
    return cases.assign(me(), task_id, body['username'], reason=body.get('reason'))


@blp.route('/<string:task_id>/priority', methods=['PUT'])
@blp.arguments(PriorityRequest)
@blp.response(200, TaskSchema)
@errors(blp, 401, 403, 404, 409, 422)
def priority(body, task_id):
    """Set the task's priority (higher first among equal due dates) 优先级"""
    return cases.set_priority(me(), task_id, body['priority'])


@blp.route('/<string:task_id>/complete', methods=['POST'])
@blp.arguments(CompleteRequest)
@blp.response(200, TaskSchema)
@errors(blp, 400, 401, 403, 404, 409, 422)
def complete(body, task_id):
    """Complete as the caller with the form data; 422 lists field errors, 409 if no longer ready 办理"""
    return cases.complete(me(), task_id, body['data'])
