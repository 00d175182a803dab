"""Bounded property-based run of the whole OpenAPI document: no request may produce a 5xx.

Kept small (a few examples per operation) so it runs in CI on two cores in well under a minute.
The operations are driven with hypothesis directly: schemathesis' own pytest plugin does not
work with pytest 9 yet (it reads a private `_nodeid` that pytest 9 removed).
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from service.services import auth, runtime

from .api_helpers import add_people

pytestmark = pytest.mark.slow   # runs in CI too: `make test` runs every marker

EXAMPLES = 16


def test_no_server_errors_anywhere_in_the_openapi_document(test_app, monkeypatch):
    people = add_people(test_app, monkeypatch)
    runtime.start_instance('core_case', 't01', {'applicant': {'name': '张三'}}, 'cw1')
    schema = schemathesis.openapi.from_wsgi('/api/v1/openapi.json', test_app)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17

    for operation in operations:
        # Half the calls as a supervisor (sees everything), half as a township caseworker.
        for who in ('sup', 'cw1'):
            user = auth.find_user(who)

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES // 2, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                # A fresh token per call: POST /auth/logout and /users/me/password end the caller's tokens.
                response = case.call(headers={'Authorization': f'Bearer {auth.issue_token(user)[0]}'})
                if response.status_code >= 500:
                    failures.append(f'{case.method} {case.formatted_path} -> {response.status_code}: '
                                    f'{response.text[:300]}')
                elif response.status_code >= 400:
                    body = response.json()
                    if set(body) != {'error', 'message', 'details'}:
                        failures.append(f'{case.method} {case.formatted_path}: error body {body}')

            run()
    assert not failures, '\n'.join(failures[:20])
