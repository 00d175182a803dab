"""Load scenario files, run them in one throwaway app, report: what `jiuzhu test-processes`, the deploy
preview and the test suite share."""
from dataclasses import dataclass, field
from pathlib import Path

from . import coverage, loader
from .runner import Result, run_all
from .sandbox_app import scenario_app


@dataclass
class Report:
    results: list = field(default_factory=list)
    uncovered: list = field(default_factory=list)     # coverage.Branch, when asked for

    @property
    def passed(self):
        return all(r.passed for r in self.results)

    def counts(self):
        ok = sum(1 for r in self.results if r.passed)
        return ok, len(self.results) - ok

    def as_dict(self):
        ok, failed = self.counts()
        return {'passed': ok, 'failed': failed, 'results': [r.as_dict() for r in self.results],
                'uncovered': [str(b) for b in self.uncovered]}


def load_texts(texts):
    """Scenarios of {name: text}; a file that cannot be read becomes one failed result."""
    scenarios, broken = [], []
    for name, text in sorted(texts.items()):
        try:
            scenarios.extend(loader.parse(text, name))
        except loader.ScenarioFileError as exc:
            broken.append(Result(name, '', '（无法读取）', passed=False, message=str(exc)))
    return scenarios, broken


def run_texts(texts, processes_dir, forms_dir, files=None, forms=None, with_coverage=False):
    """Run the scenarios of {name: text} against `files` ({path: bytes}, default: all of processes_dir)."""
    scenarios, broken = load_texts(texts)
    report = Report(results=list(broken))
    if scenarios:
        with scenario_app(processes_dir, forms_dir, files=files, forms=forms) as app:
            report.results.extend(run_all(scenarios))
            if with_coverage:
                from ..services import repository
                tree = files if files is not None else repository.read_tree(Path(processes_dir))
                report.uncovered = coverage.uncovered(tree, report.results)
    return report


def run_paths(paths, processes_dir, forms_dir, with_coverage=False):
    texts = {}
    for path in loader.find_files(paths):
        try:
            shown = Path(path).resolve().relative_to(Path(processes_dir).resolve()).as_posix()
        except ValueError:
            shown = str(path)
        texts[shown] = Path(path).read_bytes()
    return run_texts(texts, processes_dir, forms_dir, with_coverage=with_coverage)
