"""The one place the pages turn values into Chinese text: times (Asia/Shanghai), names of codes."""
import re
from datetime import datetime, timedelta, timezone

from ..services.users import ROLE_NAMES

SHANGHAI = timezone(timedelta(hours=8))
_ISO_INSTANT = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$')

CATEGORY_NAMES = {
    'dibao': '最低生活保障',
    'tekun': '特困人员救助供养',
    'temporary_aid': '临时救助',
    'marginal_dibao': '低保边缘家庭',
    'rigid_expense': '刚性支出困难家庭',
    'disability_subsidy': '残疾人两项补贴',
    'welfare_subsidy': '儿童和老年人补贴',
    'roster': '月度名册与发放',
    'household_review': '救助家庭复核',
    'spot_check': '抽查复核',
    'county_visit': '入户核查（近亲属备案、被举报）',
    'complaint': '举报投诉',
    'rectification': '书面整改',
    'escalated_review': '提级复核',
}
VARIANT_NAMES = {
    'legacy': '改革前（区县审批）',
    'delegated_a': '下放（镇街审核确认）',
    'delegated_b': '下放 B（初审意见公示）',
}
# Where a category has two delegated variants, A and B say how they differ (dibao: when publicity is).
CATEGORY_VARIANT_NAMES = {
    ('dibao', 'delegated_a'): '下放 A（审批后村内公示）',
    ('marginal_dibao', 'delegated_b'): '下放（镇街认定）',
    ('rigid_expense', 'delegated_b'): '下放（镇街认定）',
}
STATUS_NAMES = {'running': '办理中', 'incident': '流程故障', 'suspended': '已挂起', 'completed': '已办结',
                'terminated': '已终止', 'error': '出错', 'cancelled': '已撤销'}
TASK_STATE_NAMES = {'ready': '待办', 'completed': '已办理', 'cancelled': '已取消'}
TIMER_KIND_NAMES = {'deadline': '办理时限', 'wait': '等待期', 'start': '定时启动'}
TIMER_STATE_NAMES = {'waiting': '计时中', 'fired': '已到期', 'cancelled': '已取消'}
# A deadline's timer is cancelled when its task is done in time: that is a met deadline.
TIMER_STATE_BY_KIND = {
    ('deadline', 'cancelled'): '按期完成', ('deadline', 'fired'): '已超期',
    ('wait', 'cancelled'): '已中止', ('wait', 'fired'): '期满', ('start', 'fired'): '已启动',
}
ACTION_NAMES = {
    'start': '发起申请', 'complete': '办理', 'claim': '认领', 'unclaim': '退回认领', 'assign': '分派',
    'priority': '调整优先级', 'message': '收到消息', 'timers_fired': '计时器到期', 'extend_deadline': '延长时限',
    'completed': '办理完成', 'cancelled': '任务取消',
    'incident': '流程故障', 'retry': '重试', 'suspend': '挂起', 'resume': '恢复', 'terminate': '终止',
    'comment': '填写意见', 'attach': '上传附件', 'save_draft': '暂存表单',
    # Moves to the next category (services/referrals.py).
    'referral_recorded': '记录转入申请', 'referral_started': '转入申请已发起', 'referral_failed': '转入申请未能发起',
    'start_referred': '由转入申请发起',
    # Households and the county's visits (issue 13), recorded with the case they concern.
    'household_grant': '登记救助家庭', 'household_review': '登记复核结果',
    'county_visit_opened': '发起区民政局入户核查', 'close_relative_excluded': '登记近亲属后回避',
}
# What ran into an incident (Incident.trigger: the action of the write that failed).
TRIGGER_NAMES = {
    'complete': '办理任务', 'timers': '定时器到期', 'timers_fired': '定时器到期', 'message': '登记消息', 'retry': '重试',
    'resume': '恢复办理', 'extend_deadline': '延长时限', 'start': '发起申请', 'claim': '认领任务',
}
INCIDENT_KIND_NAMES = {
    'process_error': '流程步骤出错', 'step_limit': '自动步骤过多（流程可能在循环）',
    'case_too_large': '案件数据超过上限', 'timer_failed': '计时器出错',
}
RESOLUTION_NAMES = {'retried': '已重试', 'terminated': '已终止'}
MESSAGE_NAMES = {'verification_result': '家庭经济状况核对结果', 'objection': '公示异议',
                 'supplement_received': '补正材料'}
# Case data names that no form declares (processes/README.md, "Data names").
DATA_NAMES = {
    'township': '镇街', 'accepted_at': '受理时间', 'publicity_started_at': '公示开始时间',
    'investigation_completed_at': '入户调查完成时间', 'county_received_at': '区县收件时间',
    'verification': '核对结果', 'objection': '异议', 'supplement': '补正材料',
    'close_relative_of_staff': '近亲属备案人员',
    'period': '所属月份', 'period_start': '所属月份起始', 'next_period': '名册适用月份',
    'reported_at': '报送时间', 'paid_at': '发放时间',
    # The outputs of the temporary-aid ceiling decision table (processes/decisions/).
    'within_township_ceiling': '在镇街审核确认权限内', 'ceiling': '镇街审核确认上限（元）',
    # 低保边缘/刚性支出 (scripts and decision tables) and 两项补贴 (decision table).
    'category_sought': '认定类别', 'category_applied': '申请类别', 'classified_category': '分类认定结果',
    'classified_name': '分类认定结果名称', 'classification_reason': '分类认定理由', 'dibao_standard': '低保标准（元/月）',
    'disposable_income': '上年人均可支配收入（元）', 'standards_year': '标准年度', 'income_band': '收入比对结果',
    'income_band_name': '收入比对结果说明', 'rigid_expense_heavy': '刚性支出超过规定比例',
    'rigid_expense_finding': '刚性支出比对结果', 'valid_until': '认定有效期至', 'decided_at': '决定时间',
    'referred_at': '报送区残联时间', 'federation_returned_at': '区残联审核完毕时间',
    'living_subsidy_eligible': '可享受生活补贴', 'care_subsidy_eligible': '可享受护理补贴',
    # What the entrustment in force gave the case at its start (services/entrustments.py).
    'entrustment_phase': '委托阶段', 'entrustment_letter': '委托书文号',
    # The county's 100 % visit of a close relative's or a reported case (services/county_visits.py).
    'subject_instance_id': '被核查案件编号', 'subject_business_key': '被核查案件', 'visit_reason': '入户核查原因',
    'visit_reason_name': '入户核查原因说明',
    # A move to the next category (services/referrals.py): the refusing case and the new one.
    'referral_id': '转入申请编号', 'referred_from': '转自案件（编号）',
}
# Codes those scripts and tables write, as the case page shows them.
_CODES = dict(CATEGORY_NAMES, none='不符合')
DATA_VALUE_NAMES = {
    'category_sought': _CODES, 'category_applied': _CODES, 'classified_category': _CODES,
    'visit_reason': {'close_relative': '近亲属备案', 'reported': '被举报'},
    'entrustment_phase': {'preparation': '前期准备', 'transition': '下放过渡', 'full': '完全下放'},
    'income_band': {'below_dibao': '低于低保标准', 'below_marginal': '低于低保标准1.5倍',
                    'below_disposable': '低于上年人均可支配收入', 'above': '不低于上年人均可支配收入'},
}


def shanghai(moment):
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI)


def when(moment):
    """2026-09-28 09:00 (北京时间), or an empty string."""
    if not moment:
        return ''
    return shanghai(moment).strftime('%Y-%m-%d %H:%M')


def due(moment):
    """A due time; midnight reads as 24:00 of the day before, as the statutory time limits say it."""
    if not moment:
        return ''
    local = shanghai(moment)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return (local - timedelta(days=1)).strftime('%Y-%m-%d') + ' 24:00'
    return local.strftime('%Y-%m-%d %H:%M')


def when_input(moment):
    """The value of a datetime-local input in Shanghai time."""
    return shanghai(moment).strftime('%Y-%m-%dT%H:%M')


def weekday(moment):
    return '一二三四五六日'[shanghai(moment).weekday()]


def is_instant(value):
    return isinstance(value, str) and bool(_ISO_INSTANT.match(value))


def role(code):
    return ROLE_NAMES.get(code, code or '')


def township(code):
    """A township's short name for tables (城关镇), from the notices' one list of names when present."""
    if code == 'county':
        return '区级'
    try:
        from ..documents.townships import township as named
    except ImportError:
        return code or ''
    name = named(code)['name']
    for suffix in ('人民政府', '办事处'):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[:-len(suffix)]
    return name


def category(code):
    return CATEGORY_NAMES.get(code, '其他' if code else '')


def variant(code, category=None):
    if not code:
        return ''
    return CATEGORY_VARIANT_NAMES.get((category, code)) or VARIANT_NAMES.get(code, '其他方案')


def timer_state(timer):
    """What happened to a timer, in the words of its kind: a deadline met is 按期完成, not 已取消."""
    return TIMER_STATE_BY_KIND.get((timer.kind, timer.state)) or TIMER_STATE_NAMES.get(timer.state, '')


def definition(d, version=True):
    """A process as people name it: 最低生活保障审核确认（下放·方案A） · 第 2 版 — never its key."""
    if d is None:
        return ''
    parts = [d.name if d.name and d.name != d.key else category(d.category) or '流程']
    if version:
        parts.append(f'第 {d.version} 版')
    return ' · '.join(parts)


def status(code):
    return STATUS_NAMES.get(code, code or '')


def action(code):
    return ACTION_NAMES.get(code, code or '')


# Business keys of the cases the calendar starts (scheduler/monthly.py): <name>-<township>-<YYYY-MM>,
# <name> being the process key without its `monthly_` prefix.
_CALENDAR_KEY = re.compile(r'^([a-z][a-z0-9_]*)-([a-z0-9_]+)-(\d{4})-(\d{2})$')


def _process_name(key):
    from flask import g, has_request_context

    from ..errors import NotFound
    from ..services import repository
    names = g.setdefault('jiuzhu_process_names', {}) if has_request_context() else {}
    if key not in names:
        try:
            names[key] = repository.latest(key).name
        except NotFound:
            names[key] = None
    return names[key]


def process_names():
    """{process key: its name} of the deployed processes (exports name each row's process)."""
    from ..services import repository
    return {d.key: definition(d, version=False) for d in repository.list_definitions(latest_only=True)}


def case_no(business_key, instance_id=None):
    """A case as people call it: its business key, a calendar case by its process, township and month
    (月度保障金发放 · 城关镇 · 2026年11月, not payment-t01-2026-11), else 案件 N."""
    if not business_key:
        return f'案件 {instance_id}' if instance_id is not None else ''
    match = _CALENDAR_KEY.match(business_key)
    if match:
        name, code, year, month = match.groups()
        process = _process_name(f'monthly_{name}') or _process_name(name)
        if process:
            return f'{process} · {township(code)} · {year}年{int(month)}月'
    return business_key


def yes_no(value):
    return '是' if value else '否'


def working_days(value):
    if value is None:
        return '—'
    return f'{value:g} 个工作日'


def _lookup(names):
    return lambda code: names.get(code, code or '')


def install(app):
    """Register the formatters as `zh_*` Jinja filters (prefixed: other blueprints share the environment)."""
    filters = {'when': when, 'due': due, 'when_input': when_input, 'role': role, 'township': township, 'category': category,
               'variant': variant, 'status': status, 'action': action, 'yes_no': yes_no,
               'working_days': working_days, 'weekday': weekday,
               'timer_kind': _lookup(TIMER_KIND_NAMES), 'timer_state': timer_state, 'definition': definition, 'case_no': case_no,
               'task_state': _lookup(TASK_STATE_NAMES), 'message': _lookup(MESSAGE_NAMES),
               'trigger': _lookup(TRIGGER_NAMES), 'incident_kind': _lookup(INCIDENT_KIND_NAMES),
               'resolution': _lookup(RESOLUTION_NAMES)}
    app.jinja_env.filters.update({f'zh_{name}': f for name, f in filters.items()})
