"""The password policy, in one place: every way of setting a password (CLI, pages, API) asks here.

MLPS 2.0 level 3 (身份鉴别) and OWASP ASVS 2.1: long enough, not a password that guessing tools
try first, not the account's own name, more than one kind of character.
"""
from functools import lru_cache
from pathlib import Path

from ..errors import Invalid

MIN_LENGTH = 10
MAX_LENGTH = 200          # the API's field bound; scrypt takes any length, this keeps requests small
MIN_DISTINCT = 4
COMMON_FILE = Path(__file__).with_name('common_passwords.txt')


@lru_cache(maxsize=1)
def common_passwords():
    lines = COMMON_FILE.read_text(encoding='utf-8').splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith('#'))


def _classes(password):
    kinds = set()
    for ch in password:
        if ch.isascii() and ch.islower():
            kinds.add('lower')
        elif ch.isascii() and ch.isupper():
            kinds.add('upper')
        elif ch.isdigit():
            kinds.add('digit')
        else:
            kinds.add('other')   # symbols, spaces, Chinese characters
    return kinds


def problems(password, username=None):
    """What is wrong with this password, as Chinese sentences ([] = acceptable)."""
    password = password or ''
    out = []
    if len(password) < MIN_LENGTH:
        out.append(f'密码至少 {MIN_LENGTH} 位')
    if len(password) > MAX_LENGTH:
        out.append(f'密码最多 {MAX_LENGTH} 位')
    lowered = password.lower()
    if lowered in common_passwords():
        out.append('密码过于常见，容易被猜中，请换一个')
    name = (username or '').strip().lower()
    if name and len(name) >= 3 and name in lowered:
        out.append('密码不能包含用户名')
    if password and len(_classes(password)) < 2:
        out.append('密码须包含至少两类字符（小写字母、大写字母、数字、符号或汉字）')
    if password and len(set(password)) < MIN_DISTINCT:
        out.append(f'密码须包含至少 {MIN_DISTINCT} 个不同的字符')
    return out


def check(password, username=None, field='password'):
    """Raise Invalid (422, details on `field`) unless the password meets the policy."""
    found = problems(password, username)
    if found:
        raise Invalid('密码不符合要求：' + '；'.join(found) + ' (password does not meet the policy)',
                      details={field: '；'.join(found)}, code='weak_password')


def describe():
    """The policy in one sentence, for forms and --help."""
    return (f'至少 {MIN_LENGTH} 位，包含至少两类字符（字母、数字、符号），不能是常见密码，不能包含用户名')
