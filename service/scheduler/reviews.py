"""The daily job of dynamic management (动态管理): raise the households' due review cases.

What is due and how a review is started lives in services/households/reviews.py; this is only
the scheduler's entry: once a day (00:10 Asia/Shanghai) and at start-up on a real clock, on every
sweep with a manual clock (tests, demo), and after the demo clock moved (`catch_up`). Safe to run
on several scheduler processes at once: each review's business key is committed with its case.
"""
import logging

from ..extensions import db
from ..services import county_visits
from ..services.households import reviews

log = logging.getLogger('jiuzhu.scheduler')


def raise_due_reviews(app):
    with app.app_context():
        try:
            started = reviews.raise_due()
        except Exception:
            db.session.rollback()
            log.exception('raising the due household reviews failed')
            started = []
        try:   # the county's 100 % visits still missing (services/county_visits.py)
            started += [visit.business_key for visit in county_visits.sweep()]
        except Exception:
            db.session.rollback()
            log.exception('starting the county visits failed')
        if started:
            log.info('started %d household review(s): %s', len(started), ', '.join(started))
        db.session.remove()
        return started
