"""Deploying diagrams through the API as a designer, and telling how a started case stands.

A started case must be somewhere a person or the service can move it on: finished, offering a
ready task to some role, or waiting for a timer or a message. Anything else is stuck.
"""
from io import BytesIO

from sqlalchemy import select

from service.extensions import db
from service.models import ProcessInstance, Task, Timer

DEPLOY_URL = '/api/v1/process-definitions'


def deploy(client, files):
    """Preview {name: bytes} as multipart uploads, then deploy with the preview's token, as a designer
    does; the Flask response of the deploy (or of the preview when it refuses the files)."""
    def post(url, extra=None):
        data = {'files': [(BytesIO(content), name) for name, content in files.items()], **(extra or {})}
        return client.c.post(url, data=data, headers=client.headers(), content_type='multipart/form-data')
    preview = post(f'{DEPLOY_URL}/preview')
    if preview.status_code != 200:
        return preview
    return post(DEPLOY_URL, {'preview_token': preview.json['preview_token']})


def standing(instance_id):
    """How a case stands: 'finished', 'offered', 'waiting_timer', 'waiting_message', 'stuck', or its status."""
    db.session.expire_all()
    case = db.session.get(ProcessInstance, instance_id)
    if case.status == 'completed':
        return 'finished'
    if case.status != 'running':
        return case.status
    if db.session.scalar(select(Task.id).where(Task.instance_id == case.id, Task.state == 'ready').limit(1)):
        return 'offered'
    if db.session.scalar(select(Timer.id).where(Timer.instance_id == case.id, Timer.state == 'waiting').limit(1)):
        return 'waiting_timer'
    if (case.waiting_for or '').strip(','):
        return 'waiting_message'
    return 'stuck'


def is_stuck(instance_id):
    """Running, yet no ready task for any role, no waiting timer or message: nothing can move it on."""
    return standing(instance_id) == 'stuck'
