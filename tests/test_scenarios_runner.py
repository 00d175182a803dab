"""The scenario runner itself: a file that cannot be read is reported in Chinese before anything runs;
a scenario that diverges names the step and the element; `jiuzhu test-processes` exits 1 on a failure;
the coverage check lists the branches no scenario passed."""
import json

import pytest
from click.testing import CliRunner

from service.cli import main
from service.scenarios import coverage, loader
from service.services.repository import read_tree

from .api_helpers import ROOT

DIBAO_A = json.loads((ROOT / 'processes' / 'delegated' / 'dibao_a.scenarios.json').read_text(encoding='utf-8'))


@pytest.mark.parametrize('text, words', [
    ('{', '不是有效的 JSON'),
    ('{"process": "dibao_a"}', 'scenarios 应是非空列表'),
    ('{"process": "dibao_a", "scenarios": [{"name": "甲", "expect": {"ended": true}}]}', '不认识的项 ended'),
    ('{"process": "dibao_a", "scenarios": [{"name": "甲", "steps": [{"use": "无此片段"}], "expect": {"status": "x"}}]}',
     '不存在的片段「无此片段」'),
    ('{"process": "dibao_a", "scenarios": [{"name": "甲", "steps": [{"complete": "t"}], "expect": {"status": "x"}}]}',
     '缺少 as'),
    ('{"process": "dibao_a", "scenarios": [{"name": "甲", "steps": [{"wait": {"weeks": 1}}], "expect": {"status": "x"}}]}',
     'wait 应只含以下一项'),
])
def test_a_file_that_cannot_be_read_says_where_and_why(text, words):
    with pytest.raises(loader.ScenarioFileError) as caught:
        loader.parse(text, 'delegated/x.scenarios.json')
    assert words in str(caught.value) and 'delegated/x.scenarios.json' in str(caught.value)


def test_the_command_reports_where_a_scenario_diverged_and_exits_1(tmp_path):
    wrong = dict(DIBAO_A, scenarios=[
        dict(DIBAO_A['scenarios'][1], name='预期错了的场景', expect={'end_event': 'end_approved'}),
        dict(DIBAO_A['scenarios'][8]),
        {'name': '办理一个还没到的任务', 'steps': [{'complete': 'township_confirmation', 'as': 'township_leader',
                                                'data': {}}], 'expect': {'status': 'running'}}])
    path = tmp_path / 'dibao_a.scenarios.json'
    path.write_text(json.dumps(wrong, ensure_ascii=False), encoding='utf-8')
    result = CliRunner().invoke(main, ['test-processes', str(path)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.startswith('失败') and '预期错了的场景' in line for line in lines), result.output
    reached = next(line for line in lines if '预期在结束事件「end_approved」办结，实际到达：' in line)
    assert 'end_rejected' in reached and '出错环节：end_approved' in reached
    assert any(line.startswith('通过') and DIBAO_A['scenarios'][8]['name'] in line for line in lines)
    assert '第 1 步（办理「township_confirmation」）：任务「township_confirmation」未就绪；当前待办：提请前置核对（受理前）（request_verification）' \
        in result.output and '出错环节：township_confirmation' in result.output
    assert '场景：1 个通过，2 个失败' in result.output


def test_coverage_lists_every_branch_no_passing_scenario_went_through():
    files = {'delegated/dibao_a.bpmn': read_tree(ROOT / 'processes')['delegated/dibao_a.bpmn']}
    branches = coverage.branches(files)
    assert {(b.kind, b.element) for b in branches} >= {('flow', 'Flow_complete'), ('boundary', 'deadline'),
                                                       ('boundary', 'publicity_expired')}
    assert coverage.uncovered(files, []) == branches
    assert '网关 gw_acceptance 的分支 Flow_complete「材料齐全」 → issue_acceptance_notice' in \
        [str(b).split(': ', 1)[1] for b in branches]
