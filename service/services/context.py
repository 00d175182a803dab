"""The per-app objects the services share."""
from flask import current_app


def engine():
    return current_app.extensions['jiuzhu.engine']


def clock():
    return current_app.extensions['jiuzhu.clock']


def now():
    return clock().now()
