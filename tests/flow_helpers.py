"""What the flow tests of the real diagrams share: sample data and the moves of a case.

Each test module deploys only its own diagrams (`deployed_app`), drives the case through the
service layer and moves time only through the manual clock.
"""
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from SpiffWorkflow.util.task import TaskState

from service.extensions import db
from service.models import Task, Timer
from service.services import forms, repository, runtime, tasks

ROOT = Path(__file__).resolve().parent.parent

APPLICATION = {
    'applicant': {'name': '王秀兰', 'id_number': '11010519491231002X', 'phone': '13800000000',
                  'address': '第一街道幸福社区3号楼', 'household_size': 3},
    'authorization_signed': True, 'commitment_signed': True,
}
COMPLETE = {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}}
NOTICE = {'document_no': '扎民救〔2026〕1号', 'issued_on': '2026-09-28', 'delivery': 'in_person'}
SURVEY = {'survey': {'surveyed_on': '2026-09-29', 'investigators': ['李明', '赵强'], 'per_capita_income': 420,
                     'findings': '家庭无稳定收入', 'signed_by_applicant': True}}


def deployed_app(make_app, files):
    """An app (context pushed) with only `files` of processes/ deployed; use with `yield from`."""
    app = make_app()
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({name: tree[name] for name in files}, 'tester')
        yield app


def ready(case):
    return {t.bpmn_id: t for t in db.session.scalars(
        select(Task).where(Task.instance_id == case.id, Task.state == 'ready'))}


def timers(case, state=None):
    """Timer rows by BPMN id; when a timer ran more than once (a new publicity), the newest wins."""
    q = select(Timer).where(Timer.instance_id == case.id)
    if state:
        q = q.where(Timer.state == state)
    return {t.bpmn_id: t for t in db.session.scalars(q.order_by(Timer.id))}


def data_of(case, bpmn_id):
    """The data the ready task `bpmn_id` sees."""
    from service.services.write import _load
    _, workflow = _load(case.id)
    found = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == bpmn_id and t.state == TaskState.READY]
    assert found, bpmn_id
    return found[-1].data


def do(case, bpmn_id, data=None, actor='caseworker1'):
    """Complete a ready task the way the API does: the data must fit the task's form."""
    open_tasks = ready(case)
    assert bpmn_id in open_tasks, f'{bpmn_id} not ready; ready: {sorted(open_tasks)}'
    row = open_tasks[bpmn_id]
    form = forms.task_form(row)
    assert form is not None, f'{bpmn_id} has no form'
    forms.validate(form['schema'], data or {})
    tasks.complete_task(row.id, data or {}, actor)
    db.session.refresh(case)


def due(timer):
    return timer.due_at   # timer columns are always aware UTC


def fire_at(clock, case, moment):
    clock.set(moment.isoformat() if isinstance(moment, datetime) else moment)
    runtime.fire_due_timers(case.id)
    db.session.refresh(case)


# dibao_a (seed 001): the township's 社会救助领导小组 confirms collectively; the record names who sat.
COLLECTIVE = {'collective_review': {'held_on': '2026-10-12', 'members': [
    '姚东伟（镇长）', '赵红伦（副书记）', '李晓华（副镇长）', '柏忍（社会保障服务中心主任）', '宋涛（财政所所长）']}}
VERIFICATION_REQUEST = {'verification_request': {'requested_on': '2026-09-28', 'authorization_confirmed': True}}


def pre_verify(case, eligible=True, actor='caseworker1'):
    """dibao_a (seed 001): verification at the intention stage, on the applicant's authorization,
    before the acceptance check."""
    do(case, 'request_verification', VERIFICATION_REQUEST, actor=actor)
    runtime.deliver_message(case.id, 'verification_result',
                            {'eligible': eligible, 'report_no': 'HD-1', 'summary': '核对完毕'}, 'verifier1')
    from service.extensions import db as _db
    _db.session.refresh(case)


def surveyed_dibao_a():
    """A dibao_a case verified, accepted and surveyed: waiting for the township's decision, with its
    boundary timers and the finished verification subprocess behind it (the engine tests' material)."""
    case = runtime.start_instance('dibao_a', 't01', APPLICATION, 'caseworker1')
    pre_verify(case)
    do(case, 'check_materials', COMPLETE)
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    do(case, 'home_survey', SURVEY, actor='surveyor1')
    return case


def move_consent(category, consented=False, **more):
    """The consent form after a refusal (一次申请、分类审核认定): move to `category` or not."""
    data = {'category': category, 'informed_on': '2026-10-22', 'consented': consented, 'signed_by_applicant': True}
    if consented:
        data.update(documents_signed=True, phone='13800000000', household_size=1)
    return {'category_move': dict(data, **more)}


def decline_move(case, category):
    """After a refusal the applicant does not want to apply for the next category: the case ends."""
    assert 'move_consent' in ready(case)
    do(case, 'move_consent', move_consent(category))
