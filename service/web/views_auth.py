"""Signing in and out, changing one's password, and the start page of each role."""
from flask import flash, redirect, render_template, request, url_for

from ..errors import Invalid, Unauthorized
from ..services import access, auth, passwords, users
from ..services.throttle import Throttled
from .core import allowed, bp, me, safe_next, zh


@bp.get('/')
def home():
    user = me()
    if allowed(access.check_supervision, user):
        return redirect(url_for('web.supervision'))
    if allowed(access.require_case_reader, user):
        return redirect(url_for('web.tasks'))
    if allowed(access.check_deploy, user):
        return redirect(url_for('web.designer'))
    return render_template('web/home.html')


@bp.route('/login', methods=['GET', 'POST'])
def login():
    target = safe_next(request.values.get('next'))
    if request.method == 'GET':
        if auth.user_from_session(allow_pending=True) is not None:
            return redirect(target)
        return render_template('web/login.html', next=target, username='')
    username = request.form.get('username', '').strip()
    try:
        user = auth.authenticate(username, request.form.get('password', ''), kind='web')
    except (Unauthorized, Throttled) as exc:
        return render_template('web/login.html', next=target, username=username, error=zh(exc.message)), exc.status
    auth.login_session(user)
    if user.must_change_password:
        flash('请先修改密码：初始密码或演示密码不能继续使用。', 'error')
        return redirect(url_for('web.password_change', next=target))
    flash(f'欢迎，{user.display_name}', 'ok')
    return redirect(target)


@bp.post('/logout')
def logout():
    auth.logout_session()
    flash('已退出登录', 'ok')
    return redirect(url_for('web.login'))


@bp.route('/password', methods=['GET', 'POST'])
def password_change():
    user = me()
    target = safe_next(request.values.get('next'))
    if request.method == 'GET':
        return render_template('web/password.html', next=target, errors={}, policy=passwords.describe())
    new = request.form.get('new_password', '')
    errors, status = {}, 422
    if new != request.form.get('confirm_password', ''):
        errors['confirm_password'] = '两次输入的新密码不一致'
    else:
        try:
            users.change_own_password(user, request.form.get('current_password', ''), new)
        except Throttled as exc:
            errors['current_password'] = zh(exc.message)
            status = 429
        except Invalid as exc:
            errors = dict(exc.details or {}) or {'new_password': zh(exc.message)}
    if errors:
        return render_template('web/password.html', next=target, errors=errors,
                               policy=passwords.describe()), status
    # Every session of this user ended with the old password; this browser gets a new one.
    auth.login_session(user)
    flash('密码已修改，其他设备上的登录已全部退出。', 'ok')
    return redirect(target)
