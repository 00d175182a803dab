"""The temporary-aid notices (受理通知书, 一次性告知书, 不予受理告知书, 临时救助审核确认通知书, 不予临时救助告知书): real delegated and legacy
cases driven through the services, the pages read over HTTP; and every notice a diagram names is
one the documents module can print.
"""
from pathlib import Path

import pytest
from lxml import etree

from service.documents import notices
from service.errors import Invalid
from service.extensions import db
from service.services import repository, runtime, users

from .test_flow_temporary_aid import (APPLICATION, NOTICE, REJECTION, SURVEY, confirmation, decision, do, intake,
                                      expire_publicity, investigate, object_during_publicity, opinion, ready,
                                      reinvestigated, start, to_decision)
from .test_flow_temporary_aid_legacy import INTAKE, to_publicity
from .test_flow_temporary_aid_legacy import accept as accept_legacy
from .notice_helpers import assert_own_id_only, page

ROOT = Path(__file__).resolve().parent.parent
FILES = ('delegated/temporary_aid.bpmn', 'legacy/temporary_aid.bpmn', 'decisions/temporary_aid_ceiling.dmn')
SPIFF = 'http://spiffworkflow.org/bpmn/schema/1.0/core'
ID_NUMBER = APPLICATION['applicant']['id_number']


@pytest.fixture
def app(make_app):
    app = make_app(JIUZHU_DISTRICT_NAME='山亭区')
    with app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({name: tree[name] for name in FILES}, 'tester')
        users.add_user('cw1', '李经办', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
        db.session.commit()
        yield app


# ------------------------------------------------------------------ delegated

def test_delegated_approval_by_the_township(app, clock):
    case = start()
    to_decision(case, amount=3000)
    do(case, 'leader_confirm', confirmation(True, 3000), actor='leader1')
    expire_publicity(clock, case)                   # seed 002: publicised after the confirmation
    assert 'notify_approval' in ready(case)

    status, html = page(app, case, 'temporary_aid_approval_notice')
    assert status == 200 and '待出具' in html
    assert f'〔2026〕城民救临字第 1 号' in html

    do(case, 'notify_approval', {'approval_notice': dict(
        NOTICE, document_no='〔2026〕城民救临字第 000031 号', issued_on='2026-10-12', aid_method='cash', amount=3000)})
    status, html = page(app, case, 'temporary_aid_approval_notice')
    assert status == 200 and 'draft-note' not in html
    assert '城关镇人民政府' in html and '山亭区民政局' not in html
    assert '临时救助审核确认通知书' in html and '2026年10月9日决定予以确认' in html
    assert '经入户调查、家庭经济状况核对、张榜公示和审核' in html
    assert '救助金额人民币3,000.00元' in html and '3,000.00 元' in html
    assert '支出型' in html and '医疗支出骤增' in html and '发放临时救助金' in html
    assert '家中突发火灾' in html and '刚性支出远超家庭承受能力' in html
    assert '〔2026〕城民救临字第 000031 号' in html and '2026年10月12日' in html and '当面送达' in html
    assert '王秀兰' in html and '3 人' in html
    assert_own_id_only(html, ID_NUMBER)

    status, listing = page(app, case)
    assert '临时救助审核确认通知书' in listing and '已出具' in listing
    # The 低保 notices' data rules do not read a temporary-aid case.
    assert '最低生活保障' not in listing and '不予临时救助' not in listing
    assert page(app, case, 'approval_notice')[0] == 404
    assert page(app, case, 'temporary_aid_rejection_notice')[0] == 404


def test_delegated_above_the_ceiling_is_the_county_s_approval(app, clock):
    case = start()
    to_decision(case, amount=6000)
    do(case, 'county_approval', decision(True, 6000), actor='county1')
    expire_publicity(clock, case)
    do(case, 'notify_approval', {'approval_notice': dict(NOTICE, aid_method='goods', amount=6000)})
    _, html = page(app, case, 'temporary_aid_approval_notice')
    assert '<div class="issuer">山亭区民政局</div>' in html and '临时救助审批通知书' in html
    assert '决定予以批准' in html and '张榜公示和审批' in html
    assert '发放实物' in html and '实物折合金额' in html and '6,000.00 元' in html


def test_delegated_rejection_gives_reasons_and_the_remedies_of_the_law(app, clock):
    case = start()
    to_decision(case, amount=3000)
    do(case, 'leader_confirm', confirmation(False), actor='leader1')
    status, html = page(app, case, 'temporary_aid_rejection_notice')
    assert status == 200 and '待出具' in html and f'〔2026〕城民救不临字第 1 号' in html

    do(case, 'notify_rejection', REJECTION)
    assert case.status == 'completed'
    status, html = page(app, case, 'temporary_aid_rejection_notice')
    assert status == 200
    assert '不予临时救助告知书' in html and '城关镇人民政府' in html
    assert '于2026年9月28日提出的临时救助申请' in html and '2026年10月9日决定不予确认' in html
    # The leader's reason, and the notice form's one only where it says something new.
    assert '申请人家庭有存款可以负担' in html and html.count('有存款可以负担') == 1
    assert '六十日内向山亭区人民政府申请行政复议' in html and '六个月内向山亭区人民法院提起行政诉讼' in html
    assert '可自收到之日起60日内申请行政复议' not in html     # remedies come from the law, not the form
    assert '扎民临救〔2026〕1号' in html and '2026年10月9日' in html
    assert_own_id_only(html, ID_NUMBER)
    assert page(app, case, 'temporary_aid_approval_notice')[0] == 404
    _, listing = page(app, case)
    assert '不予临时救助告知书' in listing and '已出具' in listing and '最低生活保障' not in listing


def test_rejected_on_the_township_s_opinion_and_after_an_objection(app, clock):
    case = start()
    investigate(case)
    do(case, 'opinion', opinion(False))
    _, html = page(app, case, 'temporary_aid_rejection_notice')
    assert '家庭收入较高' in html and '不符合临时救助条件' in html and '2026年9月30日决定不予临时救助' in html

    case = start()
    object_during_publicity(clock, case)
    do(case, 'reinvestigation', reinvestigated('ineligible'))
    _, html = page(app, case, 'temporary_aid_rejection_notice')
    assert '张榜公示期间收到异议，经再次调查核实' in html and '车辆已于去年报废' in html
    assert '城关镇人民政府' in html


# ------------------------------------------------------------------ legacy

def test_legacy_approval_is_the_county_s_and_says_approve(app, clock):
    case = start('temporary_aid_legacy')
    to_publicity(case, amount=300)
    expire_publicity(clock, case)
    do(case, 'county_approval', decision(True, 300), actor='county1')
    do(case, 'notify_approval', {'approval_notice': dict(NOTICE, aid_method='cash', amount=300)})
    assert case.status == 'completed'
    status, html = page(app, case, 'temporary_aid_approval_notice')
    assert status == 200
    assert '<div class="issuer">山亭区民政局</div>' in html and '<div class="name">山亭区民政局</div>' in html
    assert '临时救助审批通知书' in html and '2026年10月9日决定予以批准' in html
    assert '经入户调查、张榜公示和审批' in html          # no economic-status verification before the reform
    assert '300.00 元' in html and '支出型' in html and '医疗支出骤增' in html
    assert_own_id_only(html, ID_NUMBER)


def test_legacy_rejection_on_the_township_s_opinion_is_the_township_s(app, clock):
    case = start('temporary_aid_legacy')
    accept_legacy(case, dict(INTAKE, intake={'hardship': 'fire', 'description': '房屋失火', 'accepted_on': '2026-09-28'}))
    do(case, 'investigation', {'survey': dict(SURVEY, findings='损失已由保险赔付')}, actor='surveyor1')
    do(case, 'opinion', opinion(False))
    _, html = page(app, case, 'temporary_aid_rejection_notice')
    assert '<div class="issuer">城关镇人民政府</div>' in html and '急难型' in html and '家庭收入较高' in html


# ------------------------------------------------------------------ acceptance (受理, 一次性告知, 不予受理)

MISSING = ['医疗费用票据原件', '户口簿']


def test_expense_application_missing_materials_then_accepted(app, clock):
    case = start()
    do(case, 'intake', dict(intake('expense'), acceptance={'result': 'incomplete', 'missing_items': MISSING}))
    status, html = page(app, case, 'missing_materials_notice')
    assert status == 200 and '待出具' in html and '补正材料一次性告知书' in html
    assert '临时救助申请' in html and '医疗费用票据原件' in html and '以上共2项为需要补正的全部材料' in html
    do(case, 'notify_missing', {'missing_materials_notice': dict(NOTICE, deadline='2026-10-09')})
    assert page(app, case, 'acceptance_notice')[0] == 404                 # not accepted yet
    runtime.deliver_message(case.id, 'supplement_received', {'items': MISSING, 'received_on': '2026-09-30'},
                            'caseworker1')
    db.session.refresh(case)
    do(case, 'intake', intake('expense'))
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    assert set(ready(case)) == {'home_survey'}                            # accepted: the 12 WD run from here
    status, html = page(app, case, 'acceptance_notice')
    assert status == 200 and 'draft-note' not in html and '<div class="issuer">城关镇人民政府</div>' in html
    assert '临时救助申请，经审查，申请材料齐全' in html and '核实你（户）的家庭经济状况和支出情况' in html
    assert_own_id_only(html, ID_NUMBER)
    status, html = page(app, case, 'missing_materials_notice')              # the one-time notice stays issued
    assert status == 200 and '医疗费用票据原件' in html and '2026年10月9日前' in html
    _, listing = page(app, case)
    assert '受理通知书' in listing and '补正材料一次性告知书' in listing and '不予受理告知书' not in listing


def test_emergency_acceptance_notice_says_first_aid_and_is_never_held_for_materials(app, clock):
    case = start()
    with pytest.raises(Invalid) as refused:                               # the form's rule: aid first
        do(case, 'intake', dict(intake('emergency'), acceptance={'result': 'incomplete', 'missing_items': MISSING}))
    assert 'acceptance.result' in refused.value.details
    do(case, 'intake', intake('emergency'))
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE})
    assert set(ready(case)) == {'first_aid'}
    _, html = page(app, case, 'acceptance_notice')
    assert '属于急难型情形，本机关将先行给予临时救助' in html and '提请区家庭经济状况核对机构' not in html


def test_legacy_refusal_at_acceptance_with_reasons_and_remedies(app, clock):
    case = start('temporary_aid_legacy')
    do(case, 'intake', dict(INTAKE, acceptance={'result': 'ineligible', 'reason': '非本区户籍且未持有本区居住证'}))
    assert set(ready(case)) == {'issue_refusal'}
    do(case, 'issue_refusal', {'refusal_notice': dict(NOTICE, reason='已告知向区救助管理机构求助')})
    assert case.status == 'completed'
    status, html = page(app, case, 'refusal_notice')
    assert status == 200 and '不予受理告知书' in html and '<div class="issuer">城关镇人民政府</div>' in html
    assert '明显不符合临时救助申请条件' in html and '非本区户籍且未持有本区居住证' in html
    assert '已告知向区救助管理机构求助' in html
    assert '六十日内向山亭区人民政府申请行政复议' in html and '六个月内向山亭区人民法院提起行政诉讼' in html
    assert_own_id_only(html, ID_NUMBER)
    _, listing = page(app, case)
    assert '不予受理告知书' in listing and '受理通知书' not in listing.replace('不予受理告知书', '')


def test_legacy_acceptance_notice_says_the_county_approves(app, clock):
    case = start('temporary_aid_legacy')
    accept_legacy(case)
    _, html = page(app, case, 'acceptance_notice')
    assert '提出审核意见后报区民政局审批' in html and '2026年9月28日' in html


# ------------------------------------------------------------------ the diagrams

def test_every_notice_a_diagram_names_is_a_known_kind():
    """A designer's new notice name must not become a dead link on the case page."""
    named = {}
    for path in sorted((ROOT / 'processes').rglob('*.bpmn')):
        tree = etree.parse(str(path))
        for prop in tree.iter(f'{{{SPIFF}}}property'):
            if prop.get('name') == 'notice':
                named.setdefault(prop.get('value'), []).append(str(path.relative_to(ROOT)))
    assert {'temporary_aid_approval_notice', 'temporary_aid_rejection_notice', 'approval_notice'} <= set(named)
    unknown = {kind: files for kind, files in named.items() if kind not in notices.KINDS}
    assert not unknown, f'notice kinds the documents module cannot print: {unknown}'
    # …and each known kind has its page.
    templates = ROOT / 'service' / 'documents' / 'templates' / 'notices'
    assert all((templates / f'{kind}.html').is_file() for kind in notices.KINDS)
