"""The household register pages like the other long lists: a township of more than 200 households
is reachable to its last household, over the API (page, per_page, cursor → next) and on /households
(page links, the cursor past them, the filters kept), always within the reader's township."""
import re
from html import unescape

import pytest

from service.extensions import db
from service.models import Household
from service.services import listing, users
from service.web import views_households

from .api_helpers import PASSWORD
from .security_helpers import cheap_hashes, signed_in
from .test_households_pages import client_of

SUMMARY_KEYS = {'id', 'township', 'village', 'category', 'status', 'status_zh', 'head_name', 'size', 'amount',
                'next_review_on'}


@pytest.fixture
def app(make_app, monkeypatch):
    cheap_hashes(monkeypatch)
    app = make_app()
    with app.app_context():
        for name, role, township in (('cw1', 'township_caseworker', 't01'), ('cw2', 'township_caseworker', 't02'),
                                     ('sup', 'county_supervisor', None)):
            users.add_user(name, '测试' + name, role, township, PASSWORD, 'tester')
        db.session.commit()
        yield app


def households(township, count, statuses=('receiving',), start=0):
    """`count` households of `township` (statuses in turn), as rows straight in the register; their ids."""
    rows = [Household(category='dibao', township=township, review_type='stable', status=statuses[i % len(statuses)],
                      head_name=f'户主{township}{start + i:04d}', head_id_hash=f'{township}-{start + i:060d}',
                      members=[], size=1, amount_fen=50000) for i in range(count)]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def walk(client, query):
    """Every page of GET /api/v1/households?query, following `next` to the end."""
    pages, url = [], f'/api/v1/households?{query}'
    while True:
        answer = client.get(url)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        pages.append(body)
        if body['next'] is None:
            return pages
        url = f'/api/v1/households?{query}&cursor={body["next"]}'


def ids_of(pages):
    return [h['id'] for body in pages for h in body['items']]


def test_a_township_of_more_than_200_households_is_reachable_to_the_last(app):
    t01 = households('t01', 205)
    households('t02', 3)
    pages = walk(client_of(app, 'cw1'), 'per_page=100')
    assert [len(body['items']) for body in pages] == [100, 100, 5]
    assert ids_of(pages) == t01
    assert (pages[0]['total'], pages[0]['total_capped']) == (205, False)


def test_the_register_pages_by_cursor_within_the_readers_township(app):
    t01 = households('t01', 7, statuses=('receiving', 'suspended', 'stopped'))
    t02 = households('t02', 4)
    t01 += households('t01', 2, start=7)            # added later: larger ids, still after t01's others
    sup, cw1 = client_of(app, 'sup'), client_of(app, 'cw1')

    # the county: every township in (township, id) order, each household exactly once
    pages = walk(sup, 'per_page=3')
    assert ids_of(pages) == t01 + t02
    assert all(len(body['items']) <= 3 for body in pages) and len(pages) == 5
    assert {(body['total'], body['total_capped'], body['per_page']) for body in pages} == {(13, False, 3)}
    assert set(pages[0]['items'][0]) == SUMMARY_KEYS         # the items keep their shape
    assert pages[0]['items'][0]['status_zh'] == '享受中'

    # a township caseworker: only their township, whatever township they ask for
    for query in ('per_page=2', 'per_page=2&township=t02'):
        pages = walk(cw1, query)
        assert ids_of(pages) == t01 and pages[0]['total'] == 9

    # the filters hold on every page
    pages = walk(sup, 'per_page=1&township=t01&status=suspended')
    suspended = [h for h in ids_of(walk(sup, 'per_page=100')) if db.session.get(Household, h).status == 'suspended']
    assert ids_of(pages) == suspended and len(suspended) == 2
    assert ids_of(walk(sup, 'per_page=2&township=t02')) == t02

    # page numbers agree with the cursor; a page and a cursor together, or a broken cursor: 422
    assert [h['id'] for h in sup.get('/api/v1/households?per_page=3&page=2').get_json()['items']] == (t01 + t02)[3:6]
    assert sup.get(f'/api/v1/households?page=2&cursor={pages[0]["next"]}').status_code == 422
    assert sup.get('/api/v1/households?cursor=notacursor').status_code == 422
    assert sup.get('/api/v1/households?per_page=101').status_code == 422


def _links(html):
    """The pager's links, as they would be followed."""
    pager = re.search(r'<p class="pager">(.*?)</p>', html, re.S)
    return {unescape(text.strip()): unescape(href) for href, text in
            re.findall(r'<a href="([^"]+)">([^<]+)</a>', pager.group(1))} if pager else {}


def _heads(html):
    return re.findall(r'户主t0\d\d{4}', html)


def test_the_register_page_reaches_its_second_page_with_the_filters_kept(app, monkeypatch):
    monkeypatch.setattr(views_households, 'PER_PAGE', 3, raising=False)
    households('t01', 7, statuses=('receiving', 'suspended'))
    households('t02', 5, statuses=('suspended',))
    web = signed_in(app, 'cw1', PASSWORD)

    first = web.get('/households').get_data(as_text=True)
    assert '共 7 户' in first and _heads(first) == ['户主t010000', '户主t010001', '户主t010002']
    assert '第 1 / 3 页' in first and 'None' not in first
    second = web.get(_links(first)['下一页']).get_data(as_text=True)
    assert _heads(second) == ['户主t010003', '户主t010004', '户主t010005'] and '第 2 / 3 页' in second
    third = web.get(_links(second)['下一页']).get_data(as_text=True)
    assert _heads(third) == ['户主t010006'] and '下一页' not in _links(third) and '上一页' in _links(third)
    with monkeypatch.context() as capped_at_5:          # a province's township: the total is capped
        capped_at_5.setattr(listing, 'TOTAL_CAP', 5)
        capped = web.get('/households').get_data(as_text=True)
    assert '5 户以上' in capped and '第 1 页' in capped and '第 1 / ' not in capped

    # the status filter stays in the links; another township's households never show
    monkeypatch.setattr(views_households, 'PER_PAGE', 2)
    first = web.get('/households?status=suspended&township=t02').get_data(as_text=True)
    assert '共 3 户' in first and '户主t02' not in first and _heads(first) == ['户主t010001', '户主t010003']
    link = _links(first)['下一页']
    assert 'status=suspended' in link
    assert _heads(web.get(link).get_data(as_text=True)) == ['户主t010005']

    # the county picks a township; past the page numbers the next page starts after this page's last row
    monkeypatch.setattr(views_households, 'PER_PAGE', 3)
    monkeypatch.setattr(views_households, 'MAX_OFFSET', 3, raising=False)
    county = signed_in(app, 'sup', PASSWORD)
    first = county.get('/households?township=t02&status=suspended').get_data(as_text=True)
    assert '共 5 户' in first
    link = _links(first)['下一页']
    assert 'after=' in link and 'township=t02' in link and 'status=suspended' in link
    second = county.get(link).get_data(as_text=True)
    assert _heads(second) == ['户主t020003', '户主t020004'] and '回到第一页' in _links(second)
    assert 'None' not in second
    broken = county.get('/households?after=notacursor')
    assert broken.status_code == 422 and '翻页游标无效' in broken.get_data(as_text=True)
