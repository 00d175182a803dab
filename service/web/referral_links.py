"""The case page's links between a refused case and the case it moved to (services/referrals.py)."""
from ..services import referrals
from .fmt import CATEGORY_NAMES


def referrals_of_case(instance_id):
    """The moves from and to a case, worded for its page (no English in what a caseworker reads)."""
    out = []
    for move in referrals.links(instance_id):
        out.append(dict(move, category_zh=CATEGORY_NAMES.get(move['category'], move['category']),
                        other_category_zh=CATEGORY_NAMES.get(move['other_category'], ''),
                        error_zh=(move['error'] or '').split(' (')[0]))
    return out
