"""A case's steps, counted on its row as its tasks are completed (the reform page's figures).

The reform page compares the procedures before and after the delegation by steps per case,
hand-offs between roles and steps the county still does. Counting those from the task rows takes a
window over every completed task of the district (≈ 30 s at a million cases), so each completion
adds to the case row's own counters instead, in the completion's transaction; services/figures.py
keeps their sums per township and definition (step_count) as it keeps the other counts.

A hand-off is a step done by another role than the step before it, both steps having a role.
"""
from .users import COUNTY_ROLES


def record(instance, task_row):
    before = instance.last_role
    role = task_row.role or ''
    instance.steps_done = (instance.steps_done or 0) + 1
    if role in COUNTY_ROLES:
        instance.county_steps = (instance.county_steps or 0) + 1
    if before and role and role != before:
        instance.handoffs = (instance.handoffs or 0) + 1
    instance.last_role = role
