"""A case's milestones: acceptance (受理) and decision (决定), stamped on the case row.

A user task whose diagram declares `spiffworkflow:property name="milestone"` with the value
`acceptance` or `decision` stamps the case when it is completed (services/sync.py calls `record`):
the first acceptance counts, the last decision counts (a re-examination decides again). The
working days between them are stored too, by the statutory calendar at the time of the decision,
so the county's median (受理至决定) is an aggregate over a column, not a walk over the cases.
"""
from .. import calendar

PROPERTY = 'milestone'


def record(instance, task_row, moment):
    kind = (task_row.properties or {}).get(PROPERTY)
    if kind == 'acceptance' and instance.accepted_at is None:
        instance.accepted_at = moment
    elif kind == 'decision':
        instance.decided_at = moment
    else:
        return
    instance.decision_days = decision_days(instance.accepted_at, instance.decided_at)


def decision_days(accepted_at, decided_at):
    if accepted_at is None or decided_at is None or decided_at < accepted_at:
        return None
    return calendar.working_days_between(accepted_at, decided_at)
