"""What a version's diagram says that matters to casework, read for the deploy preview's diff.

Everything but lanes is read from the BPMN/DMN text; who does a task is taken from the parsed
spec (the parser decides which lane a task belongs to), given here as {element id: lane}.
"""
import json

from lxml import etree

BPMN = 'http://www.omg.org/spec/BPMN/20100524/MODEL'
SPIFF = 'http://spiffworkflow.org/bpmn/schema/1.0/core'
NS = {'bpmn': BPMN, 'spiffworkflow': SPIFF}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_NOT_NODES = frozenset({'sequenceFlow', 'laneSet', 'lane', 'documentation', 'extensionElements', 'ioSpecification',
                        'dataObject', 'dataObjectReference', 'dataStoreReference', 'textAnnotation', 'association',
                        'property', 'dataInputAssociation', 'dataOutputAssociation', 'group', 'category',
                        'incoming', 'outgoing', 'childLaneSet', 'flowNodeRef', 'multiInstanceLoopCharacteristics', 'standardLoopCharacteristics'})
_EVENT_DEFS = ('timerEventDefinition', 'messageEventDefinition', 'errorEventDefinition', 'signalEventDefinition',
               'escalationEventDefinition', 'terminateEventDefinition', 'conditionalEventDefinition')


def _root(text):
    return etree.fromstring(text.encode('utf-8') if isinstance(text, str) else text, parser=_PARSER)


def _local(el):
    return etree.QName(el).localname if isinstance(el.tag, str) else ''


def _props(el):
    return {p.get('name'): (p.get('value') or '').strip() for p in el.xpath(
        './bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property', namespaces=NS)}


def _clean(text):
    return ' '.join((text or '').split())


def process_facts(source, key, lanes):
    """{nodes, flows, timers, scripts, messages, forms, decisions, start_form} of process `key`."""
    root = _root(source)
    proc = root.find(f'{{{BPMN}}}process[@id="{key}"]')
    messages = {m.get('id'): m.get('name') or m.get('id') for m in root.iter(f'{{{BPMN}}}message')}
    facts = {'nodes': {}, 'flows': {}, 'timers': {}, 'scripts': {}, 'messages': {}, 'forms': {}, 'decisions': {},
             'lanes': {}, 'start_form': None}
    if proc is None:
        return facts
    facts['start_form'] = _props(proc).get('startForm') or None
    for el in proc.iter():
        kind, eid = _local(el), el.get('id')
        if not kind or etree.QName(el).namespace != BPMN:
            continue
        if kind == 'sequenceFlow':
            cond = el.find(f'{{{BPMN}}}conditionExpression')
            facts['flows'][eid] = {'source': el.get('sourceRef'), 'target': el.get('targetRef'),
                                   'name': el.get('name'), 'condition': _clean(cond.text) if cond is not None else None}
            continue
        if kind in _NOT_NODES or kind in _EVENT_DEFS or not eid or el is proc:
            if kind == 'timerEventDefinition':
                for spec in el:
                    if _local(spec) in ('timeDate', 'timeDuration', 'timeCycle'):
                        facts['timers'][el.getparent().get('id')] = _clean(spec.text)
            elif kind == 'messageEventDefinition':
                facts['messages'][el.getparent().get('id')] = messages.get(el.get('messageRef'), el.get('messageRef'))
            continue
        if kind in ('script', 'conditionExpression', 'timeDate', 'timeDuration', 'timeCycle', 'text'):
            continue
        node = {'kind': kind, 'name': _clean(el.get('name')) or eid, 'attached_to': el.get('attachedToRef'),
                'default': el.get('default')}
        facts['nodes'][eid] = node
        if eid in lanes:
            facts['lanes'][eid] = lanes[eid]
        if kind == 'scriptTask':
            script = el.find(f'{{{BPMN}}}script')
            facts['scripts'][(eid, 'script')] = (script.text or '').strip() if script is not None else ''
        for which in ('preScript', 'postScript'):
            s = el.find(f'{{{BPMN}}}extensionElements/{{{SPIFF}}}{which}')
            if s is not None and (s.text or '').strip():
                facts['scripts'][(eid, which)] = s.text.strip()
        if kind in ('receiveTask', 'sendTask') and el.get('messageRef'):
            facts['messages'][eid] = messages.get(el.get('messageRef'), el.get('messageRef'))
        props = _props(el)
        if props.get('formJsonSchemaFilename'):
            facts['forms'][eid] = props['formJsonSchemaFilename']
        if kind == 'businessRuleTask':
            ref = el.find(f'{{{BPMN}}}extensionElements/{{{SPIFF}}}calledDecisionId')
            facts['decisions'][eid] = _clean(ref.text) if ref is not None else None
    return facts


def decision_rules(text):
    """{decision name: {rule id: (number, text)}} of a DMN file; a rule reads 'inputs → outputs'."""
    out = {}
    root = _root(text)
    for decision in root.iter():
        if _local(decision) != 'decision':
            continue
        rules = {}
        for rule in decision.iter():
            if _local(rule) != 'rule':
                continue
            ins = [_clean(''.join(e.itertext())) or '-' for e in rule if _local(e) == 'inputEntry']
            outs = [_clean(''.join(e.itertext())) or '-' for e in rule if _local(e) == 'outputEntry']
            number = len(rules) + 1
            rules[rule.get('id') or str(number)] = (number, f"{'，'.join(ins)} → {'，'.join(outs)}")
        out[decision.get('name') or decision.get('id')] = rules
    return out


def form_fields(text):
    """{path: (title, required)} of a JSON Schema form, nested objects flattened to dotted paths."""
    fields = {}

    def walk(schema, prefix):
        required = set(schema.get('required') or [])
        for name, sub in (schema.get('properties') or {}).items():
            if not isinstance(sub, dict):
                continue
            fields[prefix + name] = (sub.get('title') or name, name in required)
            if sub.get('type') == 'object' or 'properties' in sub:
                walk(sub, prefix + name + '.')
    try:
        content = json.loads(text)
    except ValueError:
        return fields
    if isinstance(content, dict):
        walk(content, '')
    return fields
