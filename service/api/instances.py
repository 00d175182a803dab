from ..schemas.instances import (ExtendRequest, InstanceDetailSchema, InstanceListArgs, InstancePage,
                                 MessageRequest, StartedSchema, StartRequest)
from ..services import cases
from .common import errors, make_blueprint, me, page

blp = make_blueprint('instances', '/api/v1/instances', 'Cases 案件')


def _with(instance, **extra):
    out = {column: getattr(instance, column) for column in (
        'id', 'process_key', 'business_key', 'township', 'status', 'overdue', 'overdue_since', 'review_required',
        'summary', 'definition', 'started_by', 'created_at', 'updated_at', 'completed_at', 'waiting_messages')}
    out.update(extra)
    return out


@blp.route('', methods=['POST'])
@blp.arguments(StartRequest)
@blp.response(201, StartedSchema)
@errors(blp, 400, 401, 403, 404, 422)
def start(body):
    """Start a case in the caller's township 发起申请 (data validated against the process's startForm)"""
    instance = cases.start_case(me(), body.get('process_key'), body['township'], body['data'], body.get('business_key'),
                                category=body.get('category'))
    return _with(instance, ready_tasks=cases.ready_tasks(instance.id))


@blp.route('', methods=['GET'])
@blp.arguments(InstanceListArgs, location='query')
@blp.response(200, InstancePage)
@errors(blp, 401, 403, 422)
def list_instances(args):
    """Cases the caller may see, newest first; paginated, total in the body 案件列表"""
    filters = {k: args.get(k) for k in ('status', 'township', 'process_key', 'overdue', 'review_required',
                                        'waiting_for', 'id_number')}
    return page(cases.list_cases(me(), page=args['page'], per_page=args['per_page'], cursor=args.get('cursor'),
                      **filters), args)


@blp.route('/<int:instance_id>', methods=['GET'])
@blp.response(200, InstanceDetailSchema)
@errors(blp, 401, 403, 404)
def detail(instance_id):
    """Status, version, ready tasks, timers and history of a case (audited read) 案件详情"""
    found = cases.case_detail(me(), instance_id)
    return _with(found['instance'], ready_tasks=found['ready_tasks'], timers=found['timers'],
                 history=found['history'])


@blp.route('/<int:instance_id>/messages/<string:name>', methods=['POST'])
@blp.arguments(MessageRequest)
@blp.response(200, StartedSchema)
@errors(blp, 400, 401, 403, 404, 409, 422)
def message(body, instance_id, name):
    """Deliver a BPMN message (verification_result, objection, supplement_received) 发送消息; 409 if nothing waits"""
    instance = cases.send_message(me(), instance_id, name, body['payload'])
    return _with(instance, ready_tasks=cases.ready_tasks(instance.id))


@blp.route('/<int:instance_id>/deadlines/<string:timer>/extend', methods=['POST'])
@blp.arguments(ExtendRequest)
@blp.response(200, StartedSchema)
@errors(blp, 400, 401, 403, 404, 409, 422)
def extend(body, instance_id, timer):
    """Extend a waiting time limit to N working days from acceptance, on a statutory ground 延长办理时限"""
    instance = cases.extend_deadline(me(), instance_id, timer, body['working_days'], body['reason'], body.get('note'))
    return _with(instance, ready_tasks=cases.ready_tasks(instance.id))
