"""What the 临时救助 notices say beyond the common parts (`notices.build`).

Pure, like notices.py. Decisions recorded here:

- Temporary aid's own data (intake, opinion, one-off amount) is not the 低保 procedure's: its
  acceptance notice says what follows acceptance for the aid type found at intake — the 急难型
  first aid without verification, democratic review or publicity (先行救助，事后补齐手续), the 支出型
  survey with verification — instead of the 低保 wording.
- A refusal after acceptance names who found the applicant ineligible: the decision (township
  leader or county), else the re-investigation of a publicity objection, else the township's
  opinion. A refusal at acceptance is the common 不予受理告知书, with the same remedies.
"""

from .wording import format_date, reasons
from ..datapath import at

# Its kinds are notices.py's own (the approval and rejection); categories.py reads KINDS of every module.
KINDS = ()
STEPS = (('survey', '入户调查'), ('verification', '家庭经济状况核对'), ('democratic_review', '民主评议'),
         ('publicity_started_at', '张榜公示'))

NEXT_STEPS = {
    'emergency': '你（户）遭遇的困难属于急难型情形，本机关将先行给予临时救助，免于家庭经济状况核对、民主评议和公示；'
                 '急难情况缓解后，本机关登记救助信息并补齐有关手续，请予以配合。',
    'expense': '本机关将依法组织入户调查，核实你（户）的家庭经济状况和支出情况，并提请区家庭经济状况核对机构开展核对。'
               '请你及共同生活的家庭成员如实提供有关情况；办理期间家庭人口、收入、财产状况发生变化的，应当及时告知本机关。',
}
AID_TYPE_NAMES = {'emergency': '急难型', 'expense': '支出型'}

# The legacy intake records only the hardship: the accident-like ones are the 急难型 of S5 §2(1).
HARDSHIP_AID_TYPES = {'accident': 'emergency', 'fire': 'emergency', 'illness': 'emergency',
                      'education': 'expense', 'medical': 'expense'}

HARDSHIP_NAMES = {
    'accident': '意外事件', 'fire': '火灾等灾害', 'illness': '突发重大疾病',
    'education': '教育支出骤增', 'medical': '医疗支出骤增', 'other': '其他特殊困难',
}

AID_METHOD_NAMES = {'cash': '发放临时救助金', 'goods': '发放实物', 'referral': '转介服务'}

# Before the reform the township investigates and the county approves, with no verification step.
LEGACY_NEXT_STEPS = ('本机关将依法组织入户调查，核实你（户）的家庭经济状况和致困情形，提出审核意见后报区民政局审批。'
                     '请你及共同生活的家庭成员如实提供有关情况，配合入户调查和邻里访问。')


def next_steps(data, legacy):
    """The acceptance notice's paragraph on what follows, by the aid type found at intake."""
    if legacy:
        return LEGACY_NEXT_STEPS
    aid_type = at(data, 'intake.aid_type')
    return NEXT_STEPS.get(aid_type, NEXT_STEPS['expense'])


def facts(data):
    """Aid type, hardship and the steps the case went through, as a temporary-aid notice says them."""
    intake = data.get('intake') if isinstance(data.get('intake'), dict) else {}
    hardship = intake.get('hardship')
    aid_type = intake.get('aid_type') or HARDSHIP_AID_TYPES.get(hardship)
    steps = [name for key, name in STEPS if data.get(key)]
    return {'aid_type': AID_TYPE_NAMES.get(aid_type, ''), 'hardship': HARDSHIP_NAMES.get(hardship, ''),
            'steps': '、'.join(steps)}


def refusal(data, decided_day):
    """Who found the applicant ineligible, when, and why (see the module's notes)."""
    decision = data.get('decision') if isinstance(data.get('decision'), dict) else {}
    if decision.get('approved') is False:
        return {'stage': 'decision', 'reasons': reasons(decision.get('reasons')),
                'decided_on': format_date(decision.get('decided_on') or decided_day)}
    if at(data, 'reinvestigation.conclusion') == 'ineligible':
        return {'stage': 'objection', 'reasons': reasons(at(data, 'reinvestigation.findings')),
                'decided_on': format_date(at(data, 'reinvestigation.investigated_on'))}
    return {'stage': 'opinion', 'reasons': reasons(at(data, 'opinion.reasons')),
            'decided_on': format_date(at(data, 'opinion.opinion_on'))}
