"""Drafts of a task's form (暂存, by hand and automatically), comments on a case, reassignment by the leader."""
from flask import flash, jsonify, redirect, request, url_for

from ..errors import JiuzhuError
from ..services import cases, comments, drafts, reassign
from . import fmt, formrender
from .core import bp, me, zh
from .views_attachments import UploadRefused, take_uploads


def _posted_values(user, task_id):
    """What the task form posted, as typed, with new files stored and their numbers in place."""
    detail = cases.task_detail(user, task_id)
    form = detail['form']
    values = request.form
    if form:
        values = take_uploads(user, form['schema'], form['ui_schema'], request.form, request.files,
                              task=detail['task'], instance_id=detail['task'].instance_id)[0]
    return formrender.raw_values(values)


@bp.post('/tasks/<string:task_id>/draft')
def task_draft(task_id):
    """The 暂存 button: keep what is typed, come back to it later (audited)."""
    user = me()
    try:
        draft = drafts.save(user, task_id, _posted_values(user, task_id))
    except UploadRefused as exc:
        flash(f'未能暂存：{exc.errors["message"]}', 'error')
    else:
        flash(f'已暂存（{fmt.when(draft.saved_at)}）。下次打开此任务时自动恢复，只有您本人能看到。', 'ok')
    return redirect(url_for('web.task', task_id=task_id))


@bp.post('/tasks/<string:task_id>/draft.json')
def task_draft_auto(task_id):
    """The page's automatic save (static/draft.js: every 20 s and on leaving the page). Files are not
    sent this way: they go with 暂存 or the submit."""
    user = me()
    try:
        draft = drafts.save(user, task_id, formrender.raw_values(request.form), explicit=False)
    except JiuzhuError as exc:
        return jsonify(error=exc.code, message=zh(exc.message)), exc.status
    return jsonify(saved_at=draft.saved_at.isoformat(), saved_at_zh=fmt.when(draft.saved_at))


@bp.post('/cases/<int:instance_id>/comments')
def case_comment(instance_id):
    try:
        comments.add(me(), instance_id, request.form.get('body', ''))
    except JiuzhuError as exc:
        if exc.status in (403, 404):
            raise
        flash(f'未能保存意见：{zh(exc.message)}', 'error')
    else:
        flash('意见已保存', 'ok')
    return redirect(url_for('web.case', instance_id=instance_id) + '#comments')


@bp.post('/tasks/<string:task_id>/assign')
def task_assign(task_id):
    """The township leader gives a task to another person of its role (the API's assign, with a reason)."""
    user = me()
    username = request.form.get('username', '').strip()
    reason = request.form.get('reason', '').strip()
    try:
        row = reassign.reassign(user, task_id, username, reason)
    except JiuzhuError as exc:
        if exc.status == 404 and exc.code == 'task_not_found':
            raise
        flash(f'未能分派：{zh(exc.message)}', 'error')
    else:
        from . import people
        flash(f'已将「{row.name}」分派给 {people.name(row.assignee)}', 'ok')
    return redirect(url_for('web.task', task_id=task_id))
