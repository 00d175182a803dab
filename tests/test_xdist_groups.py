"""`make test` runs `--dist loadgroup`: a module marked with xdist_group stays on one worker, so its
module-scoped app is built once. pytest 9.2 broke that silently (xdist 3.8 renames the test to
`name@group`, which pytest 9.2 ignores), and every such module was built on both workers, some
several times. This test fails if the grouping stops working again.
"""
import pytest

pytestmark = pytest.mark.xdist_group('test_xdist_groups')


def test_a_grouped_test_carries_its_group_under_loadgroup(request):
    if not getattr(request.config.option, 'loadgroup', False):
        pytest.skip('only `--dist loadgroup` (make test) groups tests')
    assert request.node.nodeid.endswith('@test_xdist_groups')
