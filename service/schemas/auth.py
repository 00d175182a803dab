from marshmallow import Schema, fields, validate

from ..services.masking import mask_id_number


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)


class TokenResponse(Schema):
    token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={'example': 'Bearer'})
    expires_at = fields.DateTime(required=True, metadata={
        'description': 'the latest end of the token (JIUZHU_SESSION_MAX_HOURS after sign-in); it ends earlier '
                       'after idle_minutes without a request, on logout, a password change or a disabled account'})
    idle_minutes = fields.Integer(metadata={'description': 'minutes without a request after which the token ends'})
    password_change_required = fields.Boolean(metadata={
        'description': 'true: every call but POST /users/me/password, GET /users/me and POST /auth/logout '
                       'answers 403 password_change_required until the password is changed'})


class PasswordChangeRequest(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True,
                                 metadata={'description': 'at least 10 characters, two kinds of characters, '
                                                          'not a common password, not containing the username'})


class UserSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    township = fields.String()
    active = fields.Boolean()
    must_change_password = fields.Boolean()


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
