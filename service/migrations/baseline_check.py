"""Does an un-versioned database (made by `db.create_all()` before migrations) equal the baseline?

The baseline is built for the comparison on the same kind of database, so types compare exactly:
SQLite in memory; PostgreSQL in a scratch schema inside a transaction that is rolled back (the
migrating role owns the database, so it may create a schema). Both sides are read back with
SQLAlchemy's inspector and compared table by table; only the baseline's tables are looked at,
another application's tables in the same database are left alone.
"""
import re

from alembic import command
from sqlalchemy import create_engine, inspect, text

from .readiness import VERSION_TABLE

SCRATCH_SCHEMA = 'jiuzhu_baseline_check'

# aspect -> (Chinese, English) for the difference lines
_ASPECTS = {
    'columns': ('列', 'column'),
    'primary_key': ('主键', 'primary key'),
    'indexes': ('索引', 'index'),
    'unique': ('唯一约束', 'unique constraint'),
    'foreign_keys': ('外键', 'foreign key'),
    'triggers': ('触发器', 'trigger'),
}


def differences(connection):
    """Lines (Chinese, English in parentheses) saying how the database differs from the baseline."""
    actual = signature(connection)
    connection.rollback()
    return compare(baseline_signature(connection), actual)


def baseline_signature(connection):
    from .readiness import alembic_config
    from .runner import BASELINE
    if connection.dialect.name == 'sqlite':
        engine = create_engine('sqlite://')
        try:
            with engine.connect() as scratch:
                with scratch.begin():
                    command.upgrade(alembic_config(scratch), BASELINE)
                return signature(scratch)
        finally:
            engine.dispose()
    if connection.dialect.name != 'postgresql':
        raise RuntimeError(f'unsupported database: {connection.dialect.name}')
    transaction = connection.begin()
    try:
        connection.execute(text(f'CREATE SCHEMA {SCRATCH_SCHEMA}'))
        connection.execute(text(f'SET LOCAL search_path TO {SCRATCH_SCHEMA}'))
        command.upgrade(alembic_config(connection), BASELINE)
        return signature(connection, SCRATCH_SCHEMA)
    finally:
        transaction.rollback()


def signature(connection, schema=None):
    """{table: {aspect: {key: value}}} of the database, without names the database makes up."""
    insp = inspect(connection)
    tables = {}
    for table in insp.get_table_names(schema=schema):
        if table == VERSION_TABLE:
            continue
        columns = {c['name']: f"{c['type'].compile(dialect=connection.dialect)}"
                              f"{'' if c['nullable'] else ' NOT NULL'}"
                   for c in insp.get_columns(table, schema=schema)}
        pk = insp.get_pk_constraint(table, schema=schema)['constrained_columns']
        indexes = {ix['name']: ('UNIQUE ' if ix['unique'] else '') + ', '.join(map(str, ix['column_names']))
                   for ix in insp.get_indexes(table, schema=schema)}
        unique = {', '.join(u['column_names']): 'UNIQUE' for u in insp.get_unique_constraints(table, schema=schema)}
        fks = {', '.join(fk['constrained_columns']): f"{fk['referred_table']}({', '.join(fk['referred_columns'])})"
               for fk in insp.get_foreign_keys(table, schema=schema)}
        tables[table] = {'columns': columns, 'primary_key': {', '.join(pk): 'PRIMARY KEY'} if pk else {},
                         'indexes': indexes, 'unique': unique, 'foreign_keys': fks, 'triggers': {}}
    for table, name, definition in triggers(connection, schema):
        if table in tables:
            tables[table]['triggers'][name] = definition
    return tables


def triggers(connection, schema=None):
    """(table, trigger name, definition without schema names) of the database's triggers."""
    if connection.dialect.name == 'sqlite':
        rows = connection.execute(text("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger'"))
        return [(table, name, _squeeze(sql)) for table, name, sql in rows]
    rows = connection.execute(text("""
        SELECT c.relname, t.tgname, t.tgtype, p.proname, p.prosrc
        FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE NOT t.tgisinternal AND n.nspname = COALESCE(:schema, current_schema())
    """), {'schema': schema})
    return [(table, name, f'type {tgtype} {function}(): {_squeeze(source)}')
            for table, name, tgtype, function, source in rows]


def _squeeze(sql):
    return re.sub(r'\s+', ' ', sql or '').strip()


def compare(expected, actual):
    lines = []
    for table in sorted(expected):
        if table not in actual:
            lines.append(f'缺少表 {table} (missing table {table})')
            continue
        for aspect, (zh, en) in _ASPECTS.items():
            want, have = expected[table][aspect], actual[table][aspect]
            for key in sorted(set(want) | set(have)):
                if key not in have:
                    lines.append(f'表 {table} 缺少{zh} {key}: {want[key]} (table {table} lacks {en} {key})')
                elif key not in want:
                    lines.append(f'表 {table} 多出{zh} {key}: {have[key]} (table {table} has an extra {en} {key})')
                elif want[key] != have[key]:
                    lines.append(f'表 {table} 的{zh} {key} 为 {have[key]}，基线为 {want[key]} '
                                 f'(table {table}: {en} {key} is {have[key]}, the baseline has {want[key]})')
    return lines
