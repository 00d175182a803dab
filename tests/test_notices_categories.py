"""The unified notices of the issue-12 categories, rendered over HTTP from real cases: the 低保边缘 and
刚性支出 recognition decisions with their certificates (the 刚性 one with its 12-month term), the
refusal with reasons and remedies, the acceptance notice naming the matter, the 两项补贴 notices (paid
from the month of application; a first-check refusal is the township's) and the subsidy notices."""
import pytest

from service.extensions import db
from service.services import users

from . import test_flow_recognition as rec
from . import test_flow_subsidies as sub
from .category_helpers import FILING, NOTICE, module_app_fixture, start
from .conftest import T0
from .notice_helpers import assert_own_id_only, page
from .flow_helpers import do

# One worker runs the whole module: its module-scoped app is built once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group('test_notices_categories')

module_app = module_app_fixture(rec.FILES + sub.FILES, 'category_notices')


@pytest.fixture(scope='module')
def caseworker(module_app):
    users.add_user('cw1', '李经办', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
    db.session.commit()


@pytest.fixture
def app(module_app, caseworker):
    module_app.extensions['jiuzhu.clock'].set(T0)
    yield module_app
    db.session.rollback()


def test_rigid_recognition_after_the_consent_move_prints_the_term_and_certificate(app, clock):
    case = start('marginal_dibao_delegated', rec.APPLICATION)
    rec.accept(case)
    status, html = page(app, case, 'acceptance_notice')
    assert status == 200 and '低保边缘家庭认定' in html
    rec.investigate(case, rec.RIGID)
    do(case, 'category_consent', rec.consent(True))
    rec.through_publicity(clock, case)
    do(case, 'confirmation', rec.decision(True), actor='leader1')
    status, html = page(app, case, 'rigid_expense_recognition_notice')
    assert status == 200 and '待出具' in html
    do(case, 'issue_rigid_notice', rec.RECOGNITION)
    do(case, 'county_filing', FILING, actor='county1')
    status, html = page(app, case, 'rigid_expense_recognition_notice')
    assert status == 200 and 'draft-note' not in html
    assert '<div class="issuer">城关镇人民政府</div>' in html and '刚性支出困难家庭认定决定书' in html
    assert '刚性支出困难家庭认定申请' in html                                # the matter after the move
    assert '不符合低保边缘家庭条件，经分类认定并征得你（户）同意，按刚性支出困难家庭认定' in html
    assert '刚性支出超过家庭总收入的50%' in html and '低于上年度人均可支配收入' in html
    assert '本认定有效期自2026年' in html and '最长不超过12个月' in html and '重新提出申请' in html
    assert '刚性支出困难家庭认定证明' in html and 'BY-T01-0003' in html and '有效期至2027年' in html
    assert_own_id_only(html)
    status, listing = page(app, case)
    assert '受理通知书' in listing and '刚性支出困难家庭认定决定书' in listing
    assert '低保边缘家庭认定决定书' not in listing and '审核确认通知书' not in listing


def test_marginal_refusal_with_reasons_and_remedies(app, clock):
    case = start('marginal_dibao_legacy', rec.APPLICATION)
    rec.accept(case)
    rec.investigate(case, rec.NONE)
    rec.through_publicity(clock, case, 'reject')
    do(case, 'confirmation', rec.decision(False), actor='county1')
    do(case, 'issue_rejection_notice', rec.REJECTION)
    status, html = page(app, case, 'recognition_rejection_notice')
    assert status == 200 and '低保边缘家庭不予认定决定书' in html
    assert '<div class="issuer">本区民政局</div>' in html                    # the county decided (legacy)
    assert html.count('家庭人均收入高于认定标准') == 1
    assert '六十日内向本区人民政府申请行政复议' in html and '六个月内向本区人民法院提起行政诉讼' in html
    assert_own_id_only(html)


def test_marginal_recognition_certificate(app, clock):
    case = start('marginal_dibao_delegated', rec.APPLICATION)
    rec.accept(case)
    rec.investigate(case, rec.MARGINAL)
    rec.through_publicity(clock, case)
    do(case, 'confirmation', rec.decision(True), actor='leader1')
    do(case, 'issue_marginal_notice', rec.RECOGNITION)
    status, html = page(app, case, 'marginal_dibao_recognition_notice')
    assert status == 200 and '低保边缘家庭认定决定书' in html and '低于低保标准1.5倍' in html
    assert '低保边缘家庭认定证明' in html and '共同生活家庭成员 3 人' in html and '有效期' not in html


def test_disability_approval_counts_from_the_month_of_application(app, clock):
    case = start('disability_subsidy_delegated', sub.DISABILITY)
    sub.accept(case)
    do(case, 'first_check', sub.first_check())
    do(case, 'federation_check', sub.federation(3), actor='federation1')
    do(case, 'subsidy_decision', sub.DECIDED, actor='leader1')
    do(case, 'issue_approval_notice', sub.APPROVAL)
    status, html = page(app, case, 'disability_subsidy_approval_notice')
    assert status == 200 and '残疾人两项补贴审核确认通知书' in html
    assert '肢体残疾三级' in html and '享受困难残疾人生活补贴每月100.00元' in html
    assert '护理补贴每月' not in html                                        # grade 3: no care subsidy
    assert '自2026年9月（递交申请当月）起计发' in html and '残疾人两项补贴享受证明' in html
    assert_own_id_only(html)


def test_disability_first_check_refusal_is_the_township_s_even_before_the_reform(app, clock):
    case = start('disability_subsidy_legacy', sub.DISABILITY)
    sub.accept(case)
    do(case, 'first_check', sub.first_check(passed=False))
    do(case, 'issue_rejection_notice', sub.REJECTION)
    status, html = page(app, case, 'disability_subsidy_rejection_notice')
    assert status == 200 and '<div class="issuer">城关镇人民政府</div>' in html
    assert '经镇人民政府（街道办事处）初审' in html and html.count('已享受工伤保险生活护理费') == 1
    assert '申请行政复议' in html


@pytest.mark.parametrize('subsidy, title', [('orphan', '孤儿基本生活费审批通知书'),
                                            ('elderly', '经济困难老年人补贴审批通知书')])
def test_welfare_subsidy_notice_names_the_subsidy(app, clock, subsidy, title):
    case = start('welfare_subsidy_delegated', dict(sub.WELFARE, subsidy_type=subsidy))
    sub.accept(case)
    do(case, 'home_survey', sub.SURVEY)
    do(case, 'subsidy_decision', {'decision': {'approved': True, 'amount': 1500, 'start_month': '2026-10',
                                               'decided_on': '2026-10-12'}}, actor='leader1')
    do(case, 'issue_approval_notice', {'approval_notice': NOTICE})
    status, html = page(app, case, 'welfare_subsidy_approval_notice')
    assert status == 200 and title in html and '每月1,500.00元，自2026年10月起按月发放' in html
    assert '监护人：王桂英（祖母）' in html
    status, html = page(app, case, 'acceptance_notice')
    assert title.replace('审批通知书', '') in html


def test_welfare_refusal(app, clock):
    case = start('welfare_subsidy_legacy', dict(sub.WELFARE, subsidy_type='child_in_distress'))
    sub.accept(case)
    do(case, 'home_survey', sub.SURVEY)
    do(case, 'subsidy_decision', {'decision': {'approved': False, 'reasons': '不属于困境儿童保障范围',
                                               'decided_on': '2026-10-12'}}, actor='county1')
    do(case, 'issue_rejection_notice', sub.REJECTION)
    status, html = page(app, case, 'welfare_subsidy_rejection_notice')
    assert status == 200 and '不予批准困境儿童生活补贴告知书' in html and '<div class="issuer">本区民政局</div>' in html
    assert '不属于困境儿童保障范围' in html and '申请行政复议' in html
