"""The sweep's step for moves to the next category: start the cases the refusing cases recorded.

services/referrals.py starts each pending referral in a transaction of its own; this is only the
scheduler's entry, run after every timer sweep (every `JIUZHU_SWEEP_SECONDS`) and after the demo
clock moved. Safe on several scheduler processes at once: a referral is claimed before it starts.
"""
import logging

from ..extensions import db
from ..services import referrals

log = logging.getLogger('jiuzhu.scheduler')


def start_referrals(app):
    with app.app_context():
        try:
            outcomes = referrals.start_pending()
        except Exception:
            db.session.rollback()
            log.exception('starting the referred cases failed')
            outcomes = {}
        started = [i for i, outcome in outcomes.items() if outcome == 'started']
        if outcomes:
            log.info('referrals: %d started, %d failed', len(started),
                     sum(1 for o in outcomes.values() if o == 'failed'))
        db.session.remove()
        return started
