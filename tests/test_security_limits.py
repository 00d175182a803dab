"""Input bounds: the demo clock only moves forward and at most five years; page numbers never make a 500.

Found before: PUT /api/v1/clock accepted moves backwards and to the years 0209 and 8768, and
/cases?page=99999999999999999999 answered 500.
"""
import pytest
from sqlalchemy import select

from service.extensions import db
from service.models import AuditEntry

from .security_helpers import api_token, bearer, page_csrf, signed_in, web_app  # noqa: F401

T0 = '2026-09-28T09:00:00+08:00'


@pytest.mark.parametrize('moment, code', [
    ('2026-09-28T08:59:59+08:00', 'clock_backwards'),
    ('2025-01-01T00:00:00+08:00', 'clock_backwards'),
    ('0209-03-01T00:00:00+08:00', 'clock_backwards'),
    ('0001-01-01T00:00:00+14:00', 'clock_backwards'),
    ('8768-05-01T00:00:00+08:00', 'clock_too_far'),
    ('9999-12-31T23:59:59-12:00', 'clock_too_far'),
    ('2031-10-01T09:00:00+08:00', 'clock_too_far'),
])
def test_the_api_clock_refuses_the_past_and_the_far_future(web_app, moment, code):
    clock = web_app.extensions['jiuzhu.clock']
    api = web_app.test_client()
    token = api_token(api, 'jianguan')
    before = clock.now()
    r = api.put('/api/v1/clock', headers=bearer(token), json={'now': moment})
    assert r.status_code == 422, r.json
    assert r.json['error'] == code and ('不能' in r.json['message'] or '最多' in r.json['message'])
    assert clock.now() == before
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'clock_set')).all()


def test_the_api_clock_moves_forward_within_five_years(web_app):
    clock = web_app.extensions['jiuzhu.clock']
    api = web_app.test_client()
    token = api_token(api, 'jianguan')
    for moment in (T0, '2026-10-08T09:00:00+08:00', '2031-09-27T09:00:00+08:00'):
        r = api.put('/api/v1/clock', headers=bearer(token), json={'now': moment})
        assert r.status_code == 200, r.json
    assert clock.now().year == 2031


def test_the_demo_clock_buttons_refuse_the_past_and_the_far_future(web_app):
    clock = web_app.extensions['jiuzhu.clock']
    client = signed_in(web_app, 'jianguan')
    before = clock.now()
    for moment in ('2026-09-27T09:00', '0209-01-01T00:00', '8768-01-01T00:00', '9999-12-31T23:59'):
        r = client.post('/clock', data={'csrf_token': page_csrf(client, '/supervision'), 'action': 'set',
                                        'moment': moment})
        assert r.status_code == 422, moment
        assert '不能' in r.get_data(as_text=True) or '最多' in r.get_data(as_text=True)
    assert clock.now() == before
    r = client.post('/clock', data={'csrf_token': page_csrf(client, '/supervision'), 'action': 'set',
                                    'moment': '2026-10-09T10:00'})
    assert r.status_code == 302 and clock.now() > before


@pytest.mark.parametrize('query', ['page=99999999999999999999', 'page=100001', 'page=0', 'page=-1', 'page=abc',
                                   'per_page=101', 'per_page=0', 'page=１', 'page=' + '9' * 5000])
def test_page_numbers_out_of_range_are_a_422_on_the_pages(web_app, query):
    client = signed_in(web_app, 'jianguan')
    for url in ('/cases', '/tasks', '/supervision'):
        r = client.get(f'{url}?{query}')
        assert r.status_code == 422, (url, query, r.status_code)
        assert '页码' in r.get_data(as_text=True)


@pytest.mark.parametrize('path', ['/api/v1/instances', '/api/v1/tasks', '/api/v1/timers', '/api/v1/audit'])
@pytest.mark.parametrize('query', ['page=99999999999999999999', 'page=100001', 'page=0', 'per_page=101'])
def test_page_numbers_out_of_range_are_a_422_on_the_api(web_app, path, query):
    api = web_app.test_client()
    token = api_token(api, 'jianguan')
    r = api.get(f'{path}?{query}', headers=bearer(token))
    assert r.status_code == 422, (path, query, r.json)
    assert r.json['error'] == 'validation_error'


def test_the_last_allowed_page_is_empty_not_an_error(web_app):
    # Page numbers reach the first 10,000 rows (listing.MAX_OFFSET); past them the lists page by cursor.
    client = signed_in(web_app, 'jianguan')
    assert client.get('/cases?page=334').status_code == 200          # 30 a page: rows 9,990 …
    r = client.get('/cases?page=335')
    assert r.status_code == 422 and '页码' in r.get_data(as_text=True)
    api = web_app.test_client()
    r = api.get('/api/v1/instances?page=100&per_page=100', headers=bearer(api_token(api, 'jianguan')))
    assert r.status_code == 200 and r.json['items'] == []
    r = api.get('/api/v1/instances?page=101&per_page=100', headers=bearer(api_token(api, 'jianguan')))
    assert r.status_code == 422 and r.json['error'] == 'validation_error' and 'cursor' in r.json['message']
