"""Named filter sets per person for the task and case lists (保存的筛选)."""
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import SavedFilter
from ..models.lists import SAVED_LISTS
from . import access
from .context import now
from .worklists import CaseFilters, TaskFilters

MAX_PER_LIST = 30
MAX_NAME = 60
PARSERS = {'tasks': TaskFilters, 'cases': CaseFilters}


def _list_name(list_name):
    if list_name not in SAVED_LISTS:
        raise NotFound('没有这个列表 (no such list)')
    return list_name


def for_list(user, list_name):
    access.require_case_reader(user)
    return db.session.scalars(select(SavedFilter).where(
        SavedFilter.username == user.username, SavedFilter.list_name == _list_name(list_name))
        .order_by(SavedFilter.name)).all()


def _name(name):
    name = (name or '').strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid(f'请填写筛选名称（不超过 {MAX_NAME} 个字）(name required, at most {MAX_NAME} characters)',
                      details={'name': '请填写筛选名称'}, code='validation_error')
    return name


def _query(list_name, args):
    """The filters of `args` as stored: only what the list itself accepts, checked like the list does."""
    return urlencode(sorted(PARSERS[list_name].from_args(args).as_args().items()))


def save(user, list_name, name, args):
    """Save the filters in `args` under `name` (the same name again replaces them)."""
    access.require_case_reader(user)
    query = _query(_list_name(list_name), args)
    name = _name(name)
    row = db.session.scalar(select(SavedFilter).where(
        SavedFilter.username == user.username, SavedFilter.list_name == list_name, SavedFilter.name == name))
    if row is None:
        count = db.session.scalar(select(func.count()).select_from(SavedFilter).where(
            SavedFilter.username == user.username, SavedFilter.list_name == list_name))
        if count >= MAX_PER_LIST:
            raise Invalid(f'每个列表最多保存 {MAX_PER_LIST} 个筛选，请先删除不用的 (at most {MAX_PER_LIST})',
                          details={'name': '已达上限'}, code='validation_error')
        row = SavedFilter(username=user.username, list_name=list_name, name=name, query=query, created_at=now())
        db.session.add(row)
    else:
        row.query = query
    db.session.commit()
    return row


def args_of(row):
    return dict(parse_qsl(row.query))


def get(user, filter_id):
    """One of the user's own saved filters (anyone else's is a 404 like a missing one)."""
    row = db.session.get(SavedFilter, filter_id)
    if row is None or row.username != user.username:
        raise NotFound('没有这个保存的筛选 (no such saved filter)', code='saved_filter_not_found')
    return row


def update(user, filter_id, name=None, args=None):
    """Rename a saved filter and/or replace its filters (409 if the new name is taken on its list)."""
    row = get(user, filter_id)
    if args is not None:
        row.query = _query(row.list_name, args)
    if name is not None and _name(name) != row.name:
        taken = db.session.scalar(select(SavedFilter.id).where(
            SavedFilter.username == user.username, SavedFilter.list_name == row.list_name,
            SavedFilter.name == name.strip()))
        if taken is not None:
            db.session.rollback()
            raise Conflict('已有同名的保存筛选 (a saved filter of this name exists)', code='name_taken')
        row.name = name.strip()
    db.session.commit()
    return row


def delete(user, filter_id):
    row = get(user, filter_id)
    db.session.delete(row)
    db.session.commit()
    return row
