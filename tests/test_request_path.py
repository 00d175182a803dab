"""The statements of one task completion over HTTP, pinned: the request path must not grow.

`POST /api/v1/tasks/<id>/complete` reads the session, the task (with its exclusion and form), the case with
its rows, writes the case, its task and timer rows and the audit entry, and commits: one pool
checkout and one transaction, no ping before it, no read-back after it.
"""
import pytest
from sqlalchemy import event

from service.extensions import db

from .api_helpers import people, ready_tasks, start_core  # noqa: F401  (fixtures)

# Statements sent through the driver for one completion.
# Lower them when the path gets leaner; never raise them without a reason in the commit message.
# +1 since forms are kept with each definition version (issue 10): the form is read from the case's
# version, one SELECT of the definition before the write (its content is cached by digest).
# +1 each for dropping the task's drafts (services/drafts.discard_in_write) in the same transaction.
# -2 (issue 14): the task row, the caller's exclusion and the case's definition with its forms are
# read in one statement (services/cases._task).
# The forms of the case's version are not read with the task: they are kept by digest in each process
# after its first read of that version (the test opens the task first, as a caseworker does).
# +1 (issue 14): the reform page's step counts (step_count, services/steps.py) change with every
# completion: one upsert for its rows, instead of a 30 s window over the task rows per page view.
# -1 (issue 14): the drafts' DELETE is sent only when the task has drafts (read with the case's open
# tasks, models/casework.Task.has_drafts); these tasks have none.
# -2 on PostgreSQL (issue 14): the audit chain's lock, its last row and the insert are one call
# (models/audit_append.py).
# -1 (issue 14): the task row and the caller's exclusion are read with the case inside the write
# (services/cases.complete); the case's version is known by id (services/forms.task_form_of_version).
# -1 on PostgreSQL (issue 14): the count deltas go with the chain's append, in its call (migration 0032).
# -2 on PostgreSQL (issue 14): the case row, the completed task row and the new ones are written by one
# statement, each in its WITH (services/row_writes.py).
# -1 on PostgreSQL (issue 14): the chain's append, the COMMIT and the wait for the disk go together in
# psycopg's pipeline mode (services/audit._append_pg), past SQLAlchemy: the append is not counted here.
BUDGET = {
    'sqlite': {'accept': 9, 'survey': 8},
    'postgresql': {'accept': 3, 'survey': 3},
}


class Recorder:
    def __init__(self, engine):
        self.statements, self.checkouts = [], 0
        self.engine = engine
        event.listen(engine, 'before_cursor_execute', self._statement)
        event.listen(engine.pool, 'checkout', self._checkout)

    def _statement(self, conn, cursor, statement, params, context, executemany):
        self.statements.append(' '.join(statement.split()))

    def _checkout(self, *args):
        self.checkouts += 1

    def clear(self):
        self.statements, self.checkouts = [], 0

    def close(self):
        event.remove(self.engine, 'before_cursor_execute', self._statement)
        event.remove(self.engine.pool, 'checkout', self._checkout)


def test_one_http_completion_is_one_transaction_with_a_pinned_statement_count(people, test_app):
    cw, surveyor = people['cw1'], people['cw1b']
    case = start_core(cw)
    engine = db.engine
    assert not engine.pool._pre_ping, 'a ping per checkout costs a round trip per request (config.engine_options)'
    budget = BUDGET[engine.dialect.name]
    recorder = Recorder(engine)
    try:
        for who, bpmn_id in ((cw, 'accept'), (surveyor, 'survey')):
            task = ready_tasks(cw, case['id'])[bpmn_id]
            # A worker reads a definition version's forms once (forms.load keeps them by digest): the
            # caseworker opens the task before completing it, so the count is the one of every later
            # completion whichever tests ran before in this process.
            assert who.get(f"/api/v1/tasks/{task['id']}").status_code == 200
            db.session.remove()     # a new request starts with an empty session, as under gunicorn
            recorder.clear()
            r = who.post(f"/api/v1/tasks/{task['id']}/complete", json={'data': {'note': '已核实'}})
            assert r.status_code == 200, r.json
            # The answer is the row as the write left it, not a second read.
            assert (r.json['state'], r.json['completed_by']) == ('completed', who.username)
            listing = '\n'.join(s[:120] for s in recorder.statements)
            assert recorder.checkouts == 1, f'{bpmn_id}: {recorder.checkouts} pool checkouts\n{listing}'
            # The exclusion is read once, in the statement that reads the case with its open task rows.
            assert sum('case_exclusion' in s for s in recorder.statements) == 1, listing
            opened = recorder.statements[1]
            assert 'case_exclusion' in opened and opened.startswith('SELECT process_instance.'), listing
            assert len(recorder.statements) <= budget[bpmn_id], f'{bpmn_id}: more statements than pinned\n{listing}'
            assert not any(s.startswith(('SELECT task.', 'SELECT process_definition.')) for s in recorder.statements), \
                f'{bpmn_id}: the task row or the case version read apart\n{listing}'
            assert not any('task_draft' in s and not s.startswith('SELECT process_instance.') for s in recorder.statements), \
                f'{bpmn_id}: drafts looked for apart from the case\n{listing}'
    finally:
        recorder.close()


def test_a_cases_task_list_is_the_token_and_one_statement(people, test_app):
    """`GET /api/v1/tasks?instance_id=…` (what a caseworker asks before each completion): the session
    row, then the page itself; a page holding the whole list needs no count (services/listing.py)."""
    cw = people['cw1']
    case = start_core(cw)
    recorder = Recorder(db.engine)
    try:
        for _ in range(2):       # the second time from the statements built once
            db.session.remove()
            recorder.clear()
            r = cw.get(f"/api/v1/tasks?instance_id={case['id']}&per_page=5")
            assert r.status_code == 200 and r.json['items'] and r.json['total'] == len(r.json['items'])
            listing = '\n'.join(s[:120] for s in recorder.statements)
            assert recorder.checkouts == 1 and len(recorder.statements) == 2, listing
            assert 'user_session' in recorder.statements[0] and 'count(' not in listing.lower(), listing
    finally:
        recorder.close()


def test_the_forms_of_a_version_are_read_once_per_process_and_still_checked(people, test_app):
    """The task is read without its version's forms: a process reads them on the first use of that
    version (kept by digest, services/forms.py), and every completion is still checked against them."""
    from service.services import forms
    cw = people['cw1']
    case = start_core(cw)
    task = ready_tasks(cw, case['id'])['accept']
    forms._cache.clear()
    recorder = Recorder(db.engine)
    try:
        db.session.remove()
        r = cw.post(f"/api/v1/tasks/{task['id']}/complete", json={'data': {'note': 5}})
        assert r.status_code == 422 and 'note' in r.json['details'], r.json
        assert sum(s.startswith('SELECT process_definition.') and 'forms' in s for s in recorder.statements) == 1
        recorder.clear()
        db.session.remove()
        r = cw.post(f"/api/v1/tasks/{task['id']}/complete", json={'data': {'note': '已核实'}})
        assert r.status_code == 200, r.json
        assert not any('process_definition' in s for s in recorder.statements), recorder.statements
    finally:
        recorder.close()


@pytest.mark.parametrize('flag, expected', [({}, False), ({'JIUZHU_POOL_PRE_PING': '1'}, True)])
def test_the_pool_ping_is_off_unless_asked_for(make_app, flag, expected):
    app = make_app(**flag)
    with app.app_context():
        assert db.engine.pool._pre_ping is expected
        assert db.engine.pool._recycle > 0


def test_a_short_audit_or_incident_page_is_not_counted_and_a_long_one_is(people, test_app):
    """The audit log and incident lists page by number (cases.paginate): a page holding the list's last
    row knows its total without a count statement; a page with more after it still counts them."""
    sup = people['sup']
    case = start_core(people['cw1'])
    recorder = Recorder(db.engine)
    try:
        for path, counted in ((f"/api/v1/audit?instance_id={case['id']}&per_page=100", False),
                              ('/api/v1/incidents', False),
                              ('/api/v1/audit?per_page=1', True)):
            db.session.remove()
            recorder.clear()
            r = sup.get(path)
            assert r.status_code == 200, r.json
            listing = '\n'.join(s[:120] for s in recorder.statements)
            assert ('count(' in listing.lower()) is counted, listing
            if not counted:
                assert r.json['total'] == len(r.json['items'])
        assert r.json['total'] > 1 and len(r.json['items']) == 1
    finally:
        recorder.close()
