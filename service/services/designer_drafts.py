"""Designer drafts: the bundle a designer edits in the browser modeler, kept until deployed.

A draft is one designer's files ({bundle path: text}: the diagram opened and the decision tables
edited with it) under the path of the diagram opened. Saving replaces the whole set; validation and
the preview take exactly these files, as an upload of them would be taken (bundles.normalize).
"""
from sqlalchemy import select

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import DesignerDraft
from . import bundles, repository
from .context import now

EDITABLE = ('.bpmn', '.dmn')


def _clean(path):
    cleaned = bundles.clean_path(path)
    if not cleaned or not cleaned.lower().endswith(EDITABLE):
        raise Invalid('草稿的文件路径无效 (invalid draft path)', details={'path': path}, code='invalid_draft')
    return cleaned


def _files(files):
    if not isinstance(files, dict) or not files or not all(isinstance(t, str) for t in files.values()):
        raise Invalid('草稿应包含至少一个流程或决策表文件 (draft needs files: {path: text})',
                      details={'files': '必填'}, code='invalid_draft')
    for path in files:
        _clean(path)
    return bundles.normalize([(path, text.encode('utf-8')) for path, text in files.items()])


def get(username, path, missing_ok=False):
    row = db.session.scalar(select(DesignerDraft).where(DesignerDraft.username == username,
                                                        DesignerDraft.path == _clean(path)))
    if row is None and not missing_ok:
        raise NotFound(f'没有这个草稿：{path} (no such draft)', code='draft_not_found')
    return row


def mine(username):
    return db.session.scalars(select(DesignerDraft).where(DesignerDraft.username == username)
                              .order_by(DesignerDraft.updated_at.desc())).all()


def save(username, path, files, base_definition_id=None):
    """Create or replace the designer's draft of `path`; returns the row."""
    path, files = _clean(path), _files(files)
    if path not in files:
        raise Invalid('草稿中缺少打开的流程文件 (the draft must hold the diagram it is named after)',
                      details={'path': path}, code='invalid_draft')
    row = get(username, path, missing_ok=True)
    if row is None:
        row = DesignerDraft(username=username, path=path)
        db.session.add(row)
    row.files, row.base_definition_id, row.updated_at = files, base_definition_id, now()
    db.session.commit()
    return row


def delete(username, path):
    row = get(username, path, missing_ok=True)
    if row is not None:
        db.session.delete(row)
        db.session.commit()


def validate(files):
    """{ok, problems, warnings} of a bundle as the deploy would check it (nothing is stored)."""
    try:
        the_plan = repository.bundle_plan(repository.processes_dir(), _files(files))
    except Invalid as exc:
        problems = exc.details if isinstance(exc.details, list) else []
        return {'ok': False, 'message': exc.message, 'problems': problems, 'warnings': []}
    return {'ok': True, 'message': '', 'problems': [], 'warnings': [w.as_dict() for w in the_plan.warnings]}
