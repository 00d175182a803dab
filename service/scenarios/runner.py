"""Run scenarios through the real services: start, complete, message, move the clock, then compare.

Each step goes through what the API calls (services/cases.py), as a user of the step's role in the
scenario's township, so forms, lane roles, separation of duties and message rules apply exactly as
for a person. Time moves only on the app's manual clock, and due timers fire as the scheduler fires
them (runtime.fire_due_timers). The first step or expectation that does not hold ends the scenario,
named with the element where it diverged.
"""
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from .. import calendar
from ..errors import JiuzhuError
from ..extensions import db
from ..models import ProcessInstance, Task, Timer, User
from ..services import access, cases, exclusions, forms, repository, runtime
from ..services.context import engine
from ..services.users import COUNTY_ROLES
from .trace import Recorder

SHANGHAI = timezone(timedelta(hours=8))


class Diverged(Exception):
    def __init__(self, message, element=None):
        super().__init__(message)
        self.message = message
        self.element = element


@dataclass
class Result:
    file: str
    process: str
    name: str
    passed: bool
    message: str = ''
    element: str | None = None
    path: list = field(default_factory=list)
    milliseconds: float = 0.0
    recorder: Recorder | None = None

    def as_dict(self):
        return {'file': self.file, 'process': self.process, 'name': self.name, 'passed': self.passed,
                'message': self.message, 'element': self.element, 'milliseconds': round(self.milliseconds, 1),
                'path': [element for element, _ in self.path]}


def _user(role, township, suffix=None):
    """A user of `role` (in `township` for township roles), made on first use."""
    county = role in COUNTY_ROLES
    username = f'scenario.{role}.{township if not county else "county"}' + (f'.{suffix}' if suffix else '')
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=username, role=role, password_hash='!',
                    township='county' if county else township, active=True, must_change_password=False)
        db.session.add(user)
        db.session.commit()
    return user


def _ready(instance):
    return db.session.scalars(select(Task).where(Task.instance_id == instance.id, Task.state == 'ready')
                              .order_by(Task.created_at, Task.id)).all()


def _where(instance):
    """Where a case stands, in words: its open tasks and the messages it waits for."""
    db.session.refresh(instance)
    if instance.status != 'running':
        return f'案件状态：{instance.status}'
    tasks = '、'.join(f'{t.name}（{t.bpmn_id}）' for t in _ready(instance)) or '无'
    waiting = '、'.join(instance.waiting_messages or []) or '无'
    return f'当前待办：{tasks}；等待消息：{waiting}'


def _start(scenario, user):
    """cases.start_case without the township's entrustment registry: a scenario tests the diagram."""
    access.check_start(user, scenario.township)
    definition = repository.latest(scenario.process)
    data = dict(scenario.start)
    form_name = forms.start_form_name(definition)
    if form_name:
        declared = {k: v for k, v in data.items() if k not in cases.START_EXTRA_FIELDS}
        forms.validate(forms.load(form_name, definition), declared, what='申请')
    if scenario.entrustment_phase:
        data['entrustment_phase'] = scenario.entrustment_phase   # as the registry's facts, after the form
    return runtime.start_instance(definition.key, scenario.township, data, user.username,
                                  business_key=scenario.business_key, prepare=exclusions.apply_exclusions)


def _after_working_days(moment, n):
    day = moment.astimezone(SHANGHAI)
    while n > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day.date()):
            n -= 1
    return day


def _wait(instance, wait):
    clock = engine().clock
    (unit, amount), = wait.items()
    current = clock.now()
    if unit == 'working_days':
        target = _after_working_days(current, int(amount))
    elif unit in ('days', 'hours', 'minutes'):
        target = current + timedelta(**{unit: amount})
    elif unit == 'until':
        target = datetime.fromisoformat(amount)
    else:   # 'timer': just past the due time of a waiting timer of the case
        row = db.session.scalar(select(Timer).where(Timer.instance_id == instance.id, Timer.bpmn_id == amount,
                                                    Timer.state == 'waiting').order_by(Timer.id.desc()).limit(1))
        if row is None:
            raise Diverged(f'没有正在计时的「{amount}」，无法等到它到期；{_where(instance)}', amount)
        target = row.due_at + timedelta(seconds=1)
    if target > current:
        clock.set(target)
    runtime.fire_due_timers(instance.id)


def _describe(step):
    if 'complete' in step:
        return f'办理「{step["complete"]}」'
    if 'message' in step:
        return f'发送消息「{step["message"]}」'
    if 'wait' in step:
        (unit, amount), = step['wait'].items()
        return f'时钟前进（{unit} = {amount}）'
    if 'extend' in step:
        return f'延长时限「{step["extend"]}」'
    return '检查'


def _step(instance, scenario, step):
    role, suffix = step.get('as'), step.get('user')
    if 'complete' in step:
        wanted = step['complete']
        found = [t for t in _ready(instance) if wanted in (t.bpmn_id, t.name)]
        if not found:
            raise Diverged(f'任务「{wanted}」未就绪；{_where(instance)}', wanted)
        cases.complete(_user(role, scenario.township, suffix), found[0].id, step.get('data', {}))
    elif 'message' in step:
        cases.send_message(_user(role, scenario.township, suffix), instance.id, step['message'],
                           step.get('payload', {}))
    elif 'wait' in step:
        _wait(instance, step['wait'])
    elif 'extend' in step:
        cases.extend_deadline(_user(role, scenario.township, suffix), instance.id, step['extend'],
                              step.get('working_days'), step.get('reason'), step.get('note'))
    elif 'check' in step:
        _expect(instance, step['check'], None)
    db.session.refresh(instance)


def _run_step(instance, scenario, number, step):
    refused = step.get('refused')
    try:
        _step(instance, scenario, step)
    except Diverged as exc:
        raise Diverged(f'第 {number} 步（{_describe(step)}）：{exc.message}', exc.element) from None
    except JiuzhuError as exc:
        db.session.rollback()
        if refused and refused in (exc.code, exc.status, str(exc.status)):
            return
        element = step.get('complete') or step.get('message') or step.get('extend')
        raise Diverged(f'第 {number} 步（{_describe(step)}）被拒绝：{exc.message}'
                       + (f'（{exc.details}）' if exc.details else ''), element) from None
    if refused:
        raise Diverged(f'第 {number} 步（{_describe(step)}）：预期被拒绝（{refused}），却办理成功',
                       step.get('complete') or step.get('message'))


def _expect(instance, expect, recorder):
    db.session.refresh(instance)
    if 'status' in expect and instance.status != expect['status']:
        raise Diverged(f'预期案件状态为 {expect["status"]}，实际为 {instance.status}；{_where(instance)}')
    if 'end_event' in expect:
        if instance.status != 'completed':
            raise Diverged(f'预期在结束事件「{expect["end_event"]}」办结，案件却未办结；{_where(instance)}',
                           expect['end_event'])
        if recorder is not None and expect['end_event'] not in recorder.end_events:
            reached = '、'.join(sorted(recorder.end_events)) or '无'
            raise Diverged(f'预期在结束事件「{expect["end_event"]}」办结，实际到达：{reached}', expect['end_event'])
    if 'waiting_at' in expect:
        wanted = expect['waiting_at']
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        ready = sorted(t.bpmn_id for t in _ready(instance))
        if sorted(wanted) != ready:
            missing = [w for w in wanted if w not in ready]
            raise Diverged(f'预期停在 {"、".join(wanted) or "（无待办）"}；{_where(instance)}',
                           missing[0] if missing else (ready[0] if ready else None))
    if 'overdue' in expect and bool(instance.overdue) != bool(expect['overdue']):
        raise Diverged('预期' + ('已超期' if expect['overdue'] else '未超期') + '，实际' +
                       ('已超期' if instance.overdue else '未超期'))
    if recorder is not None:
        _expect_path(expect, recorder)


def _expect_path(expect, recorder):
    passed = recorder.path()
    ids = [element for element, _ in passed]
    position = 0
    for wanted in expect.get('path', []):
        try:
            position = ids.index(wanted, position) + 1
        except ValueError:
            before = ids[position - 1] if position else '开始'
            shown = ' → '.join(ids[max(position - 1, 0):][:12])
            raise Diverged(f'路径在「{before}」之后偏离：预期经过「{wanted}」，实际经过：{shown or "无"}', wanted) from None
    for unwanted in expect.get('not_passed', []):
        if unwanted in ids:
            raise Diverged(f'预期不经过「{unwanted}」，实际经过了', unwanted)


def run_scenario(scenario):
    """Run one scenario in the current app context; a Result, never an exception of the scenario's making."""
    began = time.perf_counter()
    recorder = Recorder()
    eng = engine()
    result = Result(scenario.file, scenario.process, scenario.name, passed=False, recorder=recorder)
    try:
        eng.clock.set(scenario.start_at)
        eng.trace = recorder
        try:
            instance = _start(scenario, _user(scenario.start_as, scenario.township))
        except JiuzhuError as exc:
            db.session.rollback()
            raise Diverged(f'无法发起案件：{exc.message}' + (f'（{exc.details}）' if exc.details else '')) from None
        for number, step in enumerate(scenario.steps, 1):
            _run_step(instance, scenario, number, step)
        _expect(instance, scenario.expect, recorder)
        result.passed = True
    except Diverged as exc:
        result.message, result.element = exc.message, exc.element
    except Exception as exc:        # a bug of the diagram or the service: reported, not raised
        db.session.rollback()
        result.message = f'运行出错：{type(exc).__name__}: {exc}'
    finally:
        eng.trace = None
        result.path = recorder.path()
        result.milliseconds = (time.perf_counter() - began) * 1000
    return result


def run_all(scenarios):
    return [run_scenario(s) for s in scenarios]
