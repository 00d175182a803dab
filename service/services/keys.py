"""Key rotation: re-encrypt every encrypted column under the current data key (deploy/keys.md).

Rows are read raw (the stored text, not through the models' types), re-encrypted in Python and
written back with a guard that fails when someone changed the row meanwhile: a case under its
version column (UPDATE … WHERE version = :v, version + 1 — a writer holding the case gets a 409 as
with any concurrent change), a task row or a close relative under its old stored text. A row that
lost that race is taken again in the next pass. Batches commit one by one, so a rotation can be
stopped and started again: what is done stays done.
"""
import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import crypto
from ..engine.serializer import start_data
from ..extensions import db
from . import audit, case_members

BATCH = 200
PASSES = 5

_instances = sa.table('process_instance', sa.column('id', sa.Integer), sa.column('state', sa.Text),
                      sa.column('version', sa.Integer), sa.column('id_hash', sa.String),
                      sa.column('name_hash', sa.String))
_tasks = sa.table('task', sa.column('id', sa.String), sa.column('data', sa.Text))
_relatives = sa.table('close_relative', sa.column('id', sa.Integer), sa.column('id_number', sa.Text),
                      sa.column('id_hash', sa.String))
_drafts = sa.table('task_draft', sa.column('id', sa.Integer), sa.column('values', sa.Text))
_comments = sa.table('case_comment', sa.column('id', sa.Integer), sa.column('body', sa.Text))
_households = sa.table('household', sa.column('id', sa.Integer), sa.column('head_name', sa.Text),
                       sa.column('members', sa.Text), sa.column('head_id_hash', sa.String),
                       sa.column('version', sa.Integer))
_referrals = sa.table('case_referral', sa.column('id', sa.Integer), sa.column('data', sa.Text))
_complaints = sa.table('complaint', sa.column('id', sa.Integer), sa.column('reporter_name', sa.Text),
                       sa.column('reporter_contact', sa.Text), sa.column('content', sa.Text),
                       sa.column('feedback', sa.Text))

# (table, column, purpose): every encrypted column.
COLUMNS = ((_instances, 'state', 'process_instance.state'),
           (_tasks, 'data', 'task.data'),
           (_relatives, 'id_number', 'close_relative.id_number'),
           (_drafts, 'values', 'task_draft.values'),
           (_comments, 'body', 'case_comment.body'),
           (_households, 'head_name', 'household.head_name'),
           (_households, 'members', 'household.members'),
           (_referrals, 'data', 'case_referral.data'),
           (_complaints, 'reporter_name', 'complaint.reporter_name'),
           (_complaints, 'reporter_contact', 'complaint.reporter_contact'),
           (_complaints, 'content', 'complaint.content'),
           (_complaints, 'feedback', 'complaint.feedback'))
# Tables whose rows writers hold under a version column: the rewrite moves it on, so a writer that
# read the row before gets its usual 409 instead of writing back the old ciphertext's data.
_VERSIONED = (_instances, _households)


@dataclass
class Rotation:
    key_id: str
    rewritten: dict = field(default_factory=dict)   # table → rows re-encrypted
    conflicts: int = 0                              # rows changed meanwhile, retried in a later pass
    left: int = 0                                   # rows still not on the current key at the end
    files_missing: int = 0                          # attachment files the store lacks (`jiuzhu files check`)


def _stale(table, column, keyring):
    col = table.c[column]
    return sa.and_(col.is_not(None), sa.not_(col.like(f'{crypto.PREFIX}{keyring.current_id}:%')))


def _rewrite(keyring, table, column, purpose, row):
    """The UPDATE for one row, guarded so that it matches nothing if the row changed since it was read."""
    clear = keyring.decrypt(row.value, purpose)
    values = {column: keyring.encrypt(clear, purpose)}
    if table in _VERSIONED:
        values['version'] = table.c.version + 1
        guard = table.c.version == row.version
        if table is _instances:
            started = start_data(clear)
            values['id_hash'] = keyring.applicant_hash(started)
            values['name_hash'] = keyring.applicant_name_hash(started)
        elif column == 'members' and clear:
            # The head (本人) comes first (households/effects.py): its hash finds the household again.
            values['head_id_hash'] = keyring.id_hash(json.loads(clear)[0].get('id_number'))
    else:
        guard = table.c[column] == row.value
        if table is _relatives:
            values['id_hash'] = keyring.id_hash(clear)
    return table.update().where(table.c.id == row.id, guard).values(values)


def _pass(keyring, table, column, purpose, batch, rehash, result):
    col = table.c[column]
    wanted = [table.c.id, col.label('value')] + ([table.c.version] if table in _VERSIONED else [])
    condition = col.is_not(None) if rehash else _stale(table, column, keyring)
    last = None
    while True:
        stmt = sa.select(*wanted).where(condition)
        if last is not None:
            stmt = stmt.where(table.c.id > last)
        rows = db.session.execute(stmt.order_by(table.c.id).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            last = row.id
            if db.session.execute(_rewrite(keyring, table, column, purpose, row)).rowcount == 1:
                result.rewritten[table.name] = result.rewritten.get(table.name, 0) + 1
                if rehash and table is _instances:
                    # The household's hashes too (close-relative check of every member).
                    case_members.rehash(row.id, start_data(keyring.decrypt(row.value, purpose)), keyring)
            else:
                result.conflicts += 1
        db.session.commit()


def rotate(actor='cli', batch=BATCH, rehash=False):
    """Re-encrypt every row not yet under the current key (every row with `rehash`, after the search
    key changed: the ID hashes are recomputed with each row). Audited once, with the counts."""
    keyring = crypto.active()
    result = Rotation(keyring.current_id)
    for _ in range(PASSES):
        before = result.conflicts
        for table, column, purpose in COLUMNS:
            _pass(keyring, table, column, purpose, batch, rehash, result)
        if result.conflicts == before:
            break
    result.left = sum(n for (_, key), n in counts().items() if key != keyring.current_id)
    # The attachments' files too (photos of ID cards are personal data as much as the rows).
    from .attachments import rotate_files
    files, result.files_missing = rotate_files()
    if files:
        result.rewritten['attachment files'] = files
    audit.record(actor, 'keys_rotated', key_id=keyring.current_id, rewritten=result.rewritten,
                 conflicts=result.conflicts, left=result.left, rehash=rehash)
    db.session.commit()
    return result


def counts():
    """{(table.column, key id): rows} of every encrypted column; 'clear' for rows written before encryption."""
    tally = {}
    for table, column, _ in COLUMNS:
        col = table.c[column]
        for (head,) in db.session.execute(sa.select(sa.func.substr(col, 1, 40)).where(col.is_not(None))):
            name = (f'{table.name}.{column}', crypto.key_id_of(head) or 'clear')
            tally[name] = tally.get(name, 0) + 1
    return tally
