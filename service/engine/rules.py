"""Procedure rules a diagram declares, beyond what SpiffWorkflow runs (processes/README.md, "Rules").

- on a `bpmn:message`: `senders` — the roles that may record it (comma-separated);
  `formJsonSchemaFilename` / `formUiSchemaFilename` — the payload's form in forms/, which the API and
  the pages check a payload against; `answer` = true — the message answers a step of the case
  (someone owes it: the verification report, missing materials), listed for its senders to record;
- on a boundary timer: `extensionForm` — the form of an extension of this time limit (its grounds
  and the longest total, forms/…); a timer without it cannot be extended.

Read from the diagram's source (the one stored with each definition version), so a running case
keeps the rules of its version. Validation (`check`) refuses unknown roles and missing forms.
"""
from lxml import etree

BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL'
SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core'
NS = {'bpmn': BPMN_NS, 'spiffworkflow': SPIFF_NS}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_PROPS = './bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property'
FORM_PROPERTIES = ('formJsonSchemaFilename', 'formUiSchemaFilename', 'extensionForm')


def _properties(el):
    return {p.get('name'): (p.get('value') or '').strip() for p in el.xpath(_PROPS, namespaces=NS) if p.get('name')}


def _variable(message):
    """The data name of the payload: on the message, or on an event definition catching it."""
    found = message.xpath('./bpmn:extensionElements/spiffworkflow:messageVariable/text()', namespaces=NS)
    if not found and message.get('id'):
        found = message.getroottree().xpath(
            '//bpmn:messageEventDefinition[@messageRef=$ref]/bpmn:extensionElements/spiffworkflow:messageVariable/text()',
            namespaces=NS, ref=message.get('id'))
    return found[0].strip() if found else None


def read(root):
    """{'messages': {name: {senders, form, ui_form, variable}}, 'extensions': {timer id: form}} of a
    parsed definitions element (or its source text)."""
    if isinstance(root, (str, bytes)):
        root = etree.fromstring(root.encode('utf-8') if isinstance(root, str) else root, parser=_PARSER)
    messages = {}
    for message in root.xpath('.//bpmn:message', namespaces=NS):
        name = message.get('name') or message.get('id')
        props = _properties(message)
        senders = [s.strip() for s in props.get('senders', '').split(',') if s.strip()]
        messages[name] = {'senders': senders or None, 'form': props.get('formJsonSchemaFilename') or None,
                          'ui_form': props.get('formUiSchemaFilename') or None, 'variable': _variable(message),
                          'answer': props.get('answer', '').lower() == 'true'}
    extensions, timers = {}, set()
    for event in root.xpath('.//bpmn:boundaryEvent[bpmn:timerEventDefinition]', namespaces=NS):
        timers.add(event.get('id'))
        form = _properties(event).get('extensionForm')
        if form:
            extensions[event.get('id')] = form
    return {'messages': messages, 'extensions': extensions, 'timers': timers}


def check(root, roles, form_exists, add):
    """Report (element, line element, message) through `add` for rules that cannot hold."""
    for message in root.xpath('.//bpmn:message', namespaces=NS):
        props = _properties(message)
        for role in [s.strip() for s in props.get('senders', '').split(',') if s.strip()]:
            if role not in roles:
                add(message, message.get('id'), f'消息的 senders 中有未知角色 "{role}"（可用：{"、".join(sorted(roles))}） '
                                                f'(unknown role in senders)')
        for prop in ('formJsonSchemaFilename', 'formUiSchemaFilename'):
            if props.get(prop) and not form_exists(props[prop]):
                add(message, message.get('id'), f'表单文件 "{props[prop]}" 不存在 ({prop} names no file in forms/)')
    for event in root.xpath('.//bpmn:boundaryEvent', namespaces=NS):
        form = _properties(event).get('extensionForm')
        if not form:
            continue
        if not event.xpath('./bpmn:timerEventDefinition', namespaces=NS):
            add(event, event.get('id'), 'extensionForm 只能用在计时边界事件上 (extensionForm belongs on a timer)')
        elif not form_exists(form):
            add(event, event.get('id'), f'表单文件 "{form}" 不存在 (extensionForm names no file in forms/)')
