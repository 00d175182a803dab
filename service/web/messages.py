"""The forms for the BPMN messages a person records on the case page (processes/README.md, "Messages").

The API takes any payload object; on the pages a message is a small form, rendered and parsed by
the one form renderer and checked with services/forms.py like a task form.
"""
MESSAGE_FORMS = {
    'verification_result': {
        'title': '录入家庭经济状况核对结果',
        'type': 'object',
        'properties': {
            'eligible': {'type': 'boolean', 'title': '核对结果：符合条件'},
            'report_no': {'type': 'string', 'title': '核对报告编号', 'minLength': 1},
            'summary': {'type': 'string', 'title': '核对情况', 'minLength': 1},
        },
        'required': ['eligible', 'report_no', 'summary'],
    },
    'objection': {
        'title': '登记公示期间的异议',
        'type': 'object',
        'properties': {
            'reason': {'type': 'string', 'title': '异议内容', 'minLength': 1},
            'raised_by': {'type': 'string', 'title': '异议人'},
        },
        'required': ['reason'],
    },
    'supplement_received': {
        'title': '登记收到的补正材料',
        'type': 'object',
        'properties': {
            'items': {'type': 'array', 'title': '补交的材料', 'minItems': 1, 'items': {'type': 'string'}},
            'received_on': {'type': 'string', 'format': 'date', 'title': '收到日期'},
        },
        'required': ['items', 'received_on'],
    },
}
MESSAGE_UI = {
    'verification_result': {'summary': {'ui:widget': 'textarea'}},
    'objection': {'reason': {'ui:widget': 'textarea'}},
}


def label_schemas():
    """Wrapped under their data names, so the case data summary can name the payload fields."""
    names = {'verification_result': 'verification', 'objection': 'objection', 'supplement_received': 'supplement'}
    return [{'properties': {names[key]: schema}} for key, schema in MESSAGE_FORMS.items()]
