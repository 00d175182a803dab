"""A newcomer breaks a diagram on purpose, sees the incident, fixes and redeploys it, retries, and the case goes on.

The diagram is a small dibao-like flow on the real forms: 受理审查 → 核算家庭人均 (a script with a
typo in a data name: it fails) → 审核确认. Everything goes through the pages: the designer page
deploys both versions, the caseworker starts and accepts the case, the county supervisor finds
it on 故障案件 and retries it on the newest version.
"""
import re

TYPO = "per_person = standard * applicant['household_sise']"
FIXED = "per_person = standard * applicant['household_size']"

NEWCOMER = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
                  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Definitions_newcomer" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="Collaboration_newcomer">
    <bpmn:participant id="Participant_newcomer" name="练习流程" processRef="newcomer_case" />
  </bpmn:collaboration>
  <bpmn:process id="newcomer_case" name="练习：低保核算" isExecutable="true">
    <bpmn:extensionElements>
      <spiffworkflow:properties>
        <spiffworkflow:property name="category" value="dibao" />
      </spiffworkflow:properties>
    </bpmn:extensionElements>
    <bpmn:laneSet id="LaneSet_newcomer">
      <bpmn:lane id="Lane_caseworker" name="镇街经办人">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>check_materials</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>compute</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_leader" name="镇街分管领导">
        <bpmn:flowNodeRef>confirm</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="提出申请">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="dibao_application.schema.json" />
          <spiffworkflow:property name="formUiSchemaFilename" value="dibao_application.uischema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="check_materials" name="受理审查">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="dibao_acceptance.schema.json" />
          <spiffworkflow:property name="formUiSchemaFilename" value="dibao_acceptance.uischema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:scriptTask id="compute" name="核算家庭人均">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>standard = 800
SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="confirm" name="审核确认">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="dibao_decision.schema.json" />
          <spiffworkflow:property name="formUiSchemaFilename" value="dibao_decision.uischema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="办结">
      <bpmn:incoming>f4</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check_materials" />
    <bpmn:sequenceFlow id="f2" sourceRef="check_materials" targetRef="compute" />
    <bpmn:sequenceFlow id="f3" sourceRef="compute" targetRef="confirm" />
    <bpmn:sequenceFlow id="f4" sourceRef="confirm" targetRef="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_newcomer">
    <bpmndi:BPMNPlane id="BPMNPlane_newcomer" bpmnElement="Collaboration_newcomer">
      <bpmndi:BPMNShape id="Participant_newcomer_di" bpmnElement="Participant_newcomer" isHorizontal="true">
        <dc:Bounds x="10" y="10" width="760" height="300" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_caseworker_di" bpmnElement="Lane_caseworker" isHorizontal="true">
        <dc:Bounds x="40" y="10" width="730" height="150" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_leader_di" bpmnElement="Lane_leader" isHorizontal="true">
        <dc:Bounds x="40" y="160" width="730" height="150" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="82" y="67" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="check_materials_di" bpmnElement="check_materials"><dc:Bounds x="170" y="45" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="compute_di" bpmnElement="compute"><dc:Bounds x="330" y="45" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="confirm_di" bpmnElement="confirm"><dc:Bounds x="490" y="195" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="662" y="217" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="118" y="85" /><di:waypoint x="170" y="85" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="270" y="85" /><di:waypoint x="330" y="85" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3"><di:waypoint x="430" y="85" /><di:waypoint x="540" y="85" /><di:waypoint x="540" y="195" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f4_di" bpmnElement="f4"><di:waypoint x="590" y="235" /><di:waypoint x="662" y="235" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
'''


def deploy(page, path, version):
    page.goto('/designer')
    page.set_input_files('#files', str(path))
    page.click('#upload button[type=submit]')
    page.click('#deploy-button')          # after the preview of exactly this file
    flash = page.inner_text('.flash-ok')
    assert '已部署' in flash and f'newcomer_case）第 {version} 版' in flash, flash


def no_sideways_scroll(page):
    return page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')


def test_break_see_fix_redeploy_retry(server, person, browser, tmp_path):
    broken = tmp_path / 'v1' / 'newcomer_case.bpmn'
    broken.parent.mkdir()
    broken.write_text(NEWCOMER.replace('SCRIPT', TYPO), encoding='utf-8')
    fixed = tmp_path / 'v2' / 'newcomer_case.bpmn'
    fixed.parent.mkdir()
    fixed.write_text(NEWCOMER.replace('SCRIPT', FIXED), encoding='utf-8')

    # 1. The newcomer deploys the diagram with the typo: validation cannot see a wrong data name.
    designer = person('sheji')
    deploy(designer.page, broken, 1)

    # 2. A caseworker starts a case on it and accepts it; the step after acceptance fails.
    cw = person('t01_jingban')
    page = cw.page
    page.goto('/cases/new?process=newcomer_case')
    page.fill('#business_key', 'LX-2026-001')
    page.fill('#f-applicant-name', '王秀兰')
    page.fill('#f-applicant-id_number', '11010519491231002X')
    page.fill('#f-applicant-phone', '13800001234')
    page.fill('#f-applicant-address', '城关镇幸福社区3号楼')
    page.fill('#f-applicant-household_size', '3')
    page.check('#f-authorization_signed')
    page.check('#f-commitment_signed')
    page.click('#new-case-form button[type=submit]')
    page.wait_for_url(re.compile(r'/cases/\d+$'))
    case_path = re.search(r'/cases/\d+$', page.url).group(0)
    page.goto('/tasks')
    page.locator('#group tr', has_text='LX-2026-001').get_by_role('button', name='认领').click()
    page.wait_for_selector('#task-form')
    page.get_by_label('材料齐全，予以受理').check()
    page.fill('#f-acceptance-checked_on', '2026-09-28')
    page.click('#task-form button[type=submit]')
    page.wait_for_url(re.compile(r'/tasks$'))
    page.goto(case_path)
    assert '流程故障' in page.inner_text('h1')
    assert '等待区民政局处理' in page.inner_text('#case-banner')
    assert page.locator('#case-banner form').count() == 0          # caseworkers see it, cannot act on it

    # 3. The county supervisor sees it on 故障案件: step, line, message, what ran into it and who.
    sup = person('jianguan')
    page = sup.page
    assert page.inner_text('#nav-incidents .count') == '1'
    page.click('#nav-incidents')
    row = page.locator('#incidents tr', has_text='LX-2026-001')
    assert row.count() == 1
    cells = row.inner_text()
    for expected in ('王秀兰', '110105********002X', '练习：低保核算', '第 1 版', '城关镇', '核算家庭人均',
                     'household_sise', '办理任务', '李经办（城关镇）'):
        assert expected in cells, expected
    assert row.locator('[data-label="行"]').inner_text() == '2'
    assert row.locator('.element').get_attribute('title').endswith('compute')
    sup.shot('incidents-list')

    # 4. The newcomer fixes the typo and redeploys: version 2; the held case stays on version 1.
    deploy(designer.page, fixed, 2)

    # 5. The supervisor opens the case: the banner, the failing step marked in the diagram.
    row.get_by_role('link').click()
    page.wait_for_selector('#diagram[data-state=ready]')
    banner = page.inner_text('#case-banner')
    assert '核算家庭人均' in banner and '第 2 行' in banner and 'household_sise' in banner
    assert page.locator('.djs-element.marker-failed[data-element-id=compute]').count() == 1
    latest = page.locator('#retry-latest')
    assert latest.is_checked()
    assert '迁移到最新版本：第 2 版' in page.inner_text('#retry')
    sup.shot('incident-case')

    # A data correction that is not JSON comes back with a Chinese field error; nothing happened.
    page.fill('#retry-data', "{household_size: 3}")
    page.click('#retry button[type=submit]')
    assert '不是有效的 JSON' in page.inner_text('#retry-data-error')
    assert page.input_value('#retry-data') == '{household_size: 3}'
    assert '流程故障' in page.inner_text('h1')

    # 6. Retry on the newest version: the case goes on to its next task.
    page.fill('#retry-data', '')
    page.check('#retry-latest')
    page.click('#retry button[type=submit]')
    page.wait_for_selector('#diagram[data-state=ready]')
    assert '已重试，已迁移到第 2 版，案件继续办理' in page.inner_text('.flash-ok')
    assert '办理中' in page.inner_text('h1')
    assert '审核确认' in page.inner_text('#ready-tasks')
    assert page.locator('.marker-failed').count() == 0
    assert page.locator('.djs-element.marker-active[data-element-id=confirm]').count() == 1
    assert page.locator('#nav-incidents .count').count() == 0
    assert '第 2 版' in page.inner_text('.kv')
    sup.shot('incident-retried')

    # The leader now has the next task in the township's list.
    leader = person('t01_lingdao')
    leader.page.goto('/tasks')
    assert leader.page.locator('#group tr', has_text='LX-2026-001').filter(has_text='审核确认').count() == 1


def test_incident_pages_on_a_phone(server, person, browser):
    """390 px wide: the list becomes one card per incident, the banner's forms fit, nothing scrolls sideways."""
    from .helpers import accepted, start
    from service.extensions import db
    from service.models import ProcessInstance
    from service.services import repository

    with server.app.app_context():
        # A broken version of dibao_a: its acceptance-time script refers to a name that does not exist.
        source = repository.latest('dibao_a').source
        assert 'accepted_at = now()' in source
        repository.deploy({'delegated/dibao_a.bpmn': source.replace('accepted_at = now()',
                                                                     'accepted_at = now(accepted_on)').encode()},
                          'sheji')
    case_id = start(server.app, business_key='T01-2026-0901')
    accepted(server.app, case_id)
    with server.app.app_context():
        assert db.session.get(ProcessInstance, case_id).status == 'incident'

    sup = person('jianguan')
    phone = browser.new_context(base_url=server.url, locale='zh-CN', timezone_id='Asia/Shanghai',
                                viewport={'width': 390, 'height': 844}, is_mobile=True, has_touch=True,
                                storage_state=sup.context.storage_state())
    try:
        page = phone.new_page()
        errors = []
        page.on('pageerror', lambda exc: errors.append(str(exc)))
        page.goto('/incidents')
        row = page.locator('#incidents tr', has_text='T01-2026-0901')
        assert row.count() == 1 and row.is_visible()
        assert no_sideways_scroll(page)
        page.screenshot(path=str(_shot('phone-incidents')), full_page=True)
        page.goto(f'/cases/{case_id}')
        page.wait_for_selector('#diagram[data-state=ready]')
        assert page.locator('#case-banner').is_visible() and page.locator('#retry-data').is_visible()
        box = page.locator('#case-banner').bounding_box()
        assert box['x'] >= 0 and box['x'] + box['width'] <= 390
        assert page.locator('#retry button[type=submit]').bounding_box()['x'] + 10 < 390
        page.screenshot(path=str(_shot('phone-incident-case')), full_page=True)
        assert not errors, errors
    finally:
        phone.close()


def _shot(name):
    from .conftest import SCREENSHOTS
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f'{name}.png'
