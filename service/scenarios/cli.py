"""`jiuzhu test-processes [PATH...]`: run the scenario files of processes/ (or of PATHs), print each result."""
import json
import sys
from pathlib import Path

import click


@click.command('test-processes')
@click.argument('paths', nargs=-1, type=click.Path())
@click.option('--coverage/--no-coverage', default=None,
              help='List gateway branches and boundary events no scenario passes (default: when no PATH is given).')
@click.option('--json', 'as_json', is_flag=True, help='Print the results as JSON (what the deploy preview reads).')
def test_processes_command(paths, coverage, as_json):
    """Run process scenarios (*.scenarios.json) on a throwaway database; exit 1 if any fails."""
    from ..config import ROOT
    from .suite import run_paths
    import os
    processes = Path(os.environ.get('JIUZHU_PROCESSES_DIR', ROOT / 'processes'))
    forms = Path(os.environ.get('JIUZHU_FORMS_DIR', ROOT / 'forms'))
    for path in paths:
        if not Path(path).exists():
            raise click.BadParameter(f'没有这个文件或目录：{path}')
    with_coverage = (not paths) if coverage is None else coverage
    report = run_paths([Path(p) for p in paths] or [processes], processes, forms, with_coverage=with_coverage)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        _print(report)
    sys.exit(0 if report.passed and not report.uncovered else 1)


def _print(report):
    for r in report.results:
        mark = '通过' if r.passed else '失败'
        click.echo(f'{mark}  {r.file}  {r.name}  ({r.milliseconds:.0f} ms)')
        if not r.passed:
            where = f'  出错环节：{r.element}' if r.element else ''
            click.echo(f'      {r.message}{where}')
    for branch in report.uncovered:
        click.echo(f'未覆盖  {branch}')
    ok, failed = report.counts()
    if not report.results:
        click.echo('没有找到场景文件（*.scenarios.json）')
    click.echo(f'场景：{ok} 个通过，{failed} 个失败' + (f'，{len(report.uncovered)} 个分支没有场景经过' if report.uncovered else ''))
