"""Runtime service: start cases, deliver messages, fire timers, read cases."""
from .. import crypto
from ..engine.core import NotWaiting
from ..engine.failures import EngineFailure, describe
from ..engine.tasks import current_data
from ..errors import Conflict, Invalid, JiuzhuError, NotFound
from ..extensions import db
from ..models import ProcessInstance
from . import case_members, repository, write
from .context import engine, now
from .masking import mask_id_number
from .sync import CaseRows, save
from .write import _load, write_case


def _summary(data):
    applicant = data.get('applicant') or {}
    number = str(applicant.get('id_number') or '')
    return {'applicant_name': applicant.get('name'),
            'id_number_masked': mask_id_number(number) if number else None}


def start_instance(process_key, township, data, actor, business_key=None, prepare=None):
    """Start a case; `prepare(instance, data)` runs inside the same transaction (access rules use it)."""
    definition = repository.latest(process_key)
    moment = now()
    data = dict(data or {}, township=township)
    try:
        workflow = engine().new(definition, data)
        try:
            with engine().one_write():
                engine().advance(workflow)
            state = engine().dump(workflow)
        except (JiuzhuError, EngineFailure):
            raise
        except Exception as exc:
            # Nothing exists yet to hold in an incident: the start is refused and nothing is created.
            failure = describe(exc, workflow)
            where = f'「{failure.element_name or failure.element}」' if failure.element else ''
            raise Invalid(f'流程在{where}出错，案件未创建：{failure.message} (process error at start, nothing was created)',
                          failure.as_details(), code='process_error') from None
        instance = ProcessInstance(
            definition_id=definition.id, definition=definition, process_key=definition.key,
            business_key=business_key, township=township, status='running', summary=_summary(data),
            id_hash=crypto.active().applicant_hash(data), name_hash=crypto.active().applicant_name_hash(data),
            state=state, started_by=actor, created_at=moment, updated_at=moment)
        db.session.add(instance)
        db.session.flush()
        case_members.record(instance, data)     # 近亲属回避 of every member (services/case_members.py)
        if prepare is not None:
            prepare(instance, data)
        save(instance, workflow, actor, 'start', CaseRows(), state=state, process=definition.key,
             version=definition.version)
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
    return write.fire_due_timers(instance_id)


def get_instance(instance_id):
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f'没有编号为 {instance_id} 的案件 (no such case)', code='instance_not_found')
    return instance


def case_data(instance_id):
    """The case's current data (see engine.tasks.current_data)."""
    _, workflow = _load(instance_id)
    return current_data(workflow)


def extend_deadline(instance_id, timer_bpmn_id, working_days, reason, actor, note=None):
    """Move a waiting deadline to `working_days` working days after the case's acceptance.

    The grounds and the longest total are the diagram's (the timer's `extensionForm`,
    services/case_rules.py): `reason` is a ground's code or its wording; `note` is free text for
    the file. The new due time, the old one and the grounds go into the audit log.
    """
    from .. import calendar
    from ..engine.timers import TimerEventDefinition, reschedule_timer, waiting_timer_task
    from .case_rules import check_extension

    ground, wording = check_extension(get_instance(instance_id).definition, timer_bpmn_id, working_days, reason, note)
    change = {}

    def act(workflow):
        task = waiting_timer_task(workflow, timer_bpmn_id)
        if task is None:
            raise Conflict(f'案件 {instance_id} 没有正在计时的期限 {timer_bpmn_id}（未开始、已到期或已取消）'
                           f' (no waiting timer with this id)', code='timer_not_waiting')
        last = workflow.last_task.data if workflow.last_task is not None else {}
        accepted_at = task.data.get('accepted_at') or last.get('accepted_at')
        if not accepted_at:
            raise Conflict('案件尚未受理，无法从受理日起计算时限 (the case has no accepted_at)', code='not_accepted')
        due = calendar.add_working_days(accepted_at, working_days)
        old_due = reschedule_timer(task, due)
        if TimerEventDefinition.get_datetime(due) <= old_due:
            raise Conflict(f'延期后的期限 {due} 不晚于原期限 {old_due.isoformat()} (an extension must move the deadline later)',
                           code='extension_not_later')
        change.update(accepted_at=accepted_at, previous_due=old_due.isoformat(), due=due)

    instance, _ = write_case(instance_id, actor, 'extend_deadline', act, timer=timer_bpmn_id,
                             working_days=working_days, ground=ground, reason=wording,
                             note=note, change=change)
    return instance
