"""Pages of long lists: keyset cursors, a bounded offset and a capped total.

A list is read in a fixed order of a few columns (`Order`), the last of which is unique. The next
page starts after the last row of this one (`cursor`, handed out as `next`): one index range, as
cheap on the thousandth page as on the first. `page` keeps working for the first MAX_OFFSET rows.

Totals count at most TOTAL_CAP + 1 matching rows: a list of millions answers "1000+" (`capped`)
in milliseconds instead of counting every row each page (counting costs ≈ 10 µs a row along an
index: 10,000 rows would be most of a request). An exact count past a thousand helps nobody
paging by hand, and a planner estimate can be off by orders of magnitude under filters
(exclusions, townships), so the cap is exact below it and honest above it.
"""
import base64
import binascii
import json
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property

from sqlalchemy import Integer, and_, bindparam, false, func, literal, not_, or_, select

from ..errors import Invalid
from ..extensions import db
from . import statements

TOTAL_CAP = 1000
MAX_OFFSET = 10000


@dataclass(frozen=True)
class Key:
    column: object
    desc: bool = False
    nullable: bool = False        # NULLs sort last, whatever the direction
    kind: type = int              # int, str or datetime: how the cursor carries the value
    get: object = None            # row -> value, when the row holds several objects

    def clause(self):
        ordered = self.column.desc() if self.desc else self.column.asc()
        return ordered.nulls_last() if self.nullable else ordered

    def after(self, value):
        return self.column < value if self.desc else self.column > value

    def from_here(self, value):
        return self.column <= value if self.desc else self.column >= value


@dataclass(frozen=True)
class Order:
    keys: tuple
    value_of: object = field(default=None)   # row -> the object the key columns are read from

    def clauses(self):
        return self._clauses

    @cached_property
    def _clauses(self):
        # Built once per order: building the ORDER BY clauses cost more than the rest of a small list.
        return tuple(k.clause() for k in self.keys)

    def values(self, row):
        obj = self.value_of(row) if self.value_of else row
        return [k.get(row) if k.get else getattr(obj, k.column.key) for k in self.keys]


def order(*keys, value_of=None):
    return Order(tuple(keys), value_of)


@dataclass
class Page:
    items: list
    total: int
    capped: bool
    next: str | None


# What page_of derives from a statement built once (the task list per shape of its filters, the
# values bound: services/cases.py): its ordered form and its page with the limit and offset bound.
# A request then only binds values — building a statement and its cache key cost more than running
# a small list.
_DERIVED = weakref.WeakKeyDictionary()
_LIMIT = bindparam('page_limit', type_=Integer)
_OFFSET = bindparam('page_offset', type_=Integer)


def _derived(stmt, order_):
    found = _DERIVED.get(stmt)
    if found is None or found[0] is not order_:
        ordered = stmt.order_by(*order_.clauses())
        found = _DERIVED[stmt] = (order_, ordered, ordered.limit(_LIMIT).offset(_OFFSET))
    return found[1], found[2]


def page_of(stmt, order_, per_page, page=1, cursor=None, params=None, rows=False):
    """One page of `stmt` (filtered, not ordered) in `order_`: by cursor, or by page number.

    `params`: the values of a statement built once with bound parameters (it is kept with what is
    derived from it, see _DERIVED); None for a statement built for this request.
    `rows`: `stmt` selects columns and the page holds its rows as they are (attribute access by
    column name); the page by number is read through the session's connection (_read_rows)."""
    if cursor and page != 1:
        raise _invalid('page', '使用翻页游标 cursor 时不能同时指定页码 (cursor and page exclude each other)')
    offset = (page - 1) * per_page
    if offset >= MAX_OFFSET:
        raise _invalid('page', f'页码过大：按页码最多翻到第 {MAX_OFFSET:,} 条，之后请用上一页返回的 next 游标翻页 '
                               f'(page too deep for offsets: use the cursor in `next`)')
    if params is None:
        ordered, paged = stmt.order_by(*order_.clauses()), None
    else:
        ordered, paged = _derived(stmt, order_)
    if cursor:
        items = _after(ordered, order_, decode(cursor, order_), per_page + 1, params)
    elif paged is not None and rows:
        items = _read_rows(paged, {**params, 'page_limit': per_page + 1, 'page_offset': offset})
    elif paged is not None:
        items = list(db.session.execute(paged, {**params, 'page_limit': per_page + 1, 'page_offset': offset}).all())
    else:
        items = list(db.session.execute(ordered.limit(per_page + 1).offset(offset)).all())
    more = len(items) > per_page
    if cursor:
        total, capped = capped_count(ordered, params=params)
    else:
        total, capped = page_total(ordered, offset, items, per_page, params)
    items = items[:per_page] if rows else [_unwrap(r) for r in items[:per_page]]
    nxt = encode(order_.values(items[-1]), order_) if more and items else None
    return Page(items, total, capped, nxt)


def page_total(ordered, offset, rows, per_page, params=None):
    """(count, capped) of the list a page by number belongs to; `rows`: the page read with one row
    more than `per_page`. A page holding the list's last row counts nothing: the rows before it are
    the offset (a case's few tasks, most filtered lists) — the figure capped_count would give."""
    if len(rows) <= per_page and (rows or not offset):
        return _capped(offset + len(rows), TOTAL_CAP)
    return capped_count(ordered, params=params)


def capped_count(stmt, cap=None, params=None):
    """(count, capped): the exact count up to `cap` (TOTAL_CAP), else (cap, True).

    The statement keeps its list order: the first rows of the list are counted along the list's own
    index (where most rows match, a planner left free reads the table instead).
    """
    cap = TOTAL_CAP if cap is None else cap
    limited = stmt.with_only_columns(*stmt.selected_columns[:1]).limit(cap + 1).subquery()
    return _capped(db.session.scalar(select(func.count()).select_from(limited), params), cap)


def _capped(found, cap):
    return (cap, True) if found > cap else (found, False)


def _read_rows(stmt, params):
    """The rows of a statement of columns built once, straight to the driver (services/statements.py:
    what Session.execute and SQLAlchemy's execution do around it cost more than the driver's execute)
    for rows the ORM adds nothing to. Pending changes are flushed first, as the session's own execute would."""
    session = db.session()
    if session.autoflush:
        session.flush()
    connection = session.connection()
    names = tuple(sorted(params))
    prepared = statements.prepared(connection, ('page of', stmt, names), lambda: stmt, names)
    return statements.execute(connection, prepared, params, named=True).rows


def _unwrap(row):
    return row[0] if len(row) == 1 else tuple(row)


def _after(ordered, order_, values, limit, params=None):
    """Rows after `values`: one index range; a nullable first key continues into its NULLs (last)."""
    first = order_.keys[0]
    if values[0] is None:
        # Within the NULLs of the first key the next key leads the order: the range is on it.
        return list(db.session.execute(ordered.where(
            first.column.is_(None), _range_after(order_.keys[1:], values[1:])).limit(limit), params).all())
    rows = list(db.session.execute(ordered.where(_range_after(order_.keys, values)).limit(limit), params).all())
    if first.nullable and len(rows) < limit:
        rows += db.session.execute(ordered.where(first.column.is_(None)).limit(limit - len(rows)), params).all()
    return rows


def _range_after(keys, values):
    """The rows after `values` in the order of `keys`, in a shape the planner walks the list's index for.

    `first >= v` is the index condition, and the rows equal to v are sorted out by the rest of the keys.
    Two things in it are for the planner, which otherwise sorted the whole rest of a list for every
    page and batch (a bitmap scan and a sort, 350 ms a batch of a township's tasks at a million cases):
    - v is bound as a value computed at run time, (SELECT v), so the range is estimated as a share of
      the list, not from the column's statistics over the whole table: those see all tasks, and the
      ready ones are the newest, so "due after v" came out 100 times too small;
    - the ties are excluded as NOT (first = v AND NOT rest) rather than kept as first > v OR (…), which
      the planner multiplied with the range a second time.
    """
    first, value = keys[0], values[0]
    if len(keys) == 1:
        return first.after(value)
    bound = select(literal(value, first.column.type)).scalar_subquery()
    return and_(first.from_here(bound),
                not_(and_(first.column == value, not_(_rest_after(keys[1:], values[1:])))))


def _rest_after(keys, values):
    if not keys:
        return false()
    key, value = keys[0], values[0]
    return or_(key.after(value), and_(key.column == value, _rest_after(keys[1:], values[1:])))


# ------------------------------------------------------------------ cursors

def encode(values, order_):
    out = []
    for key, value in zip(order_.keys, values):
        out.append(value.astimezone(timezone.utc).isoformat() if isinstance(value, datetime) else value)
    raw = json.dumps(out, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    return base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=')


def decode(cursor, order_):
    """The values a cursor carries, checked against the order's kinds (422 on anything else)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + '=' * (-len(cursor) % 4))
        values = json.loads(raw.decode('utf-8'))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _bad_cursor() from None
    if not isinstance(values, list) or len(values) != len(order_.keys):
        raise _bad_cursor()
    out = []
    for i, (key, value) in enumerate(zip(order_.keys, values)):
        if value is None and (i == 0 and key.nullable):
            out.append(None)
        elif key.kind is datetime and isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
                parsed.astimezone(timezone.utc)     # a year the database cannot hold fails here too
            except (ValueError, OverflowError):
                raise _bad_cursor() from None
            if parsed.tzinfo is None:
                raise _bad_cursor()
            out.append(parsed)
        elif key.kind is int and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31:
            out.append(value)
        elif key.kind is str and isinstance(value, str) and len(value) <= 200 and '\x00' not in value:
            out.append(value)
        else:
            raise _bad_cursor()
    return out


def _bad_cursor():
    return _invalid('cursor', '翻页游标无效或已损坏，请从第一页重新翻页 (invalid cursor)')


def _invalid(name, message):
    return Invalid(message, details={name: message.split(' (')[0]}, code='validation_error')


def iter_batches(stmt, order_, limit, batch=500):
    """Lists of at most `batch` rows of `stmt` in `order_`, `limit` rows in all: each batch one
    index range after the last row of the one before (the same keyset paging as the pages).

    A batch is a small share of what the planner expects to remain (a third of the list, _range_after),
    so it walks the list's index rather than sorting the rest; 1,000 was too near that share on a small
    list, where the planner joined the whole case table instead (tests/test_list_plans.py)."""
    ordered = stmt.order_by(*order_.clauses())
    values, taken = None, 0
    while taken < limit:
        size = min(batch, limit - taken)
        rows = (list(db.session.execute(ordered.limit(size)).all()) if values is None
                else _after(ordered, order_, values, size))
        if not rows:
            return
        items = [_unwrap(r) for r in rows]
        yield items
        taken += len(items)
        if len(items) < size:
            return
        values = order_.values(items[-1])
