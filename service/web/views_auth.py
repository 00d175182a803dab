"""Signing in and out, and the start page of each role."""
from flask import flash, redirect, render_template, request, url_for

from ..errors import Unauthorized
from ..services import access, auth
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
        if auth.user_from_session() is not None:
            return redirect(target)
        return render_template('web/login.html', next=target, username='')
    username = request.form.get('username', '').strip()
    try:
        user = auth.authenticate(username, request.form.get('password', ''))
    except Unauthorized as exc:
        return render_template('web/login.html', next=target, username=username, error=zh(exc.message)), 401
    auth.login_session(user)
    flash(f'欢迎，{user.display_name}', 'ok')
    return redirect(target)


@bp.post('/logout')
def logout():
    auth.logout_session()
    flash('已退出登录', 'ok')
    return redirect(url_for('web.login'))
