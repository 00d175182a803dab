"""A phone in the field: a village assistant begins an application with a photo taken on the spot,
keeps it (暂存 and the automatic save), leaves, comes back later in a new session and finishes it;
the caseworker does the home survey with a photo. Screenshots at 390×844 and 1366×768."""
import io
import re

from PIL import Image

from service.extensions import db
from service.services import cases
from service.services.auth import find_user

from .conftest import SCREENSHOTS
from .helpers import accepted, do

PHONE = {'width': 390, 'height': 844}
DESK = {'width': 1366, 'height': 768}


def _png(colour):
    out = io.BytesIO()
    Image.new('RGB', (640, 480), colour).save(out, 'PNG')
    return {'name': 'photo.png', 'mimeType': 'image/png', 'buffer': out.getvalue()}


def _shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in (('phone', PHONE), ('desk', DESK)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SCREENSHOTS / f'{name}-{size}.png'), full_page=True)
    page.set_viewport_size(PHONE)


def _fits(page):
    wide = page.evaluate('''() => { const w = window.innerWidth; const out = [];
      for (const el of document.querySelectorAll('body *')) { if (el.closest('svg')) continue; const r = el.getBoundingClientRect();
        if (r.right > w + 1) out.push(el.tagName + '#' + el.id + '.' + el.className + ' ' + Math.round(r.right) + ' ' + (el.textContent||'').slice(0,60)); }
      return out.slice(0, 15); }''')
    assert page.evaluate('document.documentElement.scrollWidth - window.innerWidth') <= 0, (page.url, wide)


def _thumbnail_loaded(page, selector):
    page.wait_for_function('s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }',
                           arg=selector)


def test_phone_application_with_photo_parked_and_finished_later_then_survey(server, person):
    # 1. The village assistant (who starts applications: demo t01_xieli), on a phone at the household,
    #    begins the application, photographs the materials and keeps it (暂存).
    xieli = person('t01_xieli')
    page = xieli.page
    page.set_viewport_size(PHONE)
    page.goto('/cases/new?process=dibao_a')
    assert page.get_attribute('#f-materials_photo', 'capture') == 'environment'
    page.fill('#f-applicant-name', '王秀兰')
    page.fill('#f-applicant-id_number', '11010519491231002X')
    page.fill('#f-applicant-household_size', '3')
    page.check('input[name=authorization_signed][value=true]')
    page.set_input_files('#f-materials_photo', files=[_png((180, 40, 40))])
    _fits(page)
    _shot(page, 'forms-new-application')
    page.click('#save-draft')
    page.wait_for_selector('.flash-ok:has-text("已暂存")')
    _thumbnail_loaded(page, '[data-field="materials_photo"] img.thumb')
    assert page.input_value('#f-applicant-name') == '王秀兰'
    # Typing on: the page saves by itself (every 20 s; the browser's clock is moved, nobody waits).
    page.clock.install()
    page.reload()
    page.fill('#f-applicant-phone', '13800001234')
    page.clock.fast_forward(21000)
    page.wait_for_selector('#draft-status:has-text("已自动暂存")')
    _fits(page)
    _shot(page, 'forms-new-application-draft')
    xieli.close()

    # 2. Later, in a new session: the application comes back as it was left, photo included; finish it.
    again = person('t01_xieli')
    page = again.page
    page.set_viewport_size(PHONE)
    page.goto('/cases/new?process=dibao_a')
    page.wait_for_selector('#draft-restored')
    assert page.input_value('#f-applicant-name') == '王秀兰'
    assert page.input_value('#f-applicant-phone') == '13800001234'
    assert page.is_checked('input[name=authorization_signed][value=true]')
    _thumbnail_loaded(page, '[data-field="materials_photo"] img.thumb')
    page.fill('#f-applicant-address', '城关镇幸福社区3号楼')
    page.check('input[name=commitment_signed][value=true]')
    page.click('#new-case-form button.primary')
    page.wait_for_selector('.flash-ok')
    case_id = int(re.search(r'/cases/(\d+)', page.url).group(1))
    _thumbnail_loaded(page, '#attachments img.thumb')
    assert '申请材料照片' in page.inner_text('#data')
    _fits(page)
    _shot(page, 'forms-case-with-photo')
    # Started: the draft is gone, the next application begins empty.
    page.goto('/cases/new?process=dibao_a')
    assert page.locator('#draft-restored').count() == 0 and page.input_value('#f-applicant-name') == ''

    # The verification on the applicant's authorization comes first (seed 001), then the caseworker
    # accepts it (services: not what is under test).
    do(server.app, case_id, 'request_verification',
       {'verification_request': {'requested_on': '2026-09-28', 'authorization_confirmed': True}}, 't01_jingban')
    with server.app.app_context():
        cases.send_message(find_user('hedui'), case_id, 'verification_result',
                           {'eligible': True, 'report_no': 'HD-1', 'summary': '核对完毕'})
        db.session.remove()
    accepted(server.app, case_id)

    # 3. The caseworker, on a phone at the household, does the home survey with a photo.
    jingban = person('t01_jingban')
    page = jingban.page
    page.set_viewport_size(PHONE)
    page.goto(f'/cases/{case_id}')
    page.click('#ready-tasks a:has-text("入户调查")')
    page.click('button:has-text("认领")')
    page.wait_for_selector('#task-form')
    page.fill('#f-survey-investigators', '李明\n赵强')
    page.fill('#f-survey-per_capita_income', '420')
    page.fill('#f-survey-findings', '住房简陋，主要收入为低保金')
    page.set_input_files('#f-survey-photo', files=[_png((40, 120, 40))])
    page.check('input[name="survey.signed_by_applicant"][value=true]')
    _shot(page, 'forms-survey')
    page.click('#task-form button.primary')
    page.wait_for_selector('.flash-ok:has-text("已办理完成")')

    page.goto(f'/cases/{case_id}')
    items = page.locator('#attachments li')
    assert items.count() == 2
    _fits(page)
    # A comment from the phone, too.
    page.fill('#comment-body', '已入户，照片已上传')
    page.click('#comments button')
    page.wait_for_selector('#comments .comment:has-text("已入户")')
    _shot(page, 'forms-case-finished')
