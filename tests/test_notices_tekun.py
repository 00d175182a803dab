"""The 特困 notices (确认通知书 with the care level and the certificate, 不予确认通知书 with remedies):
real tekun cases driven through the services, the pages read over HTTP."""
import pytest

from service.extensions import db
from service.services import users

from .test_flow_tekun import (APPLICATION, APPROVAL, NO_SPOT_CHECK, REJECTION, accept, decision, do,  # noqa: F401
                              expire_publicity, investigate, minor_application, module_app, opinion, ready,
                              self_care, start)
from .conftest import T0
from .notice_helpers import assert_own_id_only, page

# One worker runs the whole module: its module-scoped app is built once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group('test_notices_tekun')

ID_NUMBER = APPLICATION['applicant']['id_number']


@pytest.fixture(scope='module')
def caseworker(module_app):
    users.add_user('cw1', '李经办', 'township_caseworker', 't01', 'secret-pass-1', 'tester')
    db.session.commit()


@pytest.fixture
def app(module_app, caseworker):
    module_app.extensions['jiuzhu.clock'].set(T0)
    yield module_app
    db.session.rollback()


def test_legacy_confirmation_is_the_county_s_with_care_level_and_certificate(app, clock):
    case = start('tekun_legacy')
    accept(case)
    investigate(case)
    expire_publicity(clock, case)
    do(case, 'self_care_assessment', self_care(['bathing']), actor='county1')
    do(case, 'county_confirmation', dict(decision(True), **NO_SPOT_CHECK), actor='county1')

    status, html = page(app, case, 'tekun_approval_notice')
    assert status == 200 and '待出具' in html
    do(case, 'issue_approval_notice', APPROVAL, actor='county1')
    status, html = page(app, case, 'tekun_approval_notice')
    assert status == 200 and 'draft-note' not in html
    assert '<div class="issuer">本区民政局</div>' in html and '特困人员救助供养确认通知书' in html
    assert '2026年10月21日决定予以确认' in html and '自2026年11月起给予救助供养待遇' in html
    assert '经入户调查、家庭经济状况核对、村（社区）公示、生活自理能力评估和审核' in html
    assert '半护理' in html and '部分丧失生活自理能力' in html and '分散供养' in html
    assert '1,100.00 元/月' in html and '150.00 元/月' in html and 'TK-T01-0007' in html
    assert '《特困人员救助供养证》（证号：TK-T01-0007）' in html and '在你所在村（社区）公布' in html
    assert '张桂芳' in html
    assert_own_id_only(html, ID_NUMBER)

    status, listing = page(app, case)
    assert '受理通知书' in listing and '特困人员救助供养确认通知书' in listing and '已出具' in listing
    assert '不予确认' not in listing
    assert page(app, case, 'approval_notice')[0] == 404                  # not the 低保 notice


def test_delegated_rejection_is_the_township_s_with_reasons_and_remedies(app, clock):
    case = start('tekun_delegated')
    accept(case)
    investigate(case, opinion('reject', major_doubt=False))
    expire_publicity(clock, case)
    do(case, 'self_care_assessment', self_care())
    do(case, 'township_confirmation', decision(False), actor='leader1')
    do(case, 'issue_rejection_notice', REJECTION)
    status, html = page(app, case, 'tekun_rejection_notice')
    assert status == 200
    assert '<div class="issuer">城关镇人民政府</div>' in html and '特困人员救助供养不予确认通知书' in html
    assert '2026年10月21日决定不予确认' in html and '其子具有履行赡养义务能力' in html
    assert html.count('其子具有履行赡养义务能力') == 1                     # the same reason is said once
    assert '六十日内向本区人民政府申请行政复议' in html and '六个月内向本区人民法院提起行政诉讼' in html
    assert '最低生活保障、临时救助' in html
    assert_own_id_only(html, ID_NUMBER)


def test_minor_confirmation_says_it_is_not_publicised(app, clock):
    case = start('tekun_delegated', minor_application())
    accept(case)
    investigate(case, opinion(major_doubt=False))
    do(case, 'self_care_assessment', self_care(['bathing', 'toileting', 'dressing', 'indoor_walking']))
    do(case, 'township_confirmation', decision(True), actor='leader1')
    do(case, 'issue_approval_notice', APPROVAL)
    status, html = page(app, case, 'tekun_approval_notice')
    assert status == 200 and '<div class="issuer">城关镇人民政府</div>' in html
    assert '你是未成年人，确认结果不予公示、公布' in html and '村（社区）公示' not in html
    assert '全护理' in html and '完全丧失生活自理能力' in html and '小军' in html
    # The category's certificate, printed from the issued confirmation notice.
    status, html = page(app, case, 'tekun_certificate')
    assert status == 200 and '特困人员救助供养证' in html and '全护理' in html and '小军' in html
