""""Waits for one of these messages": one condition, compiled for each database.

`process_instance.waiting_for` holds the messages a case waits for as ",name,name,". A LIKE
'%,name,%' cannot use an index, so on PostgreSQL the condition is an array overlap on
`string_to_array(waiting_for, ',')`, which the GIN index `ix_instance_waiting` (migration 0025)
answers: the inbox's "cases awaiting your answer" reads a handful of rows instead of every running
case of the township. SQLite (the small site) keeps the LIKE.
"""
from sqlalchemy import Boolean, Index, func, literal, literal_column, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Text


class WaitsFor(ColumnElement):
    # The names are part of the cache key: a compiled statement is reused only for the same names,
    # so the values bound while compiling it are the right ones (a few name sets exist: the diagrams').
    _traverse_internals = [('column', InternalTraversal.dp_clauseelement), ('names', InternalTraversal.dp_plain_obj)]
    inherit_cache = True
    type = Boolean()

    def __init__(self, column, names):
        self.column = column
        self.names = tuple(names)


@compiles(WaitsFor)
def _like(element, compiler, **kw):
    return compiler.process(or_(*(element.column.contains(f',{n},', autoescape=True) for n in element.names)), **kw)


@compiles(WaitsFor, 'postgresql')
def _overlap(element, compiler, **kw):
    names = literal(list(element.names), ARRAY(Text))
    return compiler.process(_names_of(element.column).op('&&')(names), **kw)


def waits_for(column, names):
    return WaitsFor(column, names)


def _names_of(column):
    # The separator is written into the statement, not bound: the planner matches the index's
    # expression only when the query's is the same text (a bound ',' in a prepared plan is not).
    return func.string_to_array(column, literal_column("','"))


def waiting_index(column):
    """The GIN index the overlap uses; PostgreSQL only (SQLite has no arrays)."""
    return Index('ix_instance_waiting', _names_of(column),
                 postgresql_using='gin').ddl_if(dialect='postgresql')
