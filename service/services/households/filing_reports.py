"""The monthly roster and payment cases (monthly_roster, monthly_payment: typed in by the township and
the county) against the household records, figure by figure (seed 002: 人数、金额…相一致).

For a township and month: the newest completed 报送名册 whose `roster_month` is that month and the
newest 资金发放 whose `payment_month` is, read from their task rows (the completed forms); every
figure they state is compared with what `filing.build` derives from the dated amounts. The county's
whole-district view compares each township that has households or reports. An empty list: they agree.
"""
from sqlalchemy import select

from ...extensions import db
from ...models import Household, ProcessInstance, Task
from . import filing

# (process, task, form key, month field): where each typed report lives.
SOURCES = {'roster': ('monthly_roster', 'submit_roster', 'roster_report', 'roster_month'),
           'payment': ('monthly_payment', 'confirm_payment', 'payment', 'payment_month')}
SOURCE_ZH = {'roster': '报送名册', 'payment': '资金发放'}
# (source, field, label, the expected figure from the built roster); a field the report left empty is not compared.
FIGURES = (
    ('roster', 'households', '保障户数', lambda r: r['totals']['households']),
    ('roster', 'persons', '保障人数', lambda r: r['totals']['persons']),
    ('roster', 'total_amount', '月发放总额（元）', lambda r: r['totals']['amount']),
    ('roster', 'new_households', '本月新增户数', lambda r: len(r['changes']['new'])),
    ('roster', 'exited_households', '本月退出户数', lambda r: len(r['changes']['exited'])),
    ('roster', 'adjusted_households', '本月调整金额户数', lambda r: len(r['changes']['adjusted'])),
    ('payment', 'paid_households', '发放户数（含发放失败）', lambda r: r['totals']['households']),
    ('payment', 'total_amount', '发放总额（元）', lambda r: r['totals']['amount']),
)


def _reports(source, townships, month):
    """{township: (case id, the report)}: the newest completed report of `month` per township."""
    process, task, key, month_field = SOURCES[source]
    stmt = (select(Task.township, Task.instance_id, Task.data).join(ProcessInstance, ProcessInstance.id == Task.instance_id)
            .where(ProcessInstance.process_key == process, Task.bpmn_id == task, Task.state == 'completed')
            .order_by(Task.completed_at, Task.instance_id))
    if townships is not None:
        stmt = stmt.where(Task.township.in_(townships))
    found = {}
    for township, instance_id, data in db.session.execute(stmt):
        report = (data or {}).get(key)
        if isinstance(report, dict) and report.get(month_field) == month:
            found[township] = (instance_id, report)          # ordered: the newest wins
    return found


def _figure(report, source, field):
    value = report.get(field)
    if source == 'payment' and field == 'paid_households' and value is not None:
        value += report.get('failed_households') or 0
    return value


def compare(user, township, month, roster=None):
    """[{township, source, source_zh, instance_id, field, label, expected, reported, problem}]:
    problem `not_reported` (no report of the month) or `figure` (a figure differs). `roster`: the
    caller's `filing.build(user, township, month)` when it has built it already (the page has)."""
    first = roster or filing.build(user, township, month)     # checks the caller's scope and the month
    townships = [township] if township is not None else None
    reports = {source: _reports(source, townships, month) for source in SOURCES}
    if townships is None:
        with_households = set(db.session.scalars(select(Household.township).distinct()))
        townships = sorted(with_households | {t for found in reports.values() for t in found})
    problems = []
    for code in townships:
        roster = first if township is not None else filing.build(user, code, month)
        for source in SOURCES:
            found = reports[source].get(code)
            if found is None:
                if roster['payment']:       # something was due to be reported
                    problems.append({'township': code, 'source': source, 'source_zh': SOURCE_ZH[source],
                                     'instance_id': None, 'field': None, 'label': '未报送', 'expected': None,
                                     'reported': None, 'problem': 'not_reported'})
                continue
            instance_id, report = found
            for src, field, label, expected_of in FIGURES:
                reported = _figure(report, source, field) if src == source else None
                if reported is None:
                    continue
                expected = expected_of(roster)
                if round(float(reported), 2) != round(float(expected), 2):
                    problems.append({'township': code, 'source': source, 'source_zh': SOURCE_ZH[source],
                                     'instance_id': instance_id, 'field': field, 'label': label,
                                     'expected': expected, 'reported': reported, 'problem': 'figure'})
    return problems
