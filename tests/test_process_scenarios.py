"""The scenarios of processes/ (processes/README.md, "Scenarios"): each passes, and together they pass
every gateway branch and boundary event of every shipped diagram.

One throwaway app runs them all (service/scenarios/sandbox_app.py: its own SQLite file, deleted
afterwards), as `jiuzhu test-processes` does; the time each took is printed, not asserted
(tests/bench/ measures speed).
"""
from pathlib import Path

import pytest

from service.scenarios import loader
from service.scenarios.suite import run_paths

# One worker runs the whole module: its module-scoped app is built once (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group('test_process_scenarios')

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / 'processes'
FILES = [p.relative_to(PROCESSES).as_posix() for p in loader.find_files([PROCESSES])]


@pytest.fixture(scope='module')
def report():
    found = run_paths([PROCESSES], PROCESSES, ROOT / 'forms', with_coverage=True)
    slowest = sorted(found.results, key=lambda r: -r.milliseconds)[:3]
    total = sum(r.milliseconds for r in found.results)
    print(f'\n{len(found.results)} scenarios in {total:.0f} ms; slowest: '
          + ', '.join(f'{r.name} {r.milliseconds:.0f} ms' for r in slowest))
    return found


@pytest.mark.parametrize('name', FILES)
def test_scenarios_of_a_diagram_pass(report, name):
    results = [r for r in report.results if r.file == name]
    assert results, f'{name}: no scenario ran'
    failed = [f'{r.name}: {r.message} (element {r.element})' for r in results if not r.passed]
    assert not failed, '\n'.join(failed)


def test_every_branch_of_every_shipped_diagram_has_a_scenario(report):
    assert not report.uncovered, '没有场景经过的分支：\n' + '\n'.join(str(b) for b in report.uncovered)


def test_every_shipped_diagram_has_scenarios():
    diagrams = {p.relative_to(PROCESSES).as_posix() for p in PROCESSES.rglob('*.bpmn')}
    with_scenarios = {name[:-len(loader.SUFFIX)] + '.bpmn' for name in FILES}
    assert sorted(diagrams - with_scenarios) == []
