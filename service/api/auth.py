from flask import current_app

from ..schemas.auth import (CloseRelativeRequest, CloseRelativeSchema, PasswordChangeRequest, TokenRequest,
                            TokenResponse, UserSchema)
from ..services import access, auth, users
from .common import errors, make_blueprint, me

blp = make_blueprint('auth', '/api/v1', 'Authentication and people 登录与人员')


def _token_for(user):
    value, expires_at = auth.issue_token(user)
    return {'token': value, 'token_type': 'Bearer', 'expires_at': expires_at,
            'idle_minutes': int(current_app.config.get('JIUZHU_SESSION_IDLE_MINUTES', 30)),
            'password_change_required': bool(user.must_change_password)}


@blp.route('/auth/token', methods=['POST'])
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
@blp.doc(security=[])
@errors(blp, 401, 422, 429)
def token(body):
    """Exchange username and password for a Bearer token 获取访问令牌

    Wrong passwords are counted per account and per address: past the limit the answer is 429
    with Retry-After, whatever the password (登录失败次数过多).
    """
    user = auth.authenticate(body['username'], body['password'], kind='api')
    return _token_for(user)


@blp.route('/auth/logout', methods=['POST'])
@blp.response(204)
@errors(blp, 401)
def logout():
    """End this token's session 退出登录 (the token is refused from now on)"""
    auth.end_current_session('logout')


@blp.route('/users/me', methods=['GET'])
@blp.response(200, UserSchema)
@errors(blp, 401)
def whoami():
    """The signed-in user 当前用户"""
    return me()


@blp.route('/users/me/password', methods=['POST'])
@blp.arguments(PasswordChangeRequest)
@blp.response(200, TokenResponse)
@errors(blp, 401, 422, 429)
def change_password(body):
    """Change one's own password 修改密码: every session and token of the user ends; a new token is returned"""
    user = users.change_own_password(me(), body['current_password'], body['new_password'])
    return _token_for(user)


@blp.route('/close-relatives', methods=['POST'])
@blp.arguments(CloseRelativeRequest)
@blp.response(201, CloseRelativeSchema)
@errors(blp, 401, 403, 404, 422)
def register_relative(body):
    """Register a staff member's close relative 近亲属备案 (that person's future and open cases exclude that staff member; open ones get a county visit)"""
    user = me()
    access.check_register_relative(user, auth.find_user(body['staff_username']))
    return users.register_close_relative(body['staff_username'], body['name'], body['id_number'],
                                         body['relation'], user.username)
