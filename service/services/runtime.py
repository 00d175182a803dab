"""Runtime service: start cases, deliver messages, fire timers, read cases."""
from ..engine.core import NotWaiting
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import ProcessInstance
from . import repository
from .context import engine, now
from .write import _load, save, write_case


def _summary(data):
    applicant = data.get('applicant') or {}
    number = str(applicant.get('id_number') or '')
    return {'applicant_name': applicant.get('name'),
            'id_number_masked': mask_id_number(number) if number else None}


def mask_id_number(number):
    return number[:6] + '*' * max(len(number) - 10, 0) + number[-4:] if len(number) > 10 else '*' * len(number)


def start_instance(process_key, township, data, actor, business_key=None):
    definition = repository.latest(process_key)
    moment = now()
    data = dict(data or {}, township=township)
    try:
        workflow = engine().create(definition, data)
        instance = ProcessInstance(
            definition_id=definition.id, definition=definition, process_key=definition.key,
            business_key=business_key, township=township, status='running', summary=_summary(data),
            state=engine().dump(workflow), started_by=actor, created_at=moment, updated_at=moment)
        db.session.add(instance)
        db.session.flush()
        save(instance, workflow, actor, 'start', process=definition.key, version=definition.version)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return instance


def deliver_message(instance_id, name, payload, actor):
    def act(workflow):
        try:
            engine().deliver(workflow, name, payload)
        except NotWaiting:
            raise Conflict(f'案件 {instance_id} 当前不在等待消息 {name} (no task of this case waits for it)',
                           details={'waiting_for': engine().waiting_messages(workflow)},
                           code='not_waiting') from None
    instance, _ = write_case(instance_id, actor, 'message', act, message=name)
    return instance


def fire_due_timers(instance_id):
    """Fire whatever is due on one case (the scheduler calls this for each due timer row)."""
    instance, _ = write_case(instance_id, None, 'timers', None)
    return instance


def get_instance(instance_id):
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f'没有编号为 {instance_id} 的案件 (no such case)', code='instance_not_found')
    return instance


def case_data(instance_id):
    """The case's current data: what its newest task sees."""
    _, workflow = _load(instance_id)
    return dict(workflow.last_task.data) if workflow.last_task is not None else dict(workflow.data)
