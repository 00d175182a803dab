"""The nightly cleanup job: abandoned uploads and drafts of finished tasks (services/cleanup.py).

Registered by runner.install on a real clock (03:30 Asia/Shanghai, and at start-up); `jiuzhu files
sweep` does the same by hand. Safe on several scheduler processes at once: each removal is guarded
(a row still unlinked, a task still finished), so two runs remove each thing once.
"""
import logging

from ..extensions import db
from ..services import cleanup

log = logging.getLogger('jiuzhu.scheduler')


def sweep_files(app):
    with app.app_context():
        try:
            result = cleanup.sweep()
        except Exception:
            db.session.rollback()
            log.exception('the cleanup of abandoned uploads and drafts failed')
            result = None
        if result and (result.uploads or result.drafts):
            log.info('cleanup: %d upload(s), %d draft(s) removed', len(result.uploads), result.drafts)
        db.session.remove()
        return result
