"""The designer's round trip in the browser modeler: open dibao_a, change the publicity period and a
lane with the mouse and the properties panel, validate, see the diff, deploy; new cases take the
new version, a running case keeps its own. Every shipped diagram survives import and export with
all its spiffworkflow extensions; a decision table edited in dmn-js is saved and deployed."""
from lxml import etree

from service.demo import demo_id_number

from .conftest import ROOT
from .helpers import APPLICATION, start
from .modeler_helpers import drag_into_lane, latin_words, open_editor, spiff_extensions, watch_csp

# A preview runs the changed diagrams' scenarios in a child process: temporary aid's take many seconds.
PREVIEW_MS = 240_000


def _api_token(page, username):
    from service.demo import DEMO_PASSWORD
    answer = page.request.post('/api/v1/auth/token', data={'username': username, 'password': DEMO_PASSWORD})
    assert answer.ok, answer.text()
    return {'Authorization': f'Bearer {answer.json()["token"]}'}


def _version_of(page, headers, instance_id):
    answer = page.request.get(f'/api/v1/instances/{instance_id}', headers=headers)
    assert answer.ok, answer.text()
    return answer.json()['version']['version']


def test_edit_dibao_a_lane_and_timer_then_deploy(server, person):
    running = start(server.app, 'dibao_a', seq=1)            # on version 1, before the edit
    des = person('sheji')
    page = des.page
    page.goto('/designer')
    page.locator('#definitions tr', has_text='dibao_a').get_by_role('link', name='在浏览器中编辑').click()
    open_editor(page)
    assert page.inner_text('#modeler-warnings').strip() == '' or page.locator('#modeler-warnings').is_hidden()
    # The palette speaks Chinese.
    assert page.locator('.djs-palette [aria-label="任务"]').count() == 1

    # The publicity period: select the timer on the canvas, change its expression in the panel.
    page.evaluate("window.jiuzhuEditor.reveal('publicity_expired')")
    page.locator('.djs-element[data-element-id="publicity_expired"]').first.click()
    page.wait_for_selector('#modeler-panel [data-element="publicity_expired"]')
    assert page.input_value('#prop-timer') == 'add_days(publicity_started_at, 7)'
    page.fill('#prop-timer', 'add_days(publicity_started_at, 10)')
    page.press('#prop-timer', 'Tab')

    # A lane: drag the approval notice into the township leader's lane.
    drag_into_lane(page, 'issue_approval_notice', 'Lane_township_leader')     # the moved task stays selected
    page.wait_for_selector('#modeler-panel [data-element="issue_approval_notice"]')
    assert page.inner_text('#panel-lane-name') == '镇街分管领导'
    des.shot('modeler-edited')

    page.click('#modeler-validate')
    page.wait_for_selector('#modeler-ok:not([hidden])')
    assert '校验通过' in page.inner_text('#modeler-ok')

    page.click('#modeler-preview')
    page.wait_for_selector('#deploy-button', timeout=PREVIEW_MS)
    changes = page.locator('.preview-process[data-key=dibao_a] .changes li')
    kinds = [changes.nth(i).get_attribute('data-kind') for i in range(changes.count())]
    text = '\n'.join(changes.all_inner_texts())
    assert 'timer_changed' in kinds and '10' in text, text
    assert 'role_changed' in kinds and '出具低保审批通知书' in text, text
    assert page.inner_text('.preview-process[data-key=dibao_a] .open-cases') == '1 件'
    # The scenario results of the new version: the lane change breaks the scenarios in which the
    # caseworker issues the approval notice, and the page says which step and why.
    assert page.inner_text('#scenarios h2').startswith('场景测试：')
    assert page.locator('#scenario-results tr.ok').count() >= 1
    failed = page.locator('#scenario-results tr.failed')
    assert failed.count() >= 1
    for row in failed.all_inner_texts():
        assert '出具低保审批通知书' in row and '镇街分管领导' in row, row
    des.shot('modeler-preview')
    page.click('#deploy-button')
    assert '第 2 版' in page.inner_text('.flash-ok')
    assert page.locator('#drafts').count() == 0                  # deployed: the draft is gone

    # Through the API: a new case takes version 2, the running one keeps version 1.
    headers = _api_token(page, 't01_jingban')
    answer = page.request.post('/api/v1/instances', headers=headers,
                               data={'process_key': 'dibao_a', 'township': 't01',
                                     'data': dict(APPLICATION, applicant=dict(APPLICATION['applicant'],
                                                                              id_number=demo_id_number(2)))})
    assert answer.status == 201, answer.text()
    assert _version_of(page, headers, answer.json()['id']) == 2
    assert _version_of(page, headers, running) == 1


def test_every_shipped_diagram_keeps_its_spiffworkflow_extensions(server, person):
    des = person('sheji')
    page = des.page
    page.goto('/designer')
    page.locator('#definitions tr', has_text='dibao_a').get_by_role('link', name='在浏览器中编辑').click()
    open_editor(page)
    diagrams = sorted((ROOT / 'processes').rglob('*.bpmn'))
    assert len(diagrams) >= 9
    for path in diagrams:
        original = path.read_text(encoding='utf-8')
        result = page.evaluate('xml => window.jiuzhuEditor.importXML(xml).then(r => r.warnings.map(w => w.message))',
                               original)
        assert result == [], f'{path.name}: import warnings {result}'
        exported = page.evaluate('() => window.jiuzhuEditor.saveXML()')
        before, after = spiff_extensions(original), spiff_extensions(exported)
        assert before, path
        assert after == before, f'{path.relative_to(ROOT)} lost or changed spiffworkflow extensions'
        # The exported file is still a jiuzhu diagram: the same process ids.
        ids = etree.fromstring(exported.encode()).xpath('//*[local-name()="process"]/@id')
        assert ids == etree.fromstring(original.encode()).xpath('//*[local-name()="process"]/@id')


def test_decision_table_edit_in_dmn_js_is_saved_and_deployed(server, person):
    from service.services import repository
    with server.app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({p: tree[p] for p in ('delegated/temporary_aid.bpmn', 'decisions/temporary_aid_ceiling.dmn')},
                          'tester')
        definition_id = repository.latest('temporary_aid_delegated').id
    des = person('sheji')
    page = des.page
    page.goto(f'/designer/edit/{definition_id}')
    open_editor(page)
    page.click('.modeler-tab[data-path="decisions/temporary_aid_ceiling.dmn"]')
    page.wait_for_selector('.modeler-dmn .tjs-table')
    cell = page.locator('.modeler-dmn td[data-element-id="rule_township_ceiling"] [contenteditable]').first
    cell.click()
    page.keyboard.press('Control+A')
    page.keyboard.type('round(dibao_standard * 4, 2)')
    page.locator('.modeler-dmn .tjs-table th').first.click()
    des.shot('modeler-dmn')
    page.click('#modeler-save')
    page.wait_for_selector('#modeler-page[data-saved]')
    page.goto('/designer')
    assert 'delegated/temporary_aid.bpmn' in page.inner_text('#drafts')
    page.locator('#drafts').get_by_role('link', name='继续编辑').click()
    open_editor(page)
    page.click('#modeler-preview')
    page.wait_for_selector('#deploy-button', timeout=PREVIEW_MS)
    text = page.inner_text('.preview-process[data-status=new_version]')
    assert '* 4' in text, text
    page.click('#deploy-button')
    assert '已部署' in page.inner_text('.flash-ok')
    rows = page.request.get('/api/v1/process-definitions', headers=_api_token(page, 'sheji')).json()
    newest = max((r for r in rows if r['key'] == 'temporary_aid_delegated'), key=lambda r: r['version'])
    assert newest['version'] == 2
    dmn = page.request.get(f'/api/v1/process-definitions/{newest["id"]}/files/decisions/temporary_aid_ceiling.dmn',
                           headers=_api_token(page, 'sheji'))
    assert 'round(dibao_standard * 4, 2)' in dmn.text()


def _timer_of(xml, event_id):
    """(kind, expression) of every time element of an event's timer definition in exported XML."""
    root = etree.fromstring(xml.encode())
    (definition,) = root.xpath(f'//*[@id="{event_id}"]/*[local-name()="timerEventDefinition"]')
    return definition.get('id'), [(etree.QName(c).localname, c.text) for c in definition if isinstance(c.tag, str)]


def test_timer_kind_and_expression_change_in_the_panel(server, person):
    """Date, wait or cycle: the designer picks the kind in the panel, the expression moves with it, and
    the export keeps every spiffworkflow extension (one put on the timer event itself too)."""
    des = person('sheji')
    page = des.page
    page.goto('/designer')
    page.locator('#definitions tr', has_text='dibao_a').get_by_role('link', name='在浏览器中编辑').click()
    open_editor(page)
    original = (ROOT / 'processes' / 'delegated' / 'dibao_a.bpmn').read_text(encoding='utf-8')
    # A spiffworkflow property on the timer event itself, beside its timer definition.
    original = original.replace(
        '<bpmn:outgoing>Flow_no_objection</bpmn:outgoing>',
        '<bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="milestone" value="publicity_end" /></spiffworkflow:properties>'
        '</bpmn:extensionElements><bpmn:outgoing>Flow_no_objection</bpmn:outgoing>', 1)
    assert page.evaluate('xml => window.jiuzhuEditor.importXML(xml).then(r => r.warnings.length)', original) == 0

    def select_timer():
        page.evaluate("window.jiuzhuEditor.reveal('publicity_expired')")
        page.locator('.djs-element[data-element-id="publicity_expired"]').first.click()
        page.wait_for_selector('#modeler-panel [data-element="publicity_expired"]')

    select_timer()
    assert page.input_value('#prop-timer-kind') == 'timeDate'
    page.select_option('#prop-timer-kind', 'timeDuration')
    assert page.input_value('#prop-timer') == 'add_days(publicity_started_at, 7)'    # the expression moved along
    page.fill('#prop-timer', '"P10D"')
    page.press('#prop-timer', 'Tab')
    exported = page.evaluate('() => window.jiuzhuEditor.saveXML()')
    assert _timer_of(exported, 'publicity_expired') == ('publicity_expired_timer', [('timeDuration', '"P10D"')])
    assert spiff_extensions(exported) == spiff_extensions(original)
    assert 'publicity_end' in exported
    # jiuzhu reads it: the deploy's own validation accepts the wait.
    page.click('#modeler-validate')
    page.wait_for_selector('#modeler-ok:not([hidden])')

    page.wait_for_selector('#modeler-panel [data-element="publicity_expired"]')          # still selected
    page.select_option('#prop-timer-kind', 'timeCycle')
    page.fill('#prop-timer', '"R3/P1D"')
    page.press('#prop-timer', 'Tab')
    assert '"R3/P1D"' in page.inner_text('#panel-timer-help')
    exported = page.evaluate('() => window.jiuzhuEditor.saveXML()')
    assert _timer_of(exported, 'publicity_expired') == ('publicity_expired_timer', [('timeCycle', '"R3/P1D"')])
    assert spiff_extensions(exported) == spiff_extensions(original)
    # Undo goes back to the wait, expression and all.
    page.evaluate("window.jiuzhuEditor.tabs[0].editor.get('commandStack').undo()")
    page.evaluate("window.jiuzhuEditor.tabs[0].editor.get('commandStack').undo()")
    exported = page.evaluate('() => window.jiuzhuEditor.saveXML()')
    assert _timer_of(exported, 'publicity_expired') == ('publicity_expired_timer', [('timeDuration', '"P10D"')])
    des.shot('modeler-timer-kind')


def _deploy_temporary_aid(server):
    from service.services import repository
    with server.app.app_context():
        tree = repository.read_tree(ROOT / 'processes')
        repository.deploy({p: tree[p] for p in ('delegated/temporary_aid.bpmn', 'decisions/temporary_aid_ceiling.dmn')},
                          'tester')
        return repository.latest('temporary_aid_delegated').id


def test_modeler_speaks_chinese_and_keeps_the_policy(server, person):
    """The editors' own words are Chinese (the crawl's rule; the designer's ids and expressions aside),
    and opening a decision table breaks no rule of the page's Content-Security-Policy."""
    definition_id = _deploy_temporary_aid(server)
    des = person('sheji')
    refused = watch_csp(des)
    page = des.page
    page.goto(f'/designer/edit/{definition_id}')
    open_editor(page)
    assert latin_words(page, 'body') == []
    # A task selected: its properties; then the "change type" menu of its context pad.
    page.evaluate("window.jiuzhuEditor.reveal('ceiling_check')")
    page.locator('.djs-element[data-element-id="ceiling_check"]').first.click()
    page.wait_for_selector('#modeler-panel [data-element="ceiling_check"]')
    assert latin_words(page, 'body') == []
    page.click('.djs-context-pad .entry[data-action="replace"]')
    page.wait_for_selector('.djs-popup')
    assert latin_words(page, 'body') == []
    page.keyboard.press('Escape')

    page.click('.modeler-tab[data-path="decisions/temporary_aid_ceiling.dmn"]')
    page.wait_for_selector('.modeler-dmn .tjs-table')
    assert latin_words(page, 'body') == []
    assert page.inner_text('.modeler-dmn .hit-policy').replace('\n', '') == '命中规则：唯一'
    assert page.inner_text('.modeler-dmn th.input-cell .input-variable >> nth=0') == '数字'
    # The bpmn.io logo (its licence wants it seen) sits in its corner, styled as dmn-js means it.
    assert page.locator('.modeler-dmn .bjs-powered-by').evaluate('e => getComputedStyle(e).position') == 'absolute'
    # Its menus: hit policies, an input column's context menu (with its type).
    page.click('.modeler-dmn .hit-policy .dms-input-select')
    page.wait_for_selector('.dms-select-options')
    assert latin_words(page, 'body') == []
    page.keyboard.press('Escape')
    page.locator('.modeler-dmn th.input-cell').first.click(button='right')
    page.wait_for_selector('.context-menu')
    assert latin_words(page, 'body') == []
    des.shot('modeler-dmn-zh')
    assert not refused, refused


def test_validation_problems_select_their_element(server, person):
    des = person('sheji')
    page = des.page
    page.goto('/designer')
    page.locator('#definitions tr', has_text='dibao_a').get_by_role('link', name='在浏览器中编辑').click()
    open_editor(page)
    # A task that no lane lists: the deploy's validation refuses it, naming the element.
    original = (ROOT / 'processes' / 'delegated' / 'dibao_a.bpmn').read_text(encoding='utf-8')
    broken = original.replace('<bpmn:flowNodeRef>issue_approval_notice</bpmn:flowNodeRef>', '', 1)
    page.evaluate('xml => window.jiuzhuEditor.importXML(xml)', broken)
    page.click('#modeler-validate')
    problem = page.locator('#modeler-problems button.problem[data-element="issue_approval_notice"]')
    problem.wait_for()
    assert '泳道' in problem.inner_text() and 'dibao_a.bpmn' in problem.inner_text()
    problem.click()
    page.wait_for_selector('#modeler-panel [data-element="issue_approval_notice"]')
    assert page.locator('.djs-element.selected[data-element-id="issue_approval_notice"]').count() == 1
    des.shot('modeler-problems')

    # bpmn-js import warnings are shown to the designer, in Chinese.
    odd = original.replace('<bpmn:laneSet id="LaneSet_dibao_a">', '<bpmn:oddThing id="odd" /><bpmn:laneSet id="LaneSet_dibao_a">', 1)
    page.evaluate('xml => window.jiuzhuEditor.importXML(xml)', odd)
    page.wait_for_selector('#modeler-warnings:not([hidden])')
    assert '无法解析的内容 <bpmn:oddThing>' in page.inner_text('#modeler-warnings')
