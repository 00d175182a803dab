"""One app per backend and module for the issue-11 list tests: the dibao diagrams, the demo people
(password jiuzhu-demo) and their entrustments, loaded once; each test starts the cases it needs."""
import pytest
from sqlalchemy import delete

from service import demo
from service.extensions import db
from service.models import InboxRead, SavedFilter
from service.services import auth, cases
from service.services.auth import find_user

from .category_helpers import module_app_fixture
from .conftest import T0
from .security_helpers import APPLICATION, DIAGRAMS, cheap_hashes, pre_verify_case

module_app = module_app_fixture(DIAGRAMS, 'lists')


@pytest.fixture(scope='module')
def world(module_app, tmp_path_factory):
    # Attachments never into the repository's instance/ (the store is made on first use).
    module_app.config['JIUZHU_FILES_DIR'] = str(tmp_path_factory.mktemp('files'))
    module_app.extensions.pop('jiuzhu.filestore', None)
    with pytest.MonkeyPatch.context() as patch:
        cheap_hashes(patch)
        demo.load_users()
        demo.load_entrustments()
    return module_app


@pytest.fixture
def app(world):
    world.extensions['jiuzhu.clock'].set(T0)
    yield world
    db.session.rollback()
    db.session.execute(delete(SavedFilter))
    db.session.execute(delete(InboxRead))
    db.session.commit()


def start(township, name, seq, business_key=None, verify=True):
    data = {**APPLICATION, 'applicant': dict(APPLICATION['applicant'], name=name, id_number=demo.demo_id_number(seq))}
    instance_id = cases.start_case(find_user(f'{township}_jingban'), 'dibao_a', township, data, business_key).id
    if verify:
        pre_verify_case(instance_id, township)   # dibao_a verifies before acceptance (seed 001)
    return instance_id


class Api:
    """A signed-in person's JSON client (bearer token)."""

    def __init__(self, app, username):
        self.c = app.test_client()
        self.h = {'Authorization': f'Bearer {auth.issue_token(find_user(username))[0]}'}

    def get(self, url, **params):
        return self.c.get(url, query_string=params, headers=self.h)

    def post(self, url, json=None):
        return self.c.post(url, json=json, headers=self.h)

    def put(self, url, json=None):
        return self.c.put(url, json=json, headers=self.h)

    def delete(self, url):
        return self.c.delete(url, headers=self.h)
