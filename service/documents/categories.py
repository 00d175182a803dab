"""The categories whose notices are their own (特困, 低保边缘/刚性支出, the subsidies): which kinds each
adds to the unified notices, how a notice names the matter applied for, and the facts of its notices.

notices.py asks here instead of naming the categories itself, so a new category adds a module and a
line in MODULES, not branches in notices.py.
"""
from . import household_notices, recognition, subsidies, tekun, temporary_aid

MODULES = {'tekun': tekun, 'marginal_dibao': recognition, 'rigid_expense': recognition,
           'disability_subsidy': subsidies, 'welfare_subsidy': subsidies, 'household_review': household_notices,
           'temporary_aid': temporary_aid}


def kinds(kind_class):
    """The Kind rows of every module: (key, title, 文号代字, category, record key)."""
    return [kind_class(key, title, code, decision=True, category=category, record=record)
            for module in dict.fromkeys(MODULES.values()) for key, title, code, category, record in module.KINDS]


def matter(category, data):
    """The matter applied for, in the words of the case (e.g. the subsidy chosen), or None."""
    named = getattr(MODULES.get(category), 'matter', None)
    return named(category, data) if named else None


def next_steps(category, data, legacy):
    """What the acceptance notice says follows acceptance, where the category says it (else None)."""
    said = getattr(MODULES.get(category), 'next_steps', None)
    return said(data, legacy) if said else None


def facts(kind, category, data, recorded, decided, ctx):
    """The template values of a notice of `category`'s own; may set the issuer in `ctx`."""
    module = MODULES[category]
    if module is tekun:
        return tekun.facts(kind, data, recorded, decided)
    if module is household_notices:
        return household_notices.facts(data)
    return module.facts(kind, data, recorded, decided, ctx)
