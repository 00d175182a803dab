"""Reads one case for the notices: its rows, the data each notice task saw, what its diagram says."""
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import TaskNotFoundException

from ..extensions import db
from ..models import ProcessInstance, Task
from ..services.context import engine, now
from ..services.write import load_workflow
from . import certificates, notices, townships
from .wording import SHANGHAI


def sequence(instance):
    """The case's number among its township's cases started in the same (Shanghai) year: the
    document number's 顺序号. Cases are never deleted, so it does not change once given."""
    year = instance.created_at.astimezone(SHANGHAI).year
    start = datetime(year, 1, 1, tzinfo=SHANGHAI)
    return db.session.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.township == instance.township, ProcessInstance.id <= instance.id,
        ProcessInstance.created_at >= start, ProcessInstance.created_at < start.replace(year=year + 1)))


def _case(instance):
    definition = instance.definition
    return {'id': instance.id, 'sequence': sequence(instance), 'status': instance.status,
            'created_at': instance.created_at,
            'business_key': instance.business_key, 'process_key': instance.process_key,
            'category': definition.category, 'variant': definition.variant,
            'version': definition.version, 'process_name': definition.name}


def _user_tasks(instance):
    spec, subs = engine().specs(instance.definition_id, lambda: instance.definition.spec_json)
    for process in (spec, *subs.values()):
        for task_spec in process.task_specs.values():
            if isinstance(task_spec, UserTask):
                yield task_spec.extensions.get('properties', {}), task_spec.lane


class CaseNotices:
    """Everything the two routes need, read once per request."""

    def __init__(self, instance):
        self.instance = instance
        self.case = _case(instance)
        self.rows = db.session.scalars(select(Task).where(Task.instance_id == instance.id)).all()
        self.workflow = load_workflow(instance)
        last = self.workflow.last_task
        self.data = dict(last.data if last is not None else self.workflow.data)
        self.diagram = notices.diagram_facts(_user_tasks(instance), engine().lanes)
        self.list = certificates.available(
            notices.available(self.case, self.data, self.rows, self.diagram['produced']))

    def listing(self):
        """The available notices with the number and date each one prints."""
        out = []
        for item in self.list:
            notice = self.notice(item['kind'])
            out.append(dict(item, document_no=notice['document_no'], issued_on=notice['issued_on']))
        return out

    def status(self, kind):
        return next((n['status'] for n in self.list if n['kind'] == kind), None)

    def data_for(self, kind):
        """The data the producing task saw (its own form included once completed): in a case that
        looped through a supplement, the one-time notice lists what was missing *then*."""
        row = notices.notice_tasks(self.rows).get(kind)
        return self.data if row is None else self.data_at(row)

    def data_at(self, row):
        """The data the task of `row` saw, its own form included: inside a subprocess (temporary aid's
        emergency branch) the case's newest data does not hold what the subprocess recorded yet."""
        try:
            task = self.workflow.get_task_from_id(UUID(row.id))
        except TaskNotFoundException:  # not in this tree (never expected): the newest data it is
            task = None
        if task is None:
            return {**self.data, **(row.data or {})}
        return {**task.data, **(row.data or {})}

    def notice(self, kind):
        status = self.status(kind)
        if status is None:
            return None
        if kind in certificates.KINDS:
            return certificates.build(kind, self.notice(certificates.KINDS[kind].source))
        today = now().astimezone(SHANGHAI).date()
        return notices.build(kind, self.case, self.data_for(kind), self.rows, status,
                             township=townships.township(self.instance.township),
                             district=townships.district(),
                             county_reexamines=self.diagram['county_reexamines'], today=today)
