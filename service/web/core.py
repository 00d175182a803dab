"""What every page shares: the blueprint, the session user, CSRF, the navigation bar, error pages."""
import logging
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from ..errors import Forbidden, JiuzhuError
from ..extensions import db
from ..schemas.common import MAX_PAGE, MAX_PER_PAGE
from ..services import access, auth, clockctl, outage
from ..services.context import clock
from . import security

log = logging.getLogger('jiuzhu.web')

bp = Blueprint('web', __name__, template_folder='templates', static_folder='static',
               static_url_path='/static/web')

# Reachable without signing in.
PUBLIC_ENDPOINTS = {'web.login', 'web.static', 'web.vendor', 'web.vendor_dmn'}
STATIC_ENDPOINTS = {'web.static', 'web.vendor', 'web.vendor_dmn'}
# What a user who must first replace a demo or temporary password may open.
PASSWORD_CHANGE_ENDPOINTS = {'web.password_change', 'web.logout'}

HTTP_TITLES = {
    400: ('请求无效', '请求无效或页面已过期，请返回上一页刷新后重试。'),
    403: ('无权访问', '当前账号无权查看此页面或进行此操作。'),
    404: ('页面不存在', '没有找到这个页面，或您无权查看它。'),
    405: ('请求方式不正确', '此页面不支持该请求方式。'),
    409: ('操作冲突', '数据已被他人更改，请刷新后重试。'),
    413: ('上传文件过大', '上传的文件过大。'),
    422: ('填写有误', '提交的内容有误，请检查后重试。'),
    429: ('操作过于频繁', '操作过于频繁，请稍后再试。'),
    500: ('系统出错', '服务器内部错误，请稍后重试或联系管理员。'),
    503: ('暂时无法服务', '数据库暂时无法连接，请稍后刷新重试。'),
}


def me():
    return auth.current_user()


def zh(message):
    """The Chinese part of a service message ("中文说明 (english)")."""
    text = str(message or '')
    cut = text.rfind(' (')
    return text[:cut] if cut > 0 and text.endswith(')') else text


def allowed(check, *args):
    """Whether an access.py check passes (for the navigation and for which buttons to show)."""
    try:
        check(*args)
    except JiuzhuError:
        return False
    return True


def safe_next(target, default=None):
    """A same-site path to go back to after a POST or a login; anything else goes to `default`."""
    parts = urlsplit(target or '')
    if not target or parts.scheme or parts.netloc or not target.startswith('/') or target.startswith('//'):
        return default or url_for('web.home')
    return target


def error_page(status, message=None, title=None):
    default_title, default_message = HTTP_TITLES.get(status, HTTP_TITLES[500] if status >= 500 else HTTP_TITLES[400])
    extra = {}
    if request.blueprint != bp.name:
        # An address that no page has (404) runs none of this blueprint's hooks: find the signed-in
        # person and the navigation here, so they can go on from the error page.
        if auth.current_user() is None:
            auth.user_from_session()
        extra = _context()
    return render_template('web/error.html', status=status, title=title or default_title,
                           message=message or default_message, **extra), status


@bp.before_request
def _before():
    if request.endpoint in STATIC_ENDPOINTS:
        return None   # files, no personal data: no session read
    user = auth.user_from_session(allow_pending=True)
    public = request.endpoint in PUBLIC_ENDPOINTS
    if user is None and not public:
        # Also a POST with a cookie replayed after logout: back to the login page, nothing done.
        target = request.full_path.rstrip('?') if request.method == 'GET' else None
        return redirect(url_for('web.login', next=target) if target else url_for('web.login'))
    if request.method == 'POST':
        try:
            auth.check_csrf(request.form.get('csrf_token'))
        except Forbidden:
            return error_page(400, '页面已过期或请求来源无效（安全校验失败），请返回上一页刷新后重试。')
    if public:
        return None
    if user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        target = request.full_path.rstrip('?') if request.method == 'GET' else None
        return redirect(url_for('web.password_change', next=target) if target else url_for('web.password_change'))
    return _check_paging()


def list_position(args):
    """(page, cursor) of a list page: a page number for the first rows, or the cursor after a row
    (`after`), which starts from its own first page."""
    cursor = args.get('after') or None
    return (1 if cursor else max(1, args.get('page', 1, type=int) or 1)), cursor


def _check_paging():
    """Page numbers and sizes of every list page: integers in range, else 422 (never a 500 from the database)."""
    for name, top in (('page', MAX_PAGE), ('per_page', MAX_PER_PAGE)):
        raw = request.args.get(name, '').strip()
        if not raw:
            continue
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and 1 <= int(raw) <= top):
            return error_page(422, f'页码参数 {name} 应为 1 到 {top} 之间的整数。')
    return None


def nav_items(user):
    items = []
    if allowed(access.require_case_reader, user):
        items += [('web.tasks', '待办'), ('web.case_list', '案件')]
        items.append(('web.household_list', '救助家庭'))
    if allowed(access.check_complaint_read, user):
        items.append(('web.complaint_list', '举报投诉'))
    if user.township and allowed(access.check_start, user, user.township):
        items.append(('web.case_new', '新申请'))
    if allowed(access.check_supervision, user):
        items.append(('web.supervision', '监管'))
    if allowed(access.check_entrustment_read, user):
        items.append(('web.entrustment_list', '委托书'))
    if allowed(access.check_deploy, user):
        items.append(('web.designer', '流程设计'))
    return items


@bp.context_processor
def _context():
    user = me()
    state = clockctl.read()
    return {
        'me': user,
        'csrf_token': auth.csrf_token,
        'nav': nav_items(user) if user else [],
        'clock_now': state['now'],
        'clock_manual': state['manual'],
        'clock_settable': bool(user) and allowed(access.check_clock_set, user, clock()),
    }


# ------------------------------------------------------------------ errors

@bp.errorhandler(JiuzhuError)
def _service_error(exc):
    db.session.rollback()
    if exc.status == 401:
        return redirect(url_for('web.login'))
    return error_page(exc.status, zh(exc.message))


@bp.errorhandler(HTTPException)
def _http_error(exc):
    return error_page(exc.code or 500)


@bp.errorhandler(Exception)
def _unexpected(exc):
    if outage.ended_request(exc):
        html, status = error_page(503)
        return html, status, {'Retry-After': outage.RETRY_AFTER}
    db.session.rollback()
    log.exception('unexpected error on %s %s', request.method, request.path)
    return error_page(500)


def _not_found(exc):
    # The API answers JSON for its own paths; every other unknown address gets the Chinese page.
    if request.path == '/api' or request.path.startswith('/api/'):
        from ..api import handle_http_exception
        return handle_http_exception(exc)
    return error_page(404)


def install(app):
    app.register_error_handler(404, _not_found)
    security.install(app)
    if app.config.get('JIUZHU_CLOCK') != 'manual':
        # A production start on a database that began as a demo: its accounts must not stay open.
        from ..demo import flag_demo_passwords
        with app.app_context():
            flag_demo_passwords()
    current = app.config.get('MAX_CONTENT_LENGTH')
    if current is None:
        # Diagram uploads are the largest form posts; nothing legitimate comes near this.
        app.config['MAX_CONTENT_LENGTH'] = 16 * 1024 * 1024
