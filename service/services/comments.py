"""Comments on a case (办理意见、沟通记录): anyone who may read the case adds and reads them.

The text is free, so it is stored encrypted and shown masked (an ID or phone number typed into
it appears as 110105********002X, services/masking.py), like every other free text in lists.
Adding one is audited with its length, not its text: the audit log is kept for years.
"""
from sqlalchemy import select

from ..errors import Invalid
from ..extensions import db
from ..models import CaseComment, ProcessInstance
from . import access, audit
from .context import now
from .masking import mask_text

MAX_CHARS = 2000


def _case(user, instance_id):
    instance = db.session.get(ProcessInstance, instance_id)
    access.check_case_contribute(user, instance, instance_id)
    return instance


def add(user, instance_id, body):
    instance = _case(user, instance_id)
    text = (body or '').strip() if isinstance(body, str) else ''
    if not text:
        raise Invalid('意见内容不能为空 (comment must not be empty)', details={'body': '请填写意见内容'},
                      code='validation_error')
    if len(text) > MAX_CHARS:
        raise Invalid(f'意见内容最多 {MAX_CHARS} 字 (comment too long)', details={'body': f'最多 {MAX_CHARS} 字'},
                      code='validation_error')
    row = CaseComment(instance_id=instance.id, author=user.username, body=text, created_at=now())
    db.session.add(row)
    db.session.flush()
    audit.record(user.username, 'comment', instance_id=instance.id, comment_id=row.id, chars=len(text))
    db.session.commit()
    return row


def list_for(user, instance_id):
    """[{id, author, body (masked), created_at}] of a case, oldest first."""
    instance = _case(user, instance_id)
    rows = db.session.scalars(select(CaseComment).where(CaseComment.instance_id == instance.id)
                              .order_by(CaseComment.id)).all()
    return [{'id': r.id, 'author': r.author, 'body': mask_text(r.body), 'created_at': r.created_at} for r in rows]
