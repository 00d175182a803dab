"""What the 低保边缘家庭 and 刚性支出困难家庭 notices say beyond the common parts (`notices.build`).

Pure, like notices.py. Decisions recorded here:

- One flow recognises either category (一次申请、分类审核认定): the notice names the category the case
  was decided on (`category_sought`, changed only with the applicant's consent), and says so when the
  household was moved there from the category it applied for.
- The decision is a written recognition (认定) or a written refusal with reasons (民政部《刚性支出困难
  家庭认定办法》; 扎政发〔2025〕13号「审核确认不通过的……书面告知申请人，并说明理由」).
- A 刚性 recognition is valid at most 12 months: the notice prints the term the case recorded
  (`valid_until`, computed in the diagram), and that the family applies again to continue.
- The certificate (认定证明) is printed under the decision, with the number the caseworker recorded.
"""
from . import wording

NAMES = {'marginal_dibao': '低保边缘家庭认定', 'rigid_expense': '刚性支出困难家庭认定'}
SHORT = {'marginal_dibao': '低保边缘家庭', 'rigid_expense': '刚性支出困难家庭', 'dibao': '最低生活保障',
         'tekun': '特困人员'}

# (key, title, 文号代字, category, the key its task's form records under)
KINDS = (
    ('marginal_dibao_recognition_notice', '低保边缘家庭认定决定书', '边', 'marginal_dibao', 'recognition_notice'),
    ('rigid_expense_recognition_notice', '刚性支出困难家庭认定决定书', '刚', 'rigid_expense', 'recognition_notice'),
    ('recognition_rejection_notice', '不予认定决定书', '不认', 'marginal_dibao', 'rejection_notice'),
)


def matter(category, data):
    """What the application is for, as the acceptance and other common notices name it."""
    return NAMES.get(data.get('category_sought')) or NAMES.get(category)


def _steps(data):
    steps = [name for key, name in (('survey', '入户调查'), ('verification', '家庭经济状况核对'),
                                    ('classified_category', '分类认定'), ('democratic_review', '民主评议'),
                                    ('publicity_started_at', '社区公示')) if data.get(key)]
    return '、'.join(steps)


def facts(kind, data, recorded, decided, ctx):

    decision = data.get('decision') if isinstance(data.get('decision'), dict) else {}
    sought = data.get('category_sought')
    if kind == 'marginal_dibao_recognition_notice':
        sought = 'marginal_dibao'
    elif kind == 'rigid_expense_recognition_notice':
        sought = 'rigid_expense'
    moved_from = data.get('category_applied')
    out = {'verb': '认定', 'decided_on': wording.format_date(decided), 'steps': _steps(data),
           'family': SHORT.get(sought, '低收入家庭'), 'matter': NAMES.get(sought, '低收入家庭认定'),
           'moved_from': SHORT.get(moved_from, '') if moved_from and moved_from != sought else '',
           'income_finding': data.get('income_band_name') or '',
           'rigid_finding': data.get('rigid_expense_finding') or '' if sought == 'rigid_expense' else '',
           'classification_reason': data.get('classification_reason') or ''}
    if kind == 'recognition_rejection_notice':
        out['title'] = f'{SHORT.get(sought, "")}不予认定决定书'
        out['reasons'] = wording.reasons(decision.get('reasons'), recorded.get('reason'))
        return out
    out.update(valid_from=wording.format_date(decided),
               valid_until=wording.format_date(data.get('valid_until')) if sought == 'rigid_expense' else '',
               certificate_no=str(recorded.get('certificate_no') or '').strip())
    return out
