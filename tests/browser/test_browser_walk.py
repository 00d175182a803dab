"""A newcomer's walk: one delegated dibao case (dibao_a) from application to notice, each step by its person."""
import re

APPLICANT_ID = '11010519491231002X'


def claim_from_group(page, case_label, task_name):
    page.goto('/tasks')
    row = page.locator('#group tr', has_text=case_label).filter(has_text=task_name)
    row.get_by_role('button', name='认领').click()
    page.wait_for_selector('#task-form')
    assert page.inner_text('h1').startswith(task_name)


def submit(page):
    page.click('#task-form button[type=submit]')
    page.wait_for_url(re.compile(r'/tasks$'))


def test_dibao_a_from_application_to_notice(server, person):
    # 1. The village assistant hands in the application (delegated flow A).
    village = person('t01_xieli')
    page = village.page
    page.click('.nav >> text=新申请')
    # 城关镇 is entrusted with dibao on flow A (the demo's 委托书): the only dibao flow it may start.
    page.wait_for_load_state('load')
    assert page.locator('input[name=process_key][value=dibao_a]').is_checked()
    assert page.locator('input[name=process_key][value=dibao_b]').count() == 0
    # The close relative among the staff is chosen by name (the value is the account).
    relative = page.locator('#f-close_relative_of_staff option', has_text='赵经办（城关镇）')
    assert relative.get_attribute('value') == 't01_jingban2'
    page.fill('#business_key', 'T01-2026-0301')
    page.fill('#f-applicant-name', '王秀兰')
    page.fill('#f-applicant-id_number', '110105194912310021')            # a wrong check digit first
    page.fill('#f-applicant-phone', '13800001234')
    page.fill('#f-applicant-address', '城关镇幸福社区3号楼')
    page.fill('#f-applicant-household_size', '三')
    page.click('#new-case-form button[type=submit]')
    assert '身份证号码无效' in page.inner_text('#f-applicant-id_number-error')
    assert page.inner_text('#f-applicant-household_size-error') == '应为整数'
    assert page.input_value('#f-applicant-address') == '城关镇幸福社区3号楼'
    village.shot('new-application-errors')
    page.fill('#f-applicant-id_number', APPLICANT_ID)
    page.fill('#f-applicant-household_size', '3')
    page.check('#f-authorization_signed')
    page.check('#f-commitment_signed')
    page.click('#new-case-form button[type=submit]')
    page.wait_for_url(re.compile(r'/cases/\d+$'))
    case_url = page.url
    assert '已发起申请' in page.inner_text('.flash-ok')
    assert '110105********002X' in page.inner_text('#data') and APPLICANT_ID not in page.content()

    # 2. Seed 001: on the applicant's authorization the caseworker first asks for verification.
    cw = person('t01_jingban')
    page = cw.page
    claim_from_group(page, 'T01-2026-0301', '提请前置核对')
    page.fill('#f-verification_request-requested_on', '2026-09-28')
    page.locator('[data-field="verification_request.authorization_confirmed"]').get_by_label('是').check()
    submit(page)

    # 3. The county verification centre records its result on the case page.
    verifier = person('hedui')
    page = verifier.page
    page.goto(case_url)
    form = page.locator('#message-verification_result')
    form.get_by_label('是').check()
    form.locator('#f-report_no').fill('HD-2026-001')
    form.locator('#f-summary').fill('家庭收入、财产符合低保条件')
    form.get_by_role('button', name='登记').click()
    assert '已登记' in page.inner_text('.flash-ok')
    assert page.locator('#message-verification_result').count() == 0

    # The caseworker then accepts and issues the acceptance notice.
    page = cw.page
    claim_from_group(page, 'T01-2026-0301', '受理审查')
    page.get_by_label('材料齐全，予以受理').check()
    page.fill('#f-acceptance-checked_on', '2026-09-28')
    submit(page)
    claim_from_group(page, 'T01-2026-0301', '出具受理通知书')
    page.fill('#f-acceptance_notice-document_no', '城民救受〔2026〕1号')
    page.fill('#f-acceptance_notice-issued_on', '2026-09-28')
    page.select_option('#f-acceptance_notice-delivery', label='当面送达')
    submit(page)

    # 4. A second caseworker does the home survey (the leader who confirms must not have surveyed).
    surveyor = person('t01_jingban2')
    page = surveyor.page
    claim_from_group(page, 'T01-2026-0301', '入户调查')
    page.fill('#f-survey-surveyed_on', '2026-09-29')
    page.fill('#f-survey-investigators', '李明\n赵强')
    page.fill('#f-survey-per_capita_income', '420')
    page.fill('#f-survey-findings', '家庭无稳定收入，住房简陋')
    page.locator('[data-field="survey.signed_by_applicant"]').get_by_label('是').check()
    submit(page)

    # 5. The township leader confirms with the amount.
    leader = person('t01_lingdao')
    page = leader.page
    claim_from_group(page, 'T01-2026-0301', '审核审批')
    page.locator('[data-field="decision.approved"]').get_by_label('是').check()
    page.fill('#f-decision-decided_on', '2026-09-30')
    page.fill('#f-collective_review-members', '姚东伟（镇长）\n赵红伦（副书记）\n李晓华（副镇长）\n柏忍（主任）\n宋涛（所长）')
    page.click('#task-form button[type=submit]')
    assert page.inner_text('#f-decision-amount-error') == '必填'      # approved needs an amount
    page.fill('#f-decision-amount', '650')
    submit(page)

    # 6. Seven days of publicity in the village pass on the demo clock.
    sup = person('jianguan')
    page = sup.page
    page.goto(case_url)
    publicity = page.locator('#timers tr', has_text='公示期满无异议')
    assert '计时中' in publicity.inner_text()
    page.click('#clockbar button[value=week]')
    page.click('#clockbar button[value=day]')
    assert '计时器到期' in page.inner_text('.flash-ok')

    # 7. The caseworker issues the approval notice; the case is done and the notice can be printed.
    page = cw.page
    claim_from_group(page, 'T01-2026-0301', '出具低保审批通知书')
    page.fill('#f-approval_notice-document_no', '城民救批〔2026〕1号')
    page.fill('#f-approval_notice-issued_on', '2026-10-09')
    page.select_option('#f-approval_notice-delivery', label='当面送达')
    page.fill('#f-approval_notice-monthly_amount', '650')
    page.fill('#f-approval_notice-start_month', '2026-11')
    submit(page)
    page.goto(case_url)
    page.wait_for_selector('#diagram[data-state=ready]')
    assert '已办结' in page.inner_text('h1')
    assert page.locator('#ready-tasks .empty').inner_text() == '案件已办结。'
    history = page.inner_text('#history')
    # People by full name and post; the account name is only the tooltip.
    for who in ('王协理（城关镇幸福村） · 村（社区）协理员', '李经办（城关镇） · 镇街经办人', '孙核对（区核对中心）',
                '赵经办（城关镇）', '张镇长（城关镇分管领导）', '系统（计时器）'):
        assert who in history
    for account in ('t01_xieli', 't01_jingban', 'hedui', 't01_lingdao'):
        assert account not in history
    assert page.locator('#history .person[title=t01_lingdao]').count() >= 1
    assert '按期完成' in page.inner_text('#timers')
    assert page.locator('.marker-completed').count() >= 8
    cw.shot('walk-case-completed')
    links = page.locator('#notices a', has_text='出具低保审批通知书')
    if links.count():
        href = links.first.get_attribute('href')
        assert re.search(r'/cases/\d+/notices/approval_notice$', href)
        page.goto(href)
        assert page.locator('body').inner_text().strip()
        cw.shot('walk-approval-notice')
