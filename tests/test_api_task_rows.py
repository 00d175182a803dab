"""The task list's cheaper path gives the answers the ORM path gave.

The task list reads rows of the task table instead of Task entities (services/cases.list_tasks), and
query strings reach webargs as plain dicts when the schema has no list field (api/common.QueryParser).
"""
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser

from service.api.common import QueryParser
from service.extensions import db
from service.models import Task
from service.schemas.tasks import TaskSchema

from .api_helpers import people, ready_tasks, start_core  # noqa: F401  (fixtures)


def test_every_task_field_is_a_column_of_the_task_table():
    # A row has the table's columns only: a field read from a Task property would go missing silently.
    columns = set(Task.__table__.c.keys())
    for name, field in TaskSchema().fields.items():
        assert (field.attribute or name) in columns, name


def test_the_task_list_answers_what_the_task_entities_dump(people, test_app):
    cw = people['cw1']
    case = start_core(cw)
    accept = ready_tasks(cw, case['id'])['accept']
    assert cw.post(f"/api/v1/tasks/{accept['id']}/complete", json={'data': {'note': '已核实'}}).status_code == 200
    r = cw.get(f"/api/v1/tasks?instance_id={case['id']}&state=all&per_page=1")
    assert r.status_code == 200, r.json
    items = r.json['items']
    r2 = cw.get(f"/api/v1/tasks?instance_id={case['id']}&state=all&cursor={r.json['next']}")
    items += r2.json['items']
    assert {t['state'] for t in items} == {'completed', 'ready'}
    with test_app.app_context():
        expected = TaskSchema(many=True).dump([db.session.get(Task, t['id']) for t in items])
    assert items == expected


def test_a_query_string_is_read_as_before(test_app):
    class Plain(Schema):
        n = fields.Integer()

    class Listed(Schema):
        n = fields.List(fields.Integer())

    with test_app.test_request_context('/?n=1&n=2&other=x'):
        from flask import request
        for schema in (Plain(), Listed()):
            ours = QueryParser().parse(schema, request, location='query')
            assert ours == FlaskParser().parse(schema, request, location='query')
        assert QueryParser().parse(Plain(), request, location='query') == {'n': 1}
        assert QueryParser().parse(Listed(), request, location='query') == {'n': [1, 2]}


def test_a_repeated_list_argument_takes_its_first_value(people):
    cw = people['cw1']
    case = start_core(cw)
    r = cw.get(f"/api/v1/tasks?instance_id={case['id']}&per_page=1&per_page=7&state=all")
    assert r.status_code == 200, r.json
    assert r.json['per_page'] == 1
