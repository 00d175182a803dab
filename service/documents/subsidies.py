"""What the 残疾人两项补贴 and the 儿童和老年人补贴 notices say beyond the common parts (`notices.build`).

Pure, like notices.py. Decisions recorded here:

- 两项补贴 count from the month the application was submitted (自递交申请当月计发, DOMAIN §7): the
  month comes from the application date, never from the decision.
- A refusal at the township's first check (初审) is the township's, even before the reform when the
  county decides the rest: the issuer follows who refused.
- The 儿童和老年人补贴 flow is one flow for four subsidies; the subsidy applied for (`subsidy_type`)
  names the matter and the notice's title. The month payment starts is the decision's.
"""
from . import wording

DISABILITY_KINDS = {'visual': '视力残疾', 'hearing': '听力残疾', 'speech': '言语残疾', 'physical': '肢体残疾',
                    'intellectual': '智力残疾', 'mental': '精神残疾', 'multiple': '多重残疾'}
GRADES = {1: '一级', 2: '二级', 3: '三级', 4: '四级'}
WELFARE_TYPES = {'orphan': '孤儿基本生活费', 'unsupported_child': '事实无人抚养儿童基本生活补贴',
                 'child_in_distress': '困境儿童生活补贴', 'elderly': '经济困难老年人补贴'}

KINDS = (
    ('disability_subsidy_approval_notice', '残疾人两项补贴审核确认通知书', '残', 'disability_subsidy',
     'approval_notice'),
    ('disability_subsidy_rejection_notice', '不予享受残疾人两项补贴告知书', '不残', 'disability_subsidy',
     'rejection_notice'),
    ('welfare_subsidy_approval_notice', '补贴审批通知书', '补', 'welfare_subsidy', 'approval_notice'),
    ('welfare_subsidy_rejection_notice', '不予批准补贴告知书', '不补', 'welfare_subsidy', 'rejection_notice'),
)


def matter(category, data):
    if category == 'welfare_subsidy':
        return WELFARE_TYPES.get(data.get('subsidy_type'), '儿童和老年人补贴')
    return '残疾人两项补贴' if category == 'disability_subsidy' else None


def _dict(data, key):
    return data.get(key) if isinstance(data.get(key), dict) else {}


def facts(kind, data, recorded, decided, ctx):

    decision, first = _dict(data, 'decision'), _dict(data, 'first_check')
    out = {'decided_on': wording.format_date(decided or first.get('checked_on'))}
    if kind.startswith('welfare_subsidy'):
        name = WELFARE_TYPES.get(data.get('subsidy_type'), '补贴')
        out.update(subsidy=name, verb='批准', guardian=str(data.get('guardian') or '').strip())
        if kind == 'welfare_subsidy_rejection_notice':
            out.update(title=f'不予批准{name}告知书',
                       reasons=wording.reasons(decision.get('reasons'), recorded.get('reason')))
            return out
        month = str(decision.get('start_month') or '')
        out.update(title=f'{name}审批通知书', amount=wording.format_amount(decision.get('amount')),
                   start_month=wording.format_month(int(month[:4]), int(month[5:])) if len(month) == 7 else '')
        return out
    check = _dict(data, 'federation_check')
    out.update(verb='确认', disability=DISABILITY_KINDS.get(check.get('disability_kind'), ''),
               grade=GRADES.get(check.get('disability_grade'), ''))
    if kind == 'disability_subsidy_rejection_notice':
        at_first_check = first.get('passed') is False
        if at_first_check:   # the township's own first check ended the case
            ctx['issuer'] = ctx['township_name']
        out.update(at_first_check=at_first_check, reasons=wording.reasons(
            decision.get('reasons'), first.get('reasons') if at_first_check else None, recorded.get('reason')))
        return out
    applied = wording.to_date(_dict(data, 'application').get('applied_on'))
    living = data.get('living_subsidy_eligible') and decision.get('living_amount')
    care = data.get('care_subsidy_eligible') and decision.get('care_amount')
    out.update(start_month=wording.format_month(applied.year, applied.month) if applied else '',
               living_amount=wording.format_amount(living) if living else '',
               care_amount=wording.format_amount(care) if care else '')
    return out
