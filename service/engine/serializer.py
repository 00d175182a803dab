"""Case state without the process spec: the spec is stored once per definition version.

SpiffWorkflow embeds the whole spec in every serialized workflow (about half of a case's size
and a third of its load time). The converter below leaves it out and takes the spec objects,
restored once per version and cached, when a case is loaded.
"""
import json
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .compaction import compact, restore_marks

FORMAT_KEY = 'serializer_version'


class CaseConverter(BpmnWorkflowConverter):

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct['subprocesses'] = self.mapping_to_dict(workflow.subprocesses)
        dct['bpmn_events'] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct['tasks'], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct['root']))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct['subprocesses'], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop('bpmn_events', []))
        return restore_marks(dct, workflow)


class CaseSerializer:
    def __init__(self):
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = CaseConverter
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config, DefaultRegistry()))
        self._registry = self._serializer.registry
        self.registry = self._registry   # the spec diff of a migration compares through it
        self.format_version = self._serializer.VERSION

    def dump_case(self, workflow):
        self._registry._encoder_mode = True
        try:
            dct = compact(self._registry.convert(workflow), workflow)
            dct[FORMAT_KEY] = self.format_version
            return json.dumps(dct, cls=self._serializer._encoder_cls, ensure_ascii=False, separators=(',', ':'))
        finally:
            self._registry._encoder_mode = False

    def load_case(self, text, spec, subprocess_specs):
        dct = json.loads(text)
        version = dct.pop(FORMAT_KEY)
        if version != self.format_version:
            # Older states carry no spec either, so only the task-level migrations apply.
            if version in MIGRATIONS:
                MIGRATIONS[version](dct)
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
    dct = json.loads(text)
    root = (dct.get('tasks') or {}).get(dct.get('root')) or {}
    return root.get('data') or {}
