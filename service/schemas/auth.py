from marshmallow import Schema, fields, validate

from ..services.masking import mask_id_number


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)


class TokenResponse(Schema):
    token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={'example': 'Bearer'})
    expires_at = fields.DateTime(required=True)


class UserSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    township = fields.String()
    active = fields.Boolean()


class CloseRelativeRequest(Schema):
    staff_username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=18))
    relation = fields.String(required=True, validate=validate.Length(min=1, max=50))


class CloseRelativeSchema(Schema):
    id = fields.Integer()
    staff_username = fields.String()
    name = fields.String()
    id_number_masked = fields.Function(lambda row: mask_id_number(row.id_number))
    relation = fields.String()
    registered_by = fields.String()
    registered_at = fields.DateTime()
