"""Reading a case's notices over HTTP as the township caseworker `cw1`, and the one check every printed
notice passes: the applicant's own ID number in full, never the phone number."""
from service.services import auth

APPLICANT_ID = '11010519491231002X'


def page(app, case, kind=None, username='cw1'):
    """(status, html) of the case's notice list, or of one notice `kind`."""
    token, _ = auth.issue_token(auth.find_user(username))
    url = f'/cases/{case.id}/notices' + (f'/{kind}' if kind else '')
    response = app.test_client().get(url, headers={'Authorization': f'Bearer {token}'})
    return response.status_code, response.get_data(as_text=True)


def assert_own_id_only(html, id_number=APPLICANT_ID):
    assert id_number in html and '13800000000' not in html
