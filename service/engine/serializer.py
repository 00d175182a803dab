"""Case state without the process spec: the spec is stored once per definition version.

SpiffWorkflow embeds the whole spec in every serialized workflow (about half of a case's size
and a third of its load time). The converter below leaves it out and takes the spec objects,
restored once per version and cached, when a case is loaded.
"""
import json
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import (BpmnSubWorkflowConverter, BpmnWorkflowConverter,
                                                            WorkflowConverter)
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .compaction import compact, restore_marks
from .state_json import parse_state, state_text
from .tree_state import ID_TEXTS, Ids, NotCanonical, id_texts, tasks_from_dict, tasks_to_dict, typed_values_possible

FORMAT_KEY = 'serializer_version'


def _workflow_dict(converter, workflow):
    """WorkflowConverter.to_dict in the registry's encoder mode, the task tree in one pass (tree_state)."""
    registry = converter.registry
    return {
        'data': registry.convert(registry.clean(workflow.data)),
        'correlations': workflow.correlations,
        'last_task': str(workflow.last_task.id) if workflow.last_task is not None else None,
        'success': workflow.success,
        'completed': workflow.completed,
        'tasks': tasks_to_dict(workflow, registry.convert, id_texts(workflow)),
        'root': str(workflow.task_tree.id),
    }


class CaseSubWorkflowConverter(BpmnSubWorkflowConverter):

    def to_dict(self, workflow):
        if not self.registry._encoder_mode:
            return super().to_dict(workflow)
        dct = _workflow_dict(self, workflow)
        dct['parent_task_id'] = str(workflow.parent_task_id)
        dct['spec'] = workflow.spec.name
        return dct


class CaseConverter(BpmnWorkflowConverter):

    def to_dict(self, workflow):
        if self.registry._encoder_mode:
            dct = _workflow_dict(self, workflow)
        else:
            dct = WorkflowConverter.to_dict(self, workflow)
        dct['subprocesses'] = self.mapping_to_dict(workflow.subprocesses)
        dct['bpmn_events'] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None, typed=None):
        """`typed`: given (True/False) only for a dict fresh from json.loads (CaseSerializer.load_case),
        which the one-pass restore (tree_state) may keep and change in place."""
        if typed is None:
            return self._from_dict(dct, spec, subprocess_specs)
        restore = self.registry.restore if typed else None
        ids = Ids()
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        tasks_from_dict(dct['tasks'], workflow, ids, restore)
        workflow.task_tree = workflow.tasks.get(ids(dct['root']))
        self.set_default_attributes(workflow, dct)
        self._subprocesses_from_dict(dct['subprocesses'], workflow, workflow, ids, restore)
        workflow.bpmn_events = self.registry.restore(dct.pop('bpmn_events', []))
        setattr(workflow, ID_TEXTS, ids.texts)
        return restore_marks(dct, workflow)

    def _from_dict(self, dct, spec, subprocess_specs):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct['tasks'], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct['root']))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct['subprocesses'], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop('bpmn_events', []))
        return restore_marks(dct, workflow)

    def _subprocesses_from_dict(self, stored, workflow, top_workflow, ids, restore):
        """subprocesses_from_dict and BpmnSubWorkflowConverter.from_dict, with the one-pass task restore."""
        for task in list(workflow.tasks.values()):
            if not isinstance(task.task_spec, SubWorkflowTask) or (key := str(task.id)) not in stored:
                continue
            dct = stored.pop(key)
            spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
            sub = BpmnSubWorkflow(spec, task.id, top_workflow, deserializing=True)
            tasks_from_dict(dct['tasks'], sub, ids, restore)
            sub.task_tree = sub.tasks.get(ids(dct['root']))
            self.set_default_attributes(sub, dct)
            top_workflow.subprocesses[task.id] = sub
            sub.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
            self._subprocesses_from_dict(stored, sub, top_workflow, ids, restore)


class CaseSerializer:
    def __init__(self):
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = CaseConverter
        config[BpmnSubWorkflow] = CaseSubWorkflowConverter
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config, DefaultRegistry()))
        self._registry = self._serializer.registry
        self.registry = self._registry   # the spec diff of a migration compares through it
        self.format_version = self._serializer.VERSION

    def dump_case(self, workflow):
        self._registry._encoder_mode = True
        try:
            dct = compact(self._registry.convert(workflow), workflow)
            dct[FORMAT_KEY] = self.format_version
            return state_text(dct, self._json_dumps)
        finally:
            self._registry._encoder_mode = False

    def _json_dumps(self, dct):
        # Without the encoder's check for circular containers (a tenth of its time): what a diagram
        # stores cannot contain itself (sandbox_values), and a value that did would still fail
        # (RecursionError instead of ValueError); the text written is the same.
        return json.dumps(dct, cls=self._serializer._encoder_cls, ensure_ascii=False, separators=(',', ':'),
                          check_circular=False)

    def load_case(self, text, spec, subprocess_specs):
        dct = parse_state(text)
        version = dct.pop(FORMAT_KEY)
        if version != self.format_version:
            # Older states carry no spec either, so only the task-level migrations apply.
            if version in MIGRATIONS:
                MIGRATIONS[version](dct)
            return self._registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
        subs = dct.get('subprocesses') or {}
        typed = typed_values_possible(text, 1 + len(subs), len(dct.get('tasks') or ())
                                      + sum(len(sub.get('tasks') or ()) for sub in subs.values()))
        try:
            return self._registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs, typed=typed)
        except NotCanonical:
            # Nothing writes such a tree; SpiffWorkflow's own path decides what it means.
            dct = parse_state(text)
            dct.pop(FORMAT_KEY)
            return self._registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)

    def dump_spec(self, spec, subprocess_specs):
        self._registry._encoder_mode = True
        try:
            dct = {'spec': self._registry.convert(spec),
                   'subprocess_specs': {k: self._registry.convert(v) for k, v in subprocess_specs.items()}}
            return json.dumps(dct, cls=self._serializer._encoder_cls, ensure_ascii=False, sort_keys=True,
                              separators=(',', ':'))
        finally:
            self._registry._encoder_mode = False

    def load_spec(self, text):
        dct = json.loads(text)
        spec = self._registry.restore(dct['spec'])
        subs = {k: self._registry.restore(v) for k, v in dct['subprocess_specs'].items()}
        return spec, subs


def start_data(text):
    """The data a case was started with (its root task's), read from its state without the engine:
    for migrations and key rotation, which must not need the process spec."""
    dct = parse_state(text)
    root = (dct.get('tasks') or {}).get(dct.get('root')) or {}
    return root.get('data') or {}
