"""A designer uploads a diagram that validation rejects, then a corrected one: previewed, then deployed,
without a restart."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BROKEN = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_broken"
                  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="dibao_b" name="最低生活保障审核确认（下放·方案B）" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="orphan_task" />
    <bpmn:userTask id="orphan_task" name="无人办理的任务" />
    <bpmn:sequenceFlow id="f2" sourceRef="orphan_task" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
'''


def test_invalid_then_valid_upload(server, person, tmp_path):
    des = person('sheji')
    page = des.page
    page.goto('/designer')
    b_row = page.locator('#definitions tr', has_text='dibao_b')
    assert b_row.count() == 1 and '第 1 版' in b_row.inner_text()

    broken = tmp_path / 'dibao_b.bpmn'
    broken.write_text(BROKEN, encoding='utf-8')
    page.set_input_files('#files', str(broken))
    page.click('#upload button[type=submit]')
    page.wait_for_selector('#problems')
    assert page.locator('#deploy-button').count() == 0
    problems = page.locator('#problems tbody tr')
    assert problems.count() >= 1
    cells = problems.first.locator('td')
    assert cells.nth(0).inner_text().endswith('dibao_b.bpmn')
    assert cells.nth(1).inner_text() == '7'
    assert cells.nth(2).inner_text() == 'orphan_task'
    assert '泳道' in page.inner_text('#problems')
    des.shot('designer-invalid')
    assert page.locator('#definitions tr', has_text='dibao_b').count() == 1   # nothing was deployed

    # The corrected file: the real diagram with a renamed task is a new version.
    source = (ROOT / 'processes' / 'delegated' / 'dibao_b.bpmn').read_text(encoding='utf-8')
    fixed = tmp_path / 'fixed' / 'dibao_b.bpmn'
    fixed.parent.mkdir()
    fixed.write_text(source.replace('name="受理审查"', 'name="受理审查（新）"', 1), encoding='utf-8')
    page.set_input_files('#files', str(fixed))
    page.click('#upload button[type=submit]')
    # The preview says what changed in the words of the page, then the deploy button deploys it.
    page.wait_for_selector('#deploy-button')
    changes = page.locator('.preview-process[data-key=dibao_b] .changes li')
    assert changes.all_inner_texts() == ['「受理审查」改名为「受理审查（新）」']
    des.shot('designer-preview')
    page.click('#deploy-button')
    assert '已部署' in page.inner_text('.flash-ok') and '第 2 版' in page.inner_text('.flash-ok')
    rows = page.locator('#definitions tr', has_text='dibao_b')
    assert rows.count() == 2
    des.shot('designer-deployed')

    # Either version's diagram can be viewed.
    rows.first.get_by_role('link', name='查看流程图').click()
    page.wait_for_selector('#diagram[data-state=ready]')
    assert '第 2 版' in page.inner_text('h1')
    assert page.locator('.djs-element[data-element-id=check_materials]').count() == 1
    des.shot('designer-diagram')
