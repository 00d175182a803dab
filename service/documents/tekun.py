"""What the 特困人员救助供养 notices say beyond the common parts (`notices.build`).

Pure, like notices.py. Decisions recorded here:

- Before and after the reform the decision is a confirmation (确认, 民发〔2021〕43号 art. 16-18),
  whoever makes it: the county before, the entrusted township after. The issuer still follows
  the lane of the task that recorded the decision (notices.build).
- Support starts the month after the confirmation (art. 17, "从确认之日下月起"); the month
  comes from the decision date, the notice form's month only when no decision date is known.
- The care level (照料护理等级) is the one the decision table set from the self-care assessment
  (art. 20-22): the notice prints what the case holds, not a free-text repetition.
- A minor's case was not publicised: the notice says so instead of naming a publicity.
"""
from . import wording

# (key, title, 文号代字, category, the key its task's form records under): see categories.py
KINDS = (
    ('tekun_approval_notice', '特困人员救助供养确认通知书', '特', 'tekun', None),
    ('tekun_rejection_notice', '特困人员救助供养不予确认通知书', '不特', 'tekun', None),
)
SUPPORT_MODES = {'scattered': '分散供养', 'centralized': '集中供养'}


def _steps(data):
    steps = [name for key, name in (('survey', '入户调查'), ('verification', '家庭经济状况核对'),
                                    ('democratic_review', '民主评议'), ('publicity_started_at', '村（社区）公示'),
                                    ('self_care', '生活自理能力评估')) if data.get(key)]
    return '、'.join(steps)


def facts(kind, data, recorded, decided):
    """Template values of a tekun notice: `recorded` is what the notice task's form holds."""

    decision = data.get('decision') if isinstance(data.get('decision'), dict) else {}
    out = {'verb': '确认', 'decided_on': wording.format_date(decided), 'steps': _steps(data),
           'publicised': bool(data.get('publicity_started_at')),
           'care_level_name': data.get('care_level_name') or '',
           'self_care_ability': data.get('self_care_ability') or ''}
    if kind == 'tekun_rejection_notice':
        out['reasons'] = wording.reasons(decision.get('reasons'), recorded.get('reason'))
        return out
    start = wording.next_month(decided)
    recorded_start = str(recorded.get('start_month') or '')
    if start is None and len(recorded_start) == 7:
        start = (int(recorded_start[:4]), int(recorded_start[5:]))
    out.update(support_mode=SUPPORT_MODES.get(decision.get('support_mode'), ''),
               amount=wording.format_amount(decision.get('amount')),
               care_amount=wording.format_amount(decision.get('care_amount')),
               start_month=wording.format_month(*start) if start else '',
               certificate_no=str(recorded.get('certificate_no') or '').strip())
    return out
