"""The new categories in the entrustment registry, with the demo's 委托书: which flow a new case of
低保边缘、刚性支出、两项补贴、儿童和老年人补贴 starts on is decided by the entrustment in force, and a
township cannot start on a delegated flow it is not entrusted with."""
import pytest

from service import demo
from service.errors import Invalid
from service.extensions import db
from service.services import entrustments, repository

from . import test_flow_recognition as rec
from . import test_flow_subsidies as sub
from .category_helpers import app, module_app_fixture  # noqa: F401

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
