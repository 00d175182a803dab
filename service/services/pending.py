"""Things a transaction writes only when it commits (audit entries, supervision count deltas).

Each item is kept with the (sub)transaction it was made in: the innermost SAVEPOINT, else the
transaction itself. A SAVEPOINT rolled back takes its items (and those of savepoints inside it)
with it; one released hands them on to the transaction around it; the transaction's end drops
whatever is left. So the scheduler's batches (services/firing.py), one SAVEPOINT per case, write
the audit chain and the counts once per batch, at its commit, instead of once per case — and take
the locks that go with them (the chain's lock, the count rows) for the commit only, not for the
whole batch.
"""
from sqlalchemy import event
from sqlalchemy.orm import Session

KEY = 'jiuzhu.pending'


def _current(session):
    return session.get_nested_transaction() or session.get_transaction()


def add(session, kind, item):
    """Keep `item` (of `kind`) until the transaction commits; the session must be in a transaction."""
    session.info.setdefault(KEY, []).append((kind, _current(session), item))


def waiting(session, kind):
    """Whether items of `kind` wait for the commit."""
    return any(k == kind for k, _, _ in session.info.get(KEY) or ())


def take(session, kind):
    """The items of `kind` kept so far, removed from the session (at the outermost commit)."""
    kept = session.info.get(KEY)
    if not kept:
        return []
    session.info[KEY] = [k for k in kept if k[0] != kind]
    return [item for k, _, item in kept if k == kind]


def discard(session, kind):
    """Forget the items of `kind` (their effect is already in the database some other way)."""
    take(session, kind)


def _inside(transaction, ancestor):
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, 'after_soft_rollback')
def _drop_rolled_back(session, previous_transaction):
    kept = session.info.get(KEY)
    if kept:
        session.info[KEY] = [k for k in kept if not _inside(k[1], previous_transaction)]


@event.listens_for(Session, 'after_transaction_end')
def _drop_at_end(session, transaction):
    if transaction.parent is None:
        session.info.pop(KEY, None)
