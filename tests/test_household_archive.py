"""一户一档 (issue 13): a household's archive lists every case, form, notice, attachment and the audit
trail in the order of seed 002, on screen, as one PDF (rendered by WeasyPrint, read back with pypdf)
and as a zip of the originals. A real dibao case granted on the manual clock, a photo attached.
"""
import io
import json
import re
import zipfile

import pytest
from pypdf import PdfReader

from service.extensions import db
from service.services import attachments, auth, users

from .category_helpers import module_app_fixture
from .api_helpers import PASSWORD
from .conftest import T0
from .security_helpers import signed_in
from .test_complaints import client_of
from .test_households import granted_household

FILES = ('delegated/dibao_a.bpmn', 'common/household_review.bpmn', 'common/complaint_review.bpmn')
module_app = module_app_fixture(FILES, 'archive')
def png():
    from PIL import Image
    out = io.BytesIO()
    Image.new('RGB', (4, 4), (200, 30, 30)).save(out, 'PNG')
    return out.getvalue()


PNG = png()


@pytest.fixture
def app(module_app, tmp_path_factory):
    module_app.extensions['jiuzhu.clock'].set(T0)
    module_app.config['JIUZHU_FILES_DIR'] = str(tmp_path_factory.mktemp('files'))
    module_app.extensions.pop('jiuzhu.filestore', None)
    if auth.find_user('cw1') is None:
        for name, role, township in (('cw1', 'township_caseworker', 't01'), ('cw2', 'township_caseworker', 't02'),
                                     ('sup', 'county_supervisor', None)):
            users.add_user(name, '测试' + name, role, township, 'secret-pass-1', 'tester')
        db.session.commit()
    yield module_app
    db.session.rollback()


def pdf_text(body):
    reader = PdfReader(io.BytesIO(body))
    return len(reader.pages), ''.join(page.extract_text() for page in reader.pages)


def test_the_archive_lists_every_document_in_seed_order_and_exports_a_pdf_and_the_originals(app, clock):
    case, household = granted_household(clock)
    photo = attachments.save(auth.find_user('cw1'), PNG, '户口本.png', instance_id=case.id)
    # a complaint about the household: its handling case and review belong to the archive too
    complaint = client_of(app, 'sup').post('/api/v1/complaints', json={
        'source': 'hotline_12349', 'content': '反映该户有车辆', 'household_id': household.id}).get_json()

    web = signed_in(app, 'cw1', PASSWORD)
    page = web.get(f'/households/{household.id}/archive')
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '一户一档' in html
    # seed 002: the application's documents (application data, forms, notices, proofs) come first
    order = [html.index(text) for text in ('申请及受理资料', '入户调查', '查看文书', '户口本.png', '举报投诉核查与答复',
                                           '救助金发放与调整记录', '办理记录（审计日志）')]
    assert order == sorted(order), order
    assert '11010519491231002X' not in html                              # ID numbers masked on screen
    assert signed_in(app, 'cw2', PASSWORD).get(f'/households/{household.id}/archive').status_code == 404

    r = web.get(f'/households/{household.id}/archive.pdf')
    assert r.status_code == 200 and r.mimetype == 'application/pdf' and r.data.startswith(b'%PDF')
    pages, text = pdf_text(r.data)
    assert pages >= 3
    compact = text.replace(' ', '').replace('\n', '')
    for title in ('社会救助家庭档案（一户一档）', '目录', '申请及受理资料', '入户调查', '户口本.png',
                  '救助金发放与调整记录', '办理记录（审计日志）', '王秀兰'):
        assert title in compact, title
    # every document of the archive is listed in the PDF's contents: its number and title
    listed = re.findall(r'<h3 id="doc-(\d+)">\d+\. ([^<]+?)(?: <span|</h3>)', html)
    assert len(listed) >= 8 and [int(n) for n, _ in listed] == list(range(1, len(listed) + 1))
    for number, title in listed:
        assert f'{number}.{title.strip()}' in compact, (number, title)

    r = web.get(f'/households/{household.id}/archive.zip')
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.data)) as z:
        names = z.namelist()
        original = [n for n in names if n.startswith('原件/') and n.endswith('户口本.png')]
        assert len(original) == 1 and z.read(original[0]) == PNG
        manifest = json.loads(z.read('清单.json'))
        assert manifest['household_id'] == household.id and manifest['originals'][0]['sha256'] == photo.sha256
    assert complaint['instance_id'] is not None
