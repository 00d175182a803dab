"""One household as people read it (page and API): members masked, status, amounts by month, its cases.

Reading a household is reading personal data: audited like a case's details. ID numbers are
masked everywhere here; the full numbers stay in the case the household came from.
"""
from ...extensions import db
from ..masking import mask_id_number
from .. import audit
from . import register, schedule
from .effects import today


def _yuan(fen):
    return round((fen or 0) / 100, 2)


def detail(user, household_id):
    household = register.get(user, household_id)
    month = schedule.month_of(today())
    members = [{'name': m.get('name') or '', 'relation': m.get('relation') or '',
                'id_number_masked': mask_id_number(m.get('id_number')) if m.get('id_number') else ''}
               for m in (household.members or [])]
    amounts = [{'effective_month': row.effective_month, 'amount': _yuan(row.amount_fen), 'change': row.change,
                'change_zh': register.CHANGE_ZH.get(row.change, row.change), 'reason': row.reason or '',
                'instance_id': row.instance_id} for row in register.amounts(household.id)]
    cases = [{'id': instance.id, 'role': link.role, 'role_zh': register.ROLE_ZH.get(link.role, link.role),
              'process_key': instance.process_key, 'process_name': instance.definition.name,
              'business_key': instance.business_key, 'status': instance.status, 'created_at': instance.created_at}
             for link, instance in register.cases(household.id)]
    audit.record(user.username, 'household_read', household_id=household.id)
    db.session.commit()
    return {
        'id': household.id, 'version': household.version, 'township': household.township,
        'village': household.village or '', 'category': household.category,
        'status': household.status, 'status_zh': register.STATUS_ZH.get(household.status, household.status),
        'review_type': household.review_type,
        'review_type_zh': register.REVIEW_TYPE_ZH.get(household.review_type, household.review_type),
        'head_name': household.head_name, 'head_id_number_masked': members[0]['id_number_masked'] if members else '',
        'size': household.size, 'members': members, 'amount': _yuan(household.amount_fen),
        'this_month': month, 'entitlement_this_month': _yuan(register.entitlement_fen(household.id, month)),
        'started_on': household.started_on, 'ended_on': household.ended_on, 'end_reason': household.end_reason or '',
        'next_review_on': household.next_review_on, 'phase_out_until': household.phase_out_until or '',
        'open_review': register.open_review(household.id), 'amounts': amounts, 'cases': cases,
    }


def summary(household):
    """A household in a list: the head's name, the size, the amount, no numbers."""
    return {'id': household.id, 'township': household.township, 'village': household.village or '',
            'category': household.category, 'status': household.status,
            'status_zh': register.STATUS_ZH.get(household.status, household.status),
            'head_name': household.head_name, 'size': household.size, 'amount': _yuan(household.amount_fen),
            'next_review_on': household.next_review_on}
