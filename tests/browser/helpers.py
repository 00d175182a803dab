"""Cases prepared through the services, so a browser test starts where its story starts."""
from service.demo import demo_id_number
from service.extensions import db
from service.services import cases
from service.services.auth import find_user

APPLICATION = {
    'applicant': {'name': '王秀兰', 'id_number': '11010519491231002X', 'phone': '13800001234',
                  'address': '城关镇幸福社区3号楼', 'household_size': 3},
    'authorization_signed': True, 'commitment_signed': True,
}
NOTICE = {'document_no': '城民救〔2026〕1号', 'issued_on': '2026-09-28', 'delivery': 'in_person'}


def start(app, process_key='dibao_a', township='t01', name='王秀兰', seq=1, business_key=None):
    """A case at its acceptance check: dibao_a's verification (seed 001: before acceptance) is done."""
    with app.app_context():
        data = {**APPLICATION, 'applicant': dict(APPLICATION['applicant'], name=name, id_number=demo_id_number(seq))}
        instance = cases.start_case(find_user(f'{township}_jingban'), process_key, township, data, business_key)
        instance_id = instance.id
        db.session.remove()
    if process_key == 'dibao_a':
        do(app, instance_id, 'request_verification', {'verification_request': {
            'requested_on': '2026-09-28', 'authorization_confirmed': True}}, f'{township}_jingban')
        with app.app_context():
            cases.send_message(find_user('hedui'), instance_id, 'verification_result',
                               {'eligible': True, 'report_no': 'HD-1', 'summary': '核对完毕'})
            db.session.remove()
    return instance_id


def do(app, instance_id, bpmn_id, data, username):
    with app.app_context():
        user = find_user(username)
        task = next(t for t in cases.ready_tasks(instance_id) if t.bpmn_id == bpmn_id)
        cases.claim(user, task.id)
        cases.complete(user, task.id, data)
        db.session.remove()


def accepted(app, instance_id, username='t01_jingban'):
    """Accept a dibao_a/dibao_b case: the 12-working-day limit starts counting."""
    do(app, instance_id, 'check_materials', {'acceptance': {'result': 'complete', 'checked_on': '2026-09-28'}},
       username)
    do(app, instance_id, 'issue_acceptance_notice', {'acceptance_notice': NOTICE}, username)
