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


class DefinitionListArgs(Schema):
    latest = fields.Boolean(load_default=False, metadata={'description': 'only the newest version of each key'})


class UploadSchema(Schema):
    files = fields.List(Upload(), required=True,
                        metadata={'description': 'one or more .bpmn / .dmn files (multipart field "files")'})


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
