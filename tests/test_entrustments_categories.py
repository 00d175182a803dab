"""The new categories in the entrustment registry, with the demo's 委托书: which flow a new case of
低保边缘、刚性支出、两项补贴、儿童和老年人补贴 starts on is decided by the entrustment in force, and a
township cannot start on a delegated flow it is not entrusted with."""
import re

import pytest

from service import demo
from service.errors import Invalid
from service.extensions import db
from service.services import entrustments, repository

from . import test_flow_recognition as rec
from . import test_flow_subsidies as sub
from .category_helpers import app, module_app_fixture  # noqa: F401

# One worker runs the whole module: its module-scoped app is built once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group('test_entrustments_categories')

module_app = module_app_fixture(rec.FILES + sub.FILES, 'category_entrustments')


@pytest.fixture(scope='module')
def demo_registry(module_app):
    demo.load_users()
    demo.load_entrustments()
    db.session.commit()


@pytest.mark.parametrize('category, township, key', [
    ('marginal_dibao', 't01', 'marginal_dibao_delegated'),     # full delegation
    ('marginal_dibao', 't02', 'marginal_dibao_delegated'),     # transition: the township confirms, guided
    ('rigid_expense', 't01', 'rigid_expense_delegated'),
    ('rigid_expense', 't02', 'rigid_expense_legacy'),          # no 委托书: the county recognises
    ('disability_subsidy', 't01', 'disability_subsidy_delegated'),
    ('disability_subsidy', 't02', 'disability_subsidy_legacy'),  # preparation: still the county
    ('welfare_subsidy', 't02', 'welfare_subsidy_delegated'),
])
def test_the_entrustment_in_force_picks_the_flow(app, demo_registry, category, township, key):
    assert entrustments.definition_for(category, township).key == key


def test_a_township_not_entrusted_cannot_start_the_delegated_flow(app, demo_registry):
    with pytest.raises(Invalid) as caught:
        entrustments.check_start(repository.latest('rigid_expense_delegated'), 't02')
    assert caught.value.code == 'not_entrusted' and '刚性支出困难家庭' in caught.value.message
    assert entrustments.check_start(repository.latest('rigid_expense_legacy'), 't02') == {}
    facts = entrustments.check_start(repository.latest('disability_subsidy_delegated'), 't01')
    assert facts['entrustment_phase'] == 'full'


def signed_in(app, username):
    from .test_web_pages import signed_in as sign_in
    return sign_in(app, username)


def test_pages_name_the_new_flows_codes_and_the_federation_in_chinese(app, demo_registry):
    html = signed_in(app, 't02_jingban').get('/cases/new').get_data(as_text=True)
    assert '刚性支出困难家庭认定（改革前·区县认定）' in html and '低保边缘家庭认定（下放·镇街认定）' in html
    assert '刚性支出困难家庭认定（下放·镇街认定）' not in html             # t02 is not entrusted with it

    case = rec.start('marginal_dibao_delegated', rec.APPLICATION)
    rec.accept(case)
    rec.investigate(case, rec.RIGID)
    page = signed_in(app, 't01_jingban').get(f'/cases/{case.id}').get_data(as_text=True)
    assert '分类认定结果' in page and '刚性支出困难家庭' in page and '低于上年人均可支配收入' in page
    visible = re.sub(r'<[^>]+>', ' ', re.sub(r'<script.*?</script>', '', page, flags=re.S))   # not the diagram's XML
    for code in ('marginal_dibao', 'rigid_expense', 'below_disposable', 'category_sought', 'dibao_standard'):
        assert code not in visible, visible[visible.find(code) - 200:visible.find(code) + 80]

    sub_case = sub.start('disability_subsidy_delegated', sub.DISABILITY)
    sub.accept(sub_case)
    from .flow_helpers import do
    do(sub_case, 'first_check', sub.first_check())
    tasks = signed_in(app, 'canlian').get('/tasks?group=1').get_data(as_text=True)
    assert '区残联审核残疾人证和残疾等级' in tasks
