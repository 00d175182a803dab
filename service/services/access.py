"""Who may see and do what: every authorization rule of the API and the web pages lives here.

Views call these checks and scopes and decide nothing themselves. Rules:

- township staff see and act only on their own township's cases; another township's case
  answers 404 exactly like a missing one, so its existence does not leak;
- county verifiers, county supervisors and admins see all townships; designers deploy
  definitions and do not read cases;
- a task is claimed and completed only by users of its lane's role (processes/lanes.json), so a
  task in the 镇街分管领导 lane — the confirmation — is only ever completed by a township leader;
  the completer is always the authenticated caller (严禁代签), and admin has no override;
- whoever completed a task named in a task's `separateFrom` property may not complete it;
- staff registered as close relatives of the applicant or of any member of the household (近亲属备案)
  are excluded from the case, also when registered after its start (services/exclusions.py).
"""
from sqlalchemy import bindparam, select
from sqlalchemy.orm import defer

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import ProcessInstance, Task, Timer, User
from . import case_rules
from .exclusions import EXCLUDED, is_excluded, not_excluded
from .users import COUNTY_ROLES, ROLE_NAMES, TOWNSHIP_ROLES

# The county disabled persons' federation (区残联) checks certificates for every township (两项补贴).
ALL_TOWNSHIPS_ROLES = frozenset({'county_verifier', 'county_supervisor', 'admin', 'disability_federation'})
CASE_READERS = TOWNSHIP_ROLES | ALL_TOWNSHIPS_ROLES
STARTERS = frozenset({'township_caseworker', 'village_assistant'})
DEPLOYERS = frozenset({'designer', 'admin'})
CLOCK_SETTERS = frozenset({'admin', 'county_supervisor'})
AUDIT_READERS = frozenset({'county_supervisor', 'admin'})
# Verifying walks the whole audit log (millions of rows): the administrator's check, not a page view.
AUDIT_VERIFIERS = frozenset({'admin'})
# The county's cross-township supervision pages (deadlines, per-township figures).
SUPERVISORS = frozenset({'county_supervisor', 'admin'})
USER_READERS = frozenset({'township_leader', 'county_supervisor', 'admin'})
RELATIVE_REGISTRARS = frozenset({'township_leader', 'county_supervisor', 'admin'})
# Incidents and the operator's actions on a case (retry, suspend, resume, terminate).
OPERATORS = frozenset({'county_supervisor', 'admin'})
# Extending a case's time limit (DOMAIN §3.3) is the confirming authority's decision.
DEADLINE_EXTENDERS = frozenset({'township_leader', 'county_supervisor'})
# The county bureau signs the 委托书 (seed 002): its supervisors and the administrator keep the registry.
ENTRUSTERS = frozenset({'county_supervisor', 'admin'})
# The township leader answers for what the township was entrusted with; caseworkers need not read it.
ENTRUSTMENT_READERS = ENTRUSTERS | frozenset({'township_leader', 'county_verifier'})



def _forbidden(message, code='forbidden'):
    return Forbidden(message, code=code)


def _require(user, roles, what):
    if user.role not in roles:
        raise _forbidden(f'当前角色无权{what} (role {user.role} may not do this)')


def sees_all_townships(user):
    return user.role in ALL_TOWNSHIPS_ROLES


def _case_not_found(instance_id):
    return NotFound(f'没有编号为 {instance_id} 的案件 (no such case)', code='instance_not_found')


def _task_not_found(task_id):
    return NotFound(f'没有这个待办任务 (no such task: {task_id})', code='task_not_found')


# ------------------------------------------------------------------ list scopes

# A list reads its cases without their engine state: decrypting and parsing it costs about a
# millisecond a row, which no list shows (an export of 50,000 cases spent most of its 20 s on it).
WITHOUT_STATE = defer(ProcessInstance.state)


def scope_instances(user, stmt):
    require_case_reader(user)
    if not sees_all_townships(user):
        stmt = stmt.where(ProcessInstance.township == user.township)
    return stmt.where(not_excluded(user, ProcessInstance.id))


def scope_tasks(user, stmt):
    require_case_reader(user)
    if not sees_all_townships(user):
        stmt = stmt.where(Task.township == user.township)
    return stmt.where(not_excluded(user, Task.instance_id))


# The caller's name and township as bound parameters, for statements built once (task_scope).
USERNAME = bindparam('username')
USER_TOWNSHIP = bindparam('user_township')


def task_scope(all_townships):
    """The conditions of scope_tasks with the caller bound (USERNAME, USER_TOWNSHIP: scope_values),
    for a list statement built once and kept (services/cases.py); the caller runs
    require_case_reader and picks `all_townships` by sees_all_townships."""
    conditions = [] if all_townships else [Task.township == USER_TOWNSHIP]
    return conditions + [not_excluded(None, Task.instance_id, username=USERNAME)]


def scope_values(user):
    return {'username': user.username, 'user_township': user.township}


def scope_timers(user, stmt):
    require_case_reader(user)
    if not sees_all_townships(user):
        stmt = stmt.where(Timer.township == user.township)
    return stmt.where(not_excluded(user, Timer.instance_id))


def scope_township(user, stmt, column, township=None):
    """Rows of the user's own township; a user who sees all townships gets the asked `township`, or all."""
    if not sees_all_townships(user):
        return stmt.where(column == user.township)
    return stmt.where(column == township) if township else stmt


def require_case_reader(user):
    _require(user, CASE_READERS, '查看案件')


# ------------------------------------------------------------------ cases

def check_instance_visible(user, instance, instance_id=None):
    """The case exists for this user (404 otherwise, also for another township's case)."""
    require_case_reader(user)
    if instance is None or (not sees_all_townships(user) and instance.township != user.township):
        raise _case_not_found(instance_id if instance is None else instance.id)


def check_instance_read(user, instance, instance_id=None):
    check_instance_visible(user, instance, instance_id)
    if is_excluded(user, instance.id):
        raise _forbidden(EXCLUDED, 'excluded')


def check_start(user, township):
    _require(user, STARTERS, '发起申请')
    if township != user.township:
        raise _forbidden('只能为本镇街发起申请 (only for your own township)', 'other_township')


def check_message(user, instance, name):
    check_instance_read(user, instance)
    if instance.status != 'running':
        raise Conflict(f'案件已结束（{instance.status}），不再接收消息 (case is not running)', code='not_running')
    # Who records which message is the diagram's word (its bpmn:message `senders`), per case version.
    _require(user, case_rules.message_senders(instance.definition, name), f'发送消息 {name}')


def check_extend_deadline(user, instance):
    check_instance_read(user, instance)
    if instance.status != 'running':
        raise Conflict(f'案件已结束（{instance.status}），不能延长时限 (case is not running)', code='not_running')
    _require(user, DEADLINE_EXTENDERS, '延长办理时限')


# ------------------------------------------------------------------ tasks

def check_task_read(user, task, task_id=None, excluded=None):
    """`excluded`: the exclusion as read in the statement that read the task row (services/cases.py);
    None reads it here."""
    require_case_reader(user)
    if task is None or (not sees_all_townships(user) and task.township != user.township):
        raise _task_not_found(task_id if task is None else task.id)
    if is_excluded(user, task.instance_id) if excluded is None else excluded:
        raise _forbidden(EXCLUDED, 'excluded')


def _check_can_work(user, task):
    """The rules shared by claim and complete: lane role, separation of duties, exclusion."""
    check_task_read(user, task)
    _check_lane(user, task)
    _check_separation(user, task)


def _check_lane(user, task):
    if task.role != user.role:
        raise _forbidden(f'任务「{task.name}」只能由{_role_zh(task.role)}办理 (task belongs to role {task.role})',
                         'wrong_role')


# Built once (the claim and the completion of a confirming task ask it): a request only binds values.
_DID_SEPARATE = select(Task.name).where(
    Task.instance_id == bindparam('instance_id'), Task.bpmn_id.in_(bindparam('separate', expanding=True)),
    Task.state == 'completed', Task.completed_by == bindparam('username')).limit(1)


def _check_separation(user, task):
    separate = [s.strip() for s in (task.properties or {}).get('separateFrom', '').split(',') if s.strip()]
    if separate:
        did = db.session.scalar(_DID_SEPARATE, {'instance_id': task.instance_id, 'separate': separate,
                                                'username': user.username})
        if did is not None:
            raise _forbidden(f'您已办理本案「{did}」，不能再办理「{task.name}」 (separation of duties: you completed '
                             f'{did})', 'separation_of_duties')


def _check_own_claim(user, task):
    if task.assignee and task.assignee != user.username:
        raise _forbidden(f'任务已由 {task.assignee} 认领，不能代为办理 (claimed by someone else; no proxy signing)',
                         'claimed_by_other')


def check_claim(user, task):
    _check_can_work(user, task)


def check_complete(user, task):
    _check_can_work(user, task)
    _check_own_claim(user, task)


def check_complete_before_form(user, task):
    """The rules of `check_complete` that need no query, for a task whose read this request checked
    (check_task_read): a clear 403 before the form is validated."""
    _check_lane(user, task)
    _check_own_claim(user, task)


def check_complete_in_write(user, task):
    """`check_complete` on the task row read with the case inside the write, for a task whose read this
    request checked already: the exclusion is fixed when the case starts, so it is not read again."""
    _check_lane(user, task)
    _check_separation(user, task)
    _check_own_claim(user, task)


def check_unclaim(user, task):
    check_task_read(user, task)
    if task.assignee == user.username:
        return
    if user.role == 'township_leader' and task.township == user.township:
        return
    raise _forbidden('只能退回自己认领的任务 (only your own claim can be given back)')


def check_assign(user, task, target):
    """A township leader assigns tasks of its township; a county supervisor assigns county-lane tasks."""
    check_task_read(user, task)
    county_lane = task.role in COUNTY_ROLES
    if not ((user.role == 'township_leader' and not county_lane) or (user.role == 'county_supervisor' and county_lane)):
        raise _forbidden('当前角色无权分派此任务 (may not assign this task)')
    if target is None or not target.active:
        raise NotFound('没有这个可用的用户 (no such active user)', code='user_not_found')
    if target.role != task.role:
        raise _forbidden(f'只能分派给{_role_zh(task.role)} (assignee must have role {task.role})', 'wrong_role')
    if not county_lane and target.township != task.township:
        raise _forbidden('只能分派给本镇街人员 (assignee must be of the same township)', 'other_township')
    if is_excluded(target, task.instance_id):
        raise _forbidden(f'{target.username} 是本案申请人或其家庭成员的近亲属，需回避 (assignee is excluded)', 'excluded')


def check_case_contribute(user, instance, instance_id=None):
    """Comments and attachments on a case: whoever may read the case may add to it (the county's
    remarks included); the additions are scoped like the case."""
    check_instance_read(user, instance, instance_id)


def check_pending_upload(user):
    """A file sent with a new application, before the case exists: only who may start one."""
    check_start(user, user.township)


def check_pending_read(user, uploaded_by):
    """A file not yet on any case is its uploader's alone (404 for anyone else)."""
    if uploaded_by != user.username:
        raise NotFound('没有这个附件 (no such attachment)', code='attachment_not_found')


def check_set_priority(user, task):
    """Township leaders order their township's work; county supervisors any township's."""
    check_task_read(user, task)
    if not ((user.role == 'township_leader' and task.township == user.township) or user.role == 'county_supervisor'):
        raise _forbidden('当前角色无权调整任务优先级 (may not change priority)')


def visible_users(user, stmt):
    _require(user, USER_READERS, '查看人员')
    if user.role == 'township_leader':
        stmt = stmt.where(User.township == user.township)
    return stmt


# ------------------------------------------------------------------ administration

def check_deploy(user):
    _require(user, DEPLOYERS, '部署流程')


def check_clock_set(user, clock):
    _require(user, CLOCK_SETTERS, '调整时钟')
    if not clock.manual:
        raise Conflict('系统时钟为真实时间，不能调整；只有测试和演示模式（JIUZHU_CLOCK=manual）可以调整 '
                       '(the clock is real; only a manual clock can be set)', code='clock_not_manual')


def check_supervision(user):
    _require(user, SUPERVISORS, '查看全区监管数据')


def check_entrust(user):
    _require(user, ENTRUSTERS, '登记或修改委托书')


def check_entrustment_read(user):
    _require(user, ENTRUSTMENT_READERS, '查看委托书')


def check_operate(user):
    _require(user, OPERATORS, '处理故障或挂起、恢复、终止案件')


def check_audit_read(user):
    _require(user, AUDIT_READERS, '查看审计日志')


def check_audit_verify(user):
    _require(user, AUDIT_VERIFIERS, '核验审计日志')


def check_register_relative(user, staff):
    _require(user, RELATIVE_REGISTRARS, '办理近亲属备案')
    if staff is None:
        raise NotFound('没有这个用户 (no such user)', code='user_not_found')
    if user.role == 'township_leader' and staff.township != user.township:
        raise NotFound('没有这个用户 (no such user)', code='user_not_found')


def _role_zh(role):
    return ROLE_NAMES.get(role, role or '（无）')


# ------------------------------------------------------------------ households (issue 13)

# Who reports a change in a household (event-driven review): the village and township staff who
# know the family, and the county (专项治理: doubtful data from the verification centre, seed 002).
CHANGE_REPORTERS = frozenset({'village_assistant', 'township_caseworker', 'township_leader', 'county_supervisor'})


def check_household_visible(user, household, household_id=None):
    """A household is seen like its township's cases: another township's answers 404."""
    require_case_reader(user)
    if household is None or (not sees_all_townships(user) and household.township != user.township):
        raise NotFound(f'没有编号为 {household_id if household is None else household.id} 的救助家庭 '
                       f'(no such household)', code='household_not_found')


def check_report_change(user, household):
    check_household_visible(user, household)
    _require(user, CHANGE_REPORTERS, '登记家庭情况变化')


def check_township_records(user, township):
    """A township's rosters and filings: its own staff and the county."""
    require_case_reader(user)
    if not sees_all_townships(user) and township != user.township:
        raise NotFound('没有这个镇街的名册 (no such township roster)', code='township_not_found')


# The county's yearly random spot check (抽查复核, seed 002): the bureau's supervisors draw it.
SPOT_CHECKERS = frozenset({'county_supervisor', 'admin'})


def check_spot_check(user):
    _require(user, SPOT_CHECKERS, '组织抽查复核')


# Reports and complaints (举报投诉, 12349): recorded by the township staff who receive them and by the
# county bureau that runs the hotline; read by those and the township leader.
COMPLAINT_RECORDERS = frozenset({'township_caseworker', 'township_leader', 'county_supervisor'})
COMPLAINT_READERS = COMPLAINT_RECORDERS | frozenset({'admin'})


def check_complaint_read(user):
    _require(user, COMPLAINT_READERS, '查看举报投诉')


def check_complaint_record(user, township):
    _require(user, COMPLAINT_RECORDERS, '登记举报投诉')
    if not township:
        raise Invalid('请选择举报涉及的镇街 (township required)', details={'township': '请选择镇街'},
                      code='township_required')
    if not sees_all_townships(user) and township != user.township:
        raise _forbidden('只能登记本镇街的举报 (only for your own township)', 'other_township')


def check_complaint_visible(user, complaint, complaint_id=None):
    """Another township's complaint answers 404 like a missing one."""
    check_complaint_read(user)
    if complaint is None or (not sees_all_townships(user) and complaint.township != user.township):
        raise NotFound(f'没有编号为 {complaint_id if complaint is None else complaint.id} 的举报 (no such complaint)',
                       code='complaint_not_found')


# The county's own supervision cases: written rectification orders, escalated reviews (提级复核).
OVERSIGHT = frozenset({'county_supervisor'})


def check_oversight(user):
    _require(user, OVERSIGHT, '下达整改意见或提级复核')
