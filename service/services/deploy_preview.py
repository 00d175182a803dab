"""Deploy preview: validation and the semantic diff of an upload; only a previewed upload deploys.

A preview is stored (`deploy_preview`) under a random token with the upload's files. The deploy
(page or API) names that token: the API sends the same files again and they must hash the same,
the page sends only the token. A deploy by anyone after the preview makes it stale (409): the diff
the designer saw would no longer be the truth.
"""
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import DeployPreview, ProcessDefinition, ProcessInstance
from . import bundles, repository, scenario_preview
from .context import engine, now
from .semantic_diff import diff_process
from .users import ROLE_NAMES

KEEP = timedelta(days=1)
CLOSED_STATUSES = ('completed', 'terminated')     # the statuses of cases that are over


def _base_id():
    return db.session.scalar(select(func.max(ProcessDefinition.id))) or 0


def _role_of(lane):
    if not lane:
        return '（无泳道）'
    role = engine().lanes.get(lane)
    return ROLE_NAMES.get(role, lane)


def _lanes(spec, subs):
    lanes = {}
    for process_spec in [spec, *subs.values()]:
        if getattr(process_spec, 'file', None) != getattr(spec, 'file', None):
            continue        # a called process: its own definition shows its own changes
        for task_spec in process_spec.task_specs.values():
            bpmn_id = getattr(task_spec, 'bpmn_id', None)
            if bpmn_id and getattr(task_spec, 'lane', None):
                lanes.setdefault(bpmn_id, task_spec.lane)
    return lanes


def _old_side(row):
    spec, subs = engine().specs(row.id, lambda: row.spec_json)
    return {'source': row.source, 'lanes': _lanes(spec, subs), 'dependencies': dict(row.dependencies or {}),
            'forms': dict(row.forms or {})}


def _new_side(candidate):
    proc = candidate.proc
    return {'source': proc.source.decode('utf-8'), 'lanes': _lanes(proc.spec, proc.subprocess_specs),
            'dependencies': {n: d.decode('utf-8') for n, d in candidate.dependencies.items()},
            'forms': dict(candidate.forms)}


def _open_cases(key):
    return db.session.scalar(select(func.count()).select_from(ProcessInstance).join(
        ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id).where(
        ProcessDefinition.key == key, ProcessInstance.status.notin_(CLOSED_STATUSES))) or 0


def describe(the_plan):
    """[{key, name, file, status, version, latest_version, changes, open_cases}] for a plan."""
    out = []
    for c in the_plan.candidates:
        item = {'key': c.key, 'name': c.proc.name or c.key, 'file': c.proc.file,
                'latest_version': c.latest.version if c.latest else None,
                'latest_id': c.latest.id if c.latest else None, 'changes': [], 'open_cases': 0}
        if c.existing is not None:
            item.update(status='unchanged', version=c.existing.version)
        elif c.latest is None:
            item.update(status='new_process', version=1)
        else:
            item.update(status='new_version', version=(c.latest.version + 1), open_cases=_open_cases(c.key))
            item['changes'] = diff_process(_old_side(c.latest), _new_side(c), c.key, _role_of) or [
                {'kind': 'layout', 'element': None, 'text': '只有图形位置、说明等不影响办理的内容有变化'}]
        out.append(item)
    return out


def preview(files, actor):
    """Validate and describe an upload ({path: text}, normalized); store it for the deploy.

    Returns {token, processes, written, changed_forms, warnings, scenarios}: `scenarios` are the
    results of the changed processes' scenario files (services/scenario_preview.py), None without any.
    An invalid upload raises Invalid (422) and stores nothing.
    """
    the_plan = repository.bundle_plan(repository.processes_dir(), files)
    processes = describe(the_plan)
    changed = [c for c in the_plan.candidates if c.existing is None]
    scenarios = None
    if changed and current_app.config.get('JIUZHU_PREVIEW_SCENARIOS', True):
        scenarios = scenario_preview.run(changed, files, repository.processes_dir())
    db.session.execute(delete(DeployPreview).where(DeployPreview.created_at < now() - KEEP))
    token = secrets.token_hex(32)
    db.session.add(DeployPreview(id=token, actor=actor, created_at=now(), upload_sha256=bundles.upload_digest(files),
                                 base_id=_base_id(), files=files))
    db.session.commit()
    return {'token': token, 'processes': processes, 'written': the_plan.written,
            'changed_forms': the_plan.changed_forms, 'warnings': [w.as_dict() for w in the_plan.warnings],
            'scenarios': scenarios}


def take(token, actor, files=None):
    """The files of a preview the deploy may go ahead with; 422 without a token, 409 if it does not fit."""
    if not token:
        raise Invalid('部署前须先预览这些文件 (preview the upload first: POST /api/v1/process-definitions/preview, '
                      'then deploy with its preview_token)', details={'preview_token': '必填'},
                      code='preview_required')
    row = db.session.get(DeployPreview, token)
    if row is None or row.actor != actor:
        raise Conflict('预览已失效或不存在，请重新预览 (no such preview; preview again)', code='preview_mismatch')
    if files is not None and bundles.upload_digest(files) != row.upload_sha256:
        raise Conflict('上传的文件与预览时的不同，请重新预览 (the files differ from the previewed ones)',
                       code='preview_mismatch')
    if row.base_id != _base_id():
        raise Conflict('预览之后又有新的部署，差异可能已不同，请重新预览 (something was deployed after the preview)',
                       code='preview_stale')
    return row


def deploy(token, actor, files=None):
    """Deploy a previewed upload; returns [(definition, is_new)]."""
    row = take(token, actor, files)
    files = dict(row.files)
    db.session.delete(row)
    results = repository.apply(repository.bundle_plan(repository.processes_dir(), files), actor)
    return results
