"""Named filter sets per person for the task and case lists (保存的筛选)."""
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select

from ..errors import Invalid, NotFound
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


def save(user, list_name, name, args):
    """Save the filters in `args` under `name` (the same name again replaces them)."""
    access.require_case_reader(user)
    filters = PARSERS[_list_name(list_name)].from_args(args)     # only what the list itself accepts
    name = (name or '').strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid(f'请填写筛选名称（不超过 {MAX_NAME} 个字）(name required, at most {MAX_NAME} characters)',
                      details={'name': '请填写筛选名称'}, code='validation_error')
    query = urlencode(sorted(filters.as_args().items()))
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


def delete(user, filter_id):
    row = db.session.get(SavedFilter, filter_id)
    if row is None or row.username != user.username:
        raise NotFound('没有这个保存的筛选 (no such saved filter)')
    db.session.delete(row)
    db.session.commit()
    return row
