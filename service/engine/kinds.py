"""Which BPMN element kinds jiuzhu runs, and why the others are refused before any case starts.

Every element of an executable process either runs (SpiffWorkflow 3.2 executes it and the
service offers, waits for or fires what it needs) or is refused here with a reason a designer can
act on: no case may stop on an element nobody is offered, nothing delivers, or nothing runs.
processes/README.md ("元素种类") lists the decisions; tests/fixtures/kinds/ has one diagram per kind.
"""
from __future__ import annotations

from lxml import etree

from .service_operators import OPERATORS

BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL'
SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core'
NS = {'bpmn': BPMN_NS, 'spiffworkflow': SPIFF_NS}

__all__ = ['check_element', 'check_extensions', 'thrown_signals', 'KNOWN_EXTENSIONS']

# Elements refused wherever they are, with their reason.
REFUSED = {
    'adHocSubProcess': '本系统不支持自由子流程（ad-hoc）：其中的任务没有先后顺序，无人会被安排办理 '
                       '(ad-hoc subprocesses are not supported: nobody would be offered their tasks)',
    'complexGateway': '本系统不支持复杂网关，请改用排他、包容或并行网关 (complex gateways are not supported)',
    'dataStoreReference': '本系统没有可用的数据存储，流程数据请放在表单和任务数据中 '
                          '(data stores are not supported: no data store is registered)',
    'dataStore': '本系统没有可用的数据存储，流程数据请放在表单和任务数据中 '
                 '(data stores are not supported: no data store is registered)',
    'compensateEventDefinition': '本系统不支持补偿事件 (compensation events are not supported)',
    # SpiffWorkflow 3.2 reads a link event as a plain one: the flow would end at the throw and
    # never reach the catch (measured).
    'linkEventDefinition': '本系统不支持链接事件，请直接用顺序流连接 (link events are not supported: SpiffWorkflow 3.2 '
                           'ends the flow at the throw instead of going on at the catch)',
    'callChoreography': '本系统不执行编排图 (choreographies are not executed)',
}

# Triggers a start event of a process (or of an ordinary subprocess) may wait for: nothing, a
# message the API delivers, a timer the scheduler fires. Event subprocesses may use any trigger.
_START_TRIGGERS = frozenset({'messageEventDefinition', 'timerEventDefinition'})
_TRIGGER_ZH = {'signalEventDefinition': '信号', 'conditionalEventDefinition': '条件', 'errorEventDefinition': '错误',
               'escalationEventDefinition': '升级', 'linkEventDefinition': '链接', 'cancelEventDefinition': '取消'}

# Extension elements jiuzhu reads (processes/README.md); SpiffWorkflow reads a few more that do no harm.
KNOWN_EXTENSIONS = frozenset({
    (SPIFF_NS, 'properties'), (SPIFF_NS, 'property'), (SPIFF_NS, 'preScript'), (SPIFF_NS, 'postScript'),
    (SPIFF_NS, 'messageVariable'), (SPIFF_NS, 'messagePayload'), (SPIFF_NS, 'calledDecisionId'),
    (SPIFF_NS, 'serviceTaskOperator'), (SPIFF_NS, 'parameters'), (SPIFF_NS, 'parameter'),
    (SPIFF_NS, 'instructionsForEndUser'), (SPIFF_NS, 'variableName'), (SPIFF_NS, 'category'),
    (SPIFF_NS, 'processVariableCorrelation'),
})


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ''


def _definitions(el):
    return [c for c in el if isinstance(c.tag, str) and _local(c).endswith('EventDefinition')]


def thrown_signals(root) -> set[str]:
    """The names of the signals some element of this file throws (signal ids resolved to names)."""
    names = {s.get('id'): s.get('name') or s.get('id') for s in root.iter(f'{{{BPMN_NS}}}signal')}
    out = set()
    for event in root.iter(f'{{{BPMN_NS}}}intermediateThrowEvent', f'{{{BPMN_NS}}}endEvent'):
        for d in event.xpath('./bpmn:signalEventDefinition', namespaces=NS):
            out.add(names.get(d.get('signalRef'), d.get('signalRef')))
    return out


def signal_name(root, definition):
    for s in root.iter(f'{{{BPMN_NS}}}signal'):
        if s.get('id') == definition.get('signalRef'):
            return s.get('name') or s.get('id')
    return definition.get('signalRef')


def _in_event_subprocess(el) -> bool:
    parent = el.getparent()
    return parent is not None and _local(parent) == 'subProcess' and parent.get('triggeredByEvent') == 'true'


def check_element(el, signals: set[str], add) -> None:
    """Refuse `el` when jiuzhu cannot run it; `add(el, element id, message)` reports; `signals`: thrown anywhere."""
    tag = _local(el)
    eid = el.get('id')
    if tag in REFUSED:
        owner = el.getparent() if tag.endswith('EventDefinition') else el
        add(owner, owner.get('id'), REFUSED[tag])
        return
    if tag in ('startEvent', 'intermediateCatchEvent', 'boundaryEvent'):
        found = [_local(d) for d in _definitions(el)]
        if len(found) > 1 and 'timerEventDefinition' in found:
            # SpiffWorkflow folds them into one MultipleEventDefinition whose timer has no due time
            # the service can read: it would never fire.
            add(el, eid, '定时器与其他事件定义合在同一个事件上，本系统不会为它计时；请拆成事件网关后的单独事件或边界事件 '
                         '(a timer combined with other event definitions on one event is never scheduled)')
            return
    if tag == 'startEvent':
        _check_start(el, eid, add)
    elif tag == 'intermediateCatchEvent':
        _check_catch(el, eid, signals, add)
    elif tag == 'serviceTask':
        _check_service(el, eid, add)
    elif tag == 'standardLoopCharacteristics':
        owner = el.getparent()
        if not el.xpath('./bpmn:loopCondition', namespaces=NS) and not el.get('loopMaximum'):
            add(owner, owner.get('id'), '循环任务既没有循环条件也没有最大次数，会无限执行 '
                                        '(standard loop has neither loopCondition nor loopMaximum: it never ends)')
    elif tag == 'loopCardinality':
        _check_cardinality(el, add)
    elif tag in ('sendTask', 'receiveTask'):
        if not el.get('messageRef') and not el.xpath('./bpmn:messageEventDefinition', namespaces=NS):
            zh = '发送' if tag == 'sendTask' else '接收'
            add(el, eid, f'{zh}任务没有引用消息 ({tag} has no messageRef)')


# SpiffWorkflow creates every instance of a multi-instance activity at once and re-walks them on each
# step: measured 0.3 s for 100 instances, 3.2 s for 300, 28 s for 1000 (still not done), and no end in
# sight for 100000 — a start that hangs. A fixed count above this is refused.
MAX_CARDINALITY = 100


def _check_cardinality(el, add):
    text = (el.text or '').strip()
    owner = el.getparent().getparent()
    if text.isdigit() and int(text) > MAX_CARDINALITY:
        add(owner, owner.get('id'), f'多实例的固定次数 {text} 超过 {MAX_CARDINALITY}，案件会卡住 (loopCardinality {text} '
                                    f'is above {MAX_CARDINALITY}: SpiffWorkflow would take minutes or hang creating them)')


def _check_start(el, eid, add):
    if _in_event_subprocess(el):
        return
    for d in _definitions(el):
        kind = _local(d)
        if kind not in _START_TRIGGERS:
            zh = _TRIGGER_ZH.get(kind, kind)
            add(el, eid, f'开始事件等待{zh}事件，本系统中没有什么能触发它，案件会停在开始 (a start event waiting '
                         f'for a {kind.replace("EventDefinition", "")} event: nothing in jiuzhu triggers it; use a '
                         f'plain, message or timer start event)')
            return


def _check_catch(el, eid, signals, add):
    definitions = _definitions(el)
    if not definitions:
        add(el, eid, '中间捕获事件没有事件定义，案件到这里会永远等待 (intermediate catch event with no event '
                     'definition: a case would wait here forever)')
        return
    for d in definitions:
        kind = _local(d)
        if kind == 'conditionalEventDefinition':
            add(el, eid, '条件中间事件只在到达时判断一次，条件不成立时案件会永远等待；请改用排他网关 '
                         '(a conditional catch event is evaluated only when reached: if false the case waits '
                         'forever; use an exclusive gateway)')
        elif kind == 'signalEventDefinition':
            name = signal_name(el.getroottree().getroot(), d)
            if name not in signals:
                add(el, eid, f'没有任何元素发出信号 "{name}"，案件会永远等待 (no element throws signal '
                             f'"{name}": a case would wait here forever)')


def _check_service(el, eid, add):
    op = el.xpath('./bpmn:extensionElements/spiffworkflow:serviceTaskOperator', namespaces=NS)
    name = op[0].get('id') if op else None
    if not name:
        add(el, eid, '服务任务没有指定服务 (spiffworkflow:serviceTaskOperator)，本系统不知道该做什么 '
                     '(service task names no operator)')
    elif name not in OPERATORS:
        known = '、'.join(sorted(OPERATORS)) or '无'
        add(el, eid, f'服务任务调用的服务 "{name}" 本系统没有实现（已实现：{known}） (no implementation is '
                     f'registered for service operator "{name}")')


def check_extensions(el, warn) -> None:
    """Note extension elements jiuzhu does not read: they stay in the file but do nothing."""
    for ext in el.xpath('./bpmn:extensionElements', namespaces=NS):
        for child in ext:
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            if (qname.namespace, qname.localname) in KNOWN_EXTENSIONS:
                continue
            prefix = child.prefix or qname.namespace
            warn(child, el.get('id'), f'扩展元素 {prefix}:{qname.localname} 本系统不读取，不起作用 '
                                      f'(extension element ignored by jiuzhu)')
