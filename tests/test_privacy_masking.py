"""Masking by content (issue 9): ID, mobile and bank card numbers typed into free text are masked on
the case page, in the API history, in logs and error messages; the applicant's notice prints their
own ID number in full, masks everyone else's, and shows a document number, not the case number."""
import logging

from service.errors import Invalid
from service.services import runtime
from service.services.masking import mask_data, mask_text

from .api_helpers import PASSWORD, dibao_people  # noqa: F401  (fixture)
from .flow_helpers import APPLICATION, COMPLETE, NOTICE, SURVEY, do, pre_verify
from .security_helpers import web_login

OWN_ID = APPLICATION['applicant']['id_number']
NEIGHBOUR_ID, NEIGHBOUR_PHONE = '110105196003071234', '13912345678'
FREE_TEXT = f'邻居（身份证 {NEIGHBOUR_ID}，电话 {NEIGHBOUR_PHONE}）证实无收入'


def test_mask_text_finds_the_numbers_in_any_text():
    assert mask_text(f'身份证{OWN_ID}。') == '身份证110105********002X。'
    assert mask_text('id 11010519491231002x') == 'id 110105********002x'
    assert mask_text('电话13800001234，') == '电话138****1234，'
    assert mask_text('+86 13800001234 或 8613800001235') == '+86 138****1234 或 86138****1235'
    assert mask_text('卡号 6222021234567890123') == '卡号 ***************0123'
    # Not a number of a person: left as it is.
    for text in ('HD-2026-017', '报告 1234567890', '2026-09-28T09:00:00+08:00', '12800001234',
                 'a13800001234', '1234567890123456789012', 'deadline@2026-10-14T01:00:00+00:00'):
        assert mask_text(text) == text
    assert mask_data({'note': FREE_TEXT, 'items': [NEIGHBOUR_PHONE], 'n': 3, 'phone': '13800001234'}) == {
        'note': '邻居（身份证 110105********1234，电话 139****5678）证实无收入',
        'items': ['139****5678'], 'n': 3, 'phone': '138****1234'}


def case_with_free_text(people):
    r = people['cw1'].post('/api/v1/instances', json={'process_key': 'dibao_a', 'township': 't01',
                                                      'data': APPLICATION})
    assert r.status_code == 201, r.json
    case = runtime.get_instance(r.json['id'])
    pre_verify(case, actor='cw1')
    do(case, 'check_materials', COMPLETE, actor='cw1')
    do(case, 'issue_acceptance_notice', {'acceptance_notice': NOTICE}, actor='cw1')
    do(case, 'home_survey', {'survey': dict(SURVEY['survey'], findings=FREE_TEXT)}, actor='va1')
    return case


def test_free_text_is_masked_in_the_api_history_and_on_the_case_page(dibao_people):
    case = case_with_free_text(dibao_people)
    for who in ('cw1', 'sup'):
        r = dibao_people[who].get(f'/api/v1/instances/{case.id}')
        assert r.status_code == 200
        body = r.get_data(as_text=True)
        assert NEIGHBOUR_ID not in body and NEIGHBOUR_PHONE not in body and OWN_ID not in body
        assert '110105********1234' in body and '139****5678' in body
    client = dibao_people.app.test_client()
    assert web_login(client, 'cw1', PASSWORD).status_code == 302
    page = client.get(f'/cases/{case.id}').get_data(as_text=True)
    assert '证实无收入' in page
    assert NEIGHBOUR_ID not in page and NEIGHBOUR_PHONE not in page and '110105********1234' in page


def test_log_records_and_error_messages_are_masked(caplog):
    from service.services.masking import install_log_masking
    install_log_masking()
    with caplog.at_level(logging.WARNING, logger='jiuzhu.write'):
        log = logging.getLogger('jiuzhu.write')
        log.warning('case %s held: %s', 7, FREE_TEXT)
        try:
            raise KeyError(NEIGHBOUR_ID)
        except KeyError:
            log.exception('step failed')
    assert NEIGHBOUR_ID not in caplog.text and NEIGHBOUR_PHONE not in caplog.text
    assert '110105********1234' in caplog.text and 'KeyError' in caplog.text
    error = Invalid(f'没有 {NEIGHBOUR_ID} 的记录', details={'applicant.phone': f'{NEIGHBOUR_PHONE} 不是本人号码'})
    assert NEIGHBOUR_ID not in str(error) and NEIGHBOUR_PHONE not in str(error)
    assert error.details == {'applicant.phone': '139****5678 不是本人号码'}


def test_the_applicants_notice_prints_their_own_id_and_a_document_number(dibao_people):
    # Two cases of the other township first: the case id (3) is not the t01 sequence number (1).
    for _ in range(2):
        r = dibao_people['cw2'].post('/api/v1/instances', json={'process_key': 'dibao_a', 'township': 't02',
                                                                'data': APPLICATION})
        assert r.status_code == 201
    r = dibao_people['cw1'].post('/api/v1/instances', json={'process_key': 'dibao_a', 'township': 't01',
                                                            'data': APPLICATION})
    case = runtime.get_instance(r.json['id'])
    assert case.id == 3
    reason = f'户籍不在本镇（经查 {NEIGHBOUR_ID} 名下）'
    pre_verify(case, actor='cw1')
    do(case, 'check_materials', {'acceptance': {'result': 'ineligible', 'reason': reason,
                                                'checked_on': '2026-09-28'}}, actor='cw1')
    r = dibao_people['cw1'].get(f'/cases/{case.id}/notices/refusal_notice')
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and '不予受理告知书' in html
    assert html.count(OWN_ID) == 2                       # the facts table and the receipt
    assert NEIGHBOUR_ID not in html and '110105********1234' in html
    assert '13800000000' not in html                     # the phone number never prints
    assert '〔2026〕城民救不受字第 1 号' in html and '案件编号' not in html and '第 3 号' not in html


NOSY = b'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="defs_nosy" targetNamespace="http://jiuzhu.example/test">
  <bpmn:process id="nosy_case" name="repeats its data in errors" isExecutable="true">
    <bpmn:laneSet id="lanes_nosy">
      <bpmn:lane id="lane_nosy" name="\xe9\x95\x87\xe8\xa1\x97\xe7\xbb\x8f\xe5\x8a\x9e\xe4\xba\xba">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>accept</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>parse</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="accept" name="accept">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="note.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:scriptTask id="parse" name="parse">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>number = int(note)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept" />
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="parse" />
    <bpmn:sequenceFlow id="f3" sourceRef="parse" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
'''


def test_an_incident_caused_by_data_keeps_the_numbers_masked(test_app):
    """A script whose error repeats the value it choked on: the incident, the case's error, the audit
    row and the API's answer carry the number masked."""
    from sqlalchemy import select

    from service.extensions import db
    from service.models import AuditEntry, Incident, ProcessInstance, Task
    from service.services import repository, tasks
    repository.deploy({'nosy.bpmn': NOSY}, 'tester')
    case = runtime.start_instance('nosy_case', 't01', {}, 'cw1')
    accept = db.session.scalars(select(Task).where(Task.instance_id == case.id)).one()
    tasks.complete_task(accept.id, {'note': f'户号 {NEIGHBOUR_ID}'}, 'cw1')
    db.session.expire_all()
    incident = db.session.scalars(select(Incident).where(Incident.instance_id == case.id)).one()
    assert 'int()' in incident.message and '110105********1234' in incident.message
    assert NEIGHBOUR_ID not in incident.message
    assert NEIGHBOUR_ID not in db.session.get(ProcessInstance, case.id).error
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == 'incident')).one()
    assert NEIGHBOUR_ID not in str(entry.detail)
