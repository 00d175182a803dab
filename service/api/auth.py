from ..schemas.auth import CloseRelativeRequest, CloseRelativeSchema, TokenRequest, TokenResponse, UserSchema
from ..services import access, auth, users
from .common import errors, make_blueprint, me

blp = make_blueprint('auth', '/api/v1', 'Authentication and people 登录与人员')


@blp.route('/auth/token', methods=['POST'])
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
@blp.doc(security=[])
@errors(blp, 401, 422)
def token(body):
    """Exchange username and password for a Bearer token 获取访问令牌"""
    user = auth.authenticate(body['username'], body['password'])
    value, expires_at = auth.issue_token(user)
    return {'token': value, 'token_type': 'Bearer', 'expires_at': expires_at}


@blp.route('/users/me', methods=['GET'])
@blp.response(200, UserSchema)
@errors(blp, 401)
def whoami():
    """The signed-in user 当前用户"""
    return me()


@blp.route('/close-relatives', methods=['POST'])
@blp.arguments(CloseRelativeRequest)
@blp.response(201, CloseRelativeSchema)
@errors(blp, 401, 403, 404, 422)
def register_relative(body):
    """Register a staff member's close relative 近亲属备案 (their future cases exclude that staff member)"""
    user = me()
    access.check_register_relative(user, auth.find_user(body['staff_username']))
    return users.register_close_relative(body['staff_username'], body['name'], body['id_number'],
                                         body['relation'], user.username)
