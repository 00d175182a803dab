"""Errors the services raise; the API turns them into {error, message, details} responses."""


class JiuzhuError(Exception):
    status = 400
    code = 'bad_request'

    def __init__(self, message, details=None, code=None):
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
