"""Households after the decision (issue 13): the register, its dated amounts, periodic and reported reviews.

effects.py   the `household_effect` service operator: a decision's effect on the register
register.py  reading households: one, a township's list, a case's household, a month's entitlement
schedule.py  when a household is next reviewed (processes/review_intervals.json, working days)
reviews.py   raising review cases: due ones (the scheduler) and reported changes (API, page)
"""
