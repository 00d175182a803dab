"""A case whose stored state cannot be loaded against its definition (damaged, or written for another
process: a bulk load that paired states and definitions wrongly did it at a million cases).

Reading it answers 409 with a message a person can act on, never a 500; writing to it holds the case
in an incident the county sees, as any other failure of the engine.
"""
from sqlalchemy import select, update

from service.extensions import db
from service.models import Incident, ProcessInstance, Task
from service.services import runtime

from .api_helpers import people  # noqa: F401  (fixture)


def damaged_case():
    """A core_case whose state is a one_timer case's: no task of it exists in core_case's spec."""
    case = runtime.start_instance('core_case', 't01', {'applicant': {'name': '张三'}}, 'cw1')
    other = runtime.start_instance('one_timer', 't01', {}, 'cw1')
    db.session.execute(update(ProcessInstance).where(ProcessInstance.id == case.id)
                       .values(state=db.session.get(ProcessInstance, other.id).state))
    db.session.commit()
    task_id = db.session.scalar(select(Task.id).where(Task.instance_id == case.id, Task.state == 'ready'))
    return case.id, task_id


def test_reading_a_case_whose_state_cannot_be_loaded_is_409(people):
    case_id, task_id = damaged_case()
    cw = people.client('cw1')
    for url in (f'/api/v1/tasks/{task_id}', f'/api/v1/instances/{case_id}/data'):
        r = cw.get(url)
        if r.status_code == 404:      # an endpoint this API does not have
            continue
        assert r.status_code == 409, (url, r.status_code, r.json)
        assert r.json['error'] == 'case_unreadable' and '无法读取' in r.json['message']


def test_writing_to_it_holds_the_case_in_an_incident(people):
    case_id, task_id = damaged_case()
    r = people.client('cw1').post(f'/api/v1/tasks/{task_id}/complete', json={'data': {'note': '齐全'}})
    assert r.status_code < 500, r.json
    db.session.expire_all()
    assert db.session.get(ProcessInstance, case_id).status == 'incident'
    incident = db.session.scalars(select(Incident).where(Incident.instance_id == case_id)).one()
    assert incident.kind == 'state_unreadable' and '无法读取' in incident.message
