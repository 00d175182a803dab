"""Moving a running case onto another version of its process (the retry of an incident after a fix).

SpiffWorkflow aligns the old and new specs (`bpmn.util.diff`) and swaps the task specs; it does
not refuse a migration that removes a task the case is in (the case would be stuck for good,
SPIFFWORKFLOW.md pitfall 8), so that is checked here first.
"""
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class MigrationRefused(Exception):
    def __init__(self, elements):
        super().__init__('the new version removes steps this case is in: ' + ', '.join(elements))
        self.elements = elements


def _live_removed(diff):
    return [t.task_spec.bpmn_id or t.task_spec.name for t in diff.removed if t.has_state(LIVE)]


def migrate(registry, workflow, spec, subprocess_specs):
    """Re-point `workflow` at `spec`/`subprocess_specs`; failed (ERROR) tasks are reset to run again.

    Ready and waiting tasks keep their state (and a user task its id), so claims, task rows and
    timer due times survive; only the failed branch is re-predicted from the new spec.
    """
    top, subs = diff_workflow(registry, workflow, spec, subprocess_specs)
    removed = _live_removed(top)
    for sub_diff in subs.values():
        if sub_diff is not None:
            removed += _live_removed(sub_diff)
    if removed:
        raise MigrationRefused(removed)
    migrate_workflow(top, workflow, spec, reset_mask=TaskState.ERROR)
    for sp_id, sub_diff in subs.items():
        sub = workflow.subprocesses[sp_id]
        if sub_diff is not None:
            migrate_workflow(sub_diff, sub, subprocess_specs[sub.spec.name], reset_mask=TaskState.ERROR)
    workflow.subprocess_specs = subprocess_specs
