"""GET /cases/<id>/notices and /cases/<id>/notices/<kind>: the list and the printable page.

Same rules as reading the case (services/access.py): another township's case is a 404 like a
missing one. Each read is audited as a `read_case` of the case (with `notice`), so the case
history, which hides reads, stays a record of acts.
"""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.routing import BuildError

from ..errors import JiuzhuError, NotFound, Unauthorized
from ..extensions import db
from ..models import ProcessInstance
from ..services import access, audit, auth
from ..services.masking import mask_id_number
from .gather import CaseNotices
from .certificates import KINDS as CERTIFICATES
from .notices import KINDS

bp = Blueprint('documents', __name__, template_folder='templates')

# The web pages' sign-in endpoint, whichever blueprint ends up owning it.
LOGIN_ENDPOINTS = ('web.login', 'auth.login', 'login')


def _login_url():
    for endpoint in LOGIN_ENDPOINTS:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, next=request.full_path.rstrip('?'))
            except BuildError:
                continue
    return None


def _user():
    """The session's user, or the bearer token's; None when neither is there."""
    user = auth.user_from_session()
    if user is None and request.headers.get('Authorization'):
        user = auth.user_from_bearer(request.headers['Authorization'])
    return user


@bp.errorhandler(JiuzhuError)
def _error(exc):
    db.session.rollback()
    if exc.status == 401:
        login = _login_url()
        if login and not request.headers.get('Authorization'):
            return redirect(login)
    return render_template('notices/error.html', status=exc.status, message=exc.message.split(' (')[0]), exc.status


def _case_for(instance_id):
    user = _user()
    if user is None:
        raise Unauthorized('请先登录 (authentication required)', code='authentication_required')
    instance = db.session.get(ProcessInstance, instance_id)
    access.check_instance_read(user, instance, instance_id)
    return user, instance


@bp.get('/cases/<int:instance_id>/notices')
def notice_list(instance_id):
    user, instance = _case_for(instance_id)
    case = CaseNotices(instance)
    audit.record(user.username, 'read_case', instance_id=instance.id, via='notices')
    db.session.commit()
    applicant = case.data.get('applicant') if isinstance(case.data.get('applicant'), dict) else {}
    from .sheets import sheets_of
    return render_template('notices/list.html', case=case.case, notices=case.listing(), sheets=sheets_of(case.rows),
                           applicant_name=applicant.get('name') or '',
                           id_masked=mask_id_number(applicant.get('id_number')) if applicant.get('id_number') else '')


@bp.get('/cases/<int:instance_id>/notices/<kind>')
def notice_page(instance_id, kind):
    user, instance = _case_for(instance_id)
    known = {**KINDS, **CERTIFICATES}
    notice = CaseNotices(instance).notice(kind) if kind in known else None
    if notice is None:
        what = known[kind].title if kind in known else '这种文书'
        raise NotFound(f'本案尚无{what}（办理到相应环节后才能出具） (no such notice for this case yet)',
                       code='notice_not_found')
    audit.record(user.username, 'read_case', instance_id=instance.id, via='notice', notice=kind,
                 document_no=notice['document_no'])
    db.session.commit()
    return render_template(f'notices/{kind}.html', n=notice, instance_id=instance.id)
