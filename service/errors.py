"""Errors the services raise; the API turns them into {error, message, details} responses."""
from .services.masking import mask_strings, mask_text


class JiuzhuError(Exception):
    status = 400
    code = 'bad_request'

    def __init__(self, message, details=None, code=None):
        # Error messages are shown, logged and kept (incidents): an ID or phone number in them is masked.
        message = mask_text(message)
        details = mask_strings(details) if details is not None else None
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code

    def __str__(self):
        return f'{self.message} {self.details}' if self.details else self.message


class NotFound(JiuzhuError):
    status = 404
    code = 'not_found'


class Conflict(JiuzhuError):
    status = 409
    code = 'conflict'


class Invalid(JiuzhuError):
    status = 422
    code = 'invalid'


class Forbidden(JiuzhuError):
    status = 403
    code = 'forbidden'


class Unauthorized(JiuzhuError):
    status = 401
    code = 'unauthorized'
