from marshmallow import Schema, fields

from flask_smorest.fields import Upload


class DefinitionSchema(Schema):
    id = fields.Integer()
    key = fields.String()
    name = fields.String()
    version = fields.Integer()
    variant = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    file = fields.String()
    sha256 = fields.String()
    deployed_at = fields.DateTime()
    deployed_by = fields.String()
    forms = fields.Method('_form_names', metadata={'description': 'form files stored with this version'})

    def _form_names(self, definition):
        return sorted(definition.forms or {})


class DefinitionListArgs(Schema):
    latest = fields.Boolean(load_default=False, metadata={'description': 'only the newest version of each key'})


class UploadSchema(Schema):
    files = fields.List(Upload(), required=True, metadata={
        'description': 'a bundle: .bpmn, .dmn and form .json files, or a .zip of a process folder '
                       '(multipart field "files"; a file name may carry its folder, e.g. delegated/dibao_a.bpmn)'})


class DeployFormSchema(Schema):
    preview_token = fields.String(load_default=None, metadata={
        'description': 'the token of POST /process-definitions/preview for exactly these files (required)'})


class ProblemSchema(Schema):
    file = fields.String()
    line = fields.Integer(allow_none=True)
    element = fields.String(allow_none=True)
    message = fields.String()


class DeployResultSchema(Schema):
    deployed = fields.List(fields.Nested(DefinitionSchema))
    unchanged = fields.List(fields.Nested(DefinitionSchema))
    warnings = fields.List(fields.Nested(ProblemSchema), metadata={
        'description': 'what was noted but does not stop the deploy (e.g. a message without messageVariable) 提示'})


class ChangeSchema(Schema):
    kind = fields.String(metadata={'description': 'task_added, task_removed, role_changed, timer_changed, '
                                                  'condition_changed, branch_added, script, message, '
                                                  'form_field_added, form_required_changed, decision_rule_added, …'})
    element = fields.String(allow_none=True, metadata={'description': 'element id, form file or DMN path'})
    text = fields.String(metadata={'description': 'the change in plain Chinese'})


class PreviewProcessSchema(Schema):
    key = fields.String()
    name = fields.String()
    file = fields.String()
    status = fields.String(metadata={'description': 'new_process | new_version | unchanged'})
    version = fields.Integer(metadata={'description': 'the version a deploy makes (or keeps)'})
    latest_version = fields.Integer(allow_none=True, metadata={'description': 'the version running now'})
    open_cases = fields.Integer(metadata={'description': 'cases not finished: they stay on their version'})
    changes = fields.List(fields.Nested(ChangeSchema))


class ScenarioResultSchema(Schema):
    file = fields.String()
    process = fields.String()
    name = fields.String()
    passed = fields.Boolean()
    message = fields.String(metadata={'description': 'why it failed, in Chinese'})
    element = fields.String(allow_none=True, metadata={'description': 'where the case diverged'})
    milliseconds = fields.Float()
    path = fields.List(fields.String(), metadata={'description': 'elements passed, in order'})


class ScenarioRunSchema(Schema):
    passed = fields.Integer()
    failed = fields.Integer()
    results = fields.List(fields.Nested(ScenarioResultSchema))
    uncovered = fields.List(fields.String())
    error = fields.String(metadata={'description': 'the scenarios could not run at all'})


class PreviewSchema(Schema):
    preview_token = fields.String(attribute='token')
    processes = fields.List(fields.Nested(PreviewProcessSchema))
    written = fields.List(fields.String(), metadata={'description': 'diagram paths the upload replaces or adds'})
    changed_forms = fields.List(fields.String())
    scenarios = fields.Nested(ScenarioRunSchema, allow_none=True, metadata={
        'description': 'results of the scenario files of the changed processes (none: null) 场景测试'})
    warnings = fields.List(fields.Nested(ProblemSchema), metadata={
        'description': 'what was noted but does not stop the deploy (e.g. a message without messageVariable) 提示'})
