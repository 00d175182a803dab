"""The checks of one BPMN file's executable processes: flows, gateways, loops, code, timers,
messages, who does each task, and which element kinds run (kinds.py).

A mixin of parser._Validation: it reports through `self.add` (an error) and `self.warn`.
"""
from __future__ import annotations

import re

from lxml import etree

from . import kinds, lanes as lane_rules, rules
from .flowgraph import cycle_through, is_cycle, strongly_connected
from .sandbox import ScriptRejected, check_source

BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL'
SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core'
NS = {'bpmn': BPMN_NS, 'spiffworkflow': SPIFF_NS}

# Bare ISO 8601 values that happen to be valid Python (a name such as P1D, a
# division R3/PT10M, an integer subtraction 2026-12-31) or a syntax error.
_ISO_DURATION = re.compile(r'^-?P(?=[\dT])(\d+([.,]\d+)?[YMWD])*(T(\d+([.,]\d+)?[HMS])+)?$', re.I)
_ISO_REPEAT = re.compile(r'^R\d*/\S+$', re.I)
_ISO_DATE = re.compile(r'^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}){0,2}([.,]\d+)?(Z|[+-]\d{2}(:?\d{2})?)?)?(/\S+)?$', re.I)
_ISO_INTERVAL = re.compile(r'^P\S*/\S+$', re.I)


# Children of a process that are not where a token can be.
_NOT_FLOW_NODES = frozenset({'sequenceFlow', 'laneSet', 'documentation', 'extensionElements', 'ioSpecification',
                             'dataObject', 'dataObjectReference', 'dataStoreReference', 'textAnnotation',
                             'association', 'property', 'dataInputAssociation', 'dataOutputAssociation',
                             'group', 'category'})
# Where SpiffWorkflow's prediction of future tasks stops: a choice between ways on.
_CHOICES = frozenset({'exclusiveGateway', 'inclusiveGateway', 'eventBasedGateway', 'boundaryEvent'})


def _is_bare_iso(text: str) -> bool:
    return any(r.match(text) for r in (_ISO_DURATION, _ISO_REPEAT, _ISO_DATE, _ISO_INTERVAL))


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ''


def _text(el) -> str:
    return el.text or '' if el is not None else ''


def _first(seq):
    return seq[0] if seq else None


def _properties(el) -> dict[str, str]:
    out = {}
    for prop in el.xpath('./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property', namespaces=NS):
        if prop.get('name') is not None:
            out[prop.get('name')] = prop.get('value')
    return out



class BpmnChecks:
    """Needs from its host: add, warn, lanes (lanes.json), forms_dir, processes, signals."""

    def check_bpmn(self, doc):
        root = doc.root
        doc.lanes = lane_rules.resolve(root)
        self.messages = {m.get('id'): m for m in root.xpath('.//bpmn:message', namespaces=NS) if m.get('id')}
        # Documentation-only processes and collaboration participants (isExecutable="false") never
        # run; a file of nothing else would deploy nothing.
        executable = [proc for proc in root.xpath('./bpmn:process', namespaces=NS)
                      if proc.get('isExecutable', 'true') == 'true']
        if not executable and doc.root.xpath('./bpmn:process', namespaces=NS) and not doc.excluded:
            self.add(doc, root, None, '文件中没有可执行的流程（所有流程都是 isExecutable="false"），部署后什么也不会运行 '
                                      '(no executable process in this file: set isExecutable="true" on the process '
                                      'that should run)')
        elif not doc.root.xpath('./bpmn:process', namespaces=NS):
            self.add(doc, root, None, '文件中没有流程 (no bpmn:process in this file)')
        for el in root.xpath('./bpmn:dataStore', namespaces=NS):
            kinds.check_element(el, self.signals, lambda e, i, m: self.add(doc, e, i, m))
        rules.check(root, set(self.lanes.values()), self.form_exists, lambda e, i, m: self.add(doc, e, i, m))
        for proc in executable:
            if proc in doc.excluded:
                continue   # no id, or a duplicate one: reported already, and never handed to Spiff
            self.check_process(doc, proc, proc.get('id'))

    def check_process(self, doc, proc, pid):
        def add(el, element, message):
            self.add(doc, el, element, message, process=pid)
        self.current_doc = doc

        if not proc.xpath('./bpmn:startEvent', namespaces=NS):
            add(proc, pid, '可执行流程没有开始事件 (executable process has no start event)')

        scopes = [proc] + proc.xpath('.//bpmn:subProcess | .//bpmn:transaction | .//bpmn:adHocSubProcess',
                                     namespaces=NS)
        for scope in scopes:
            self.check_flows(scope, add)

        for el in proc.iter():
            if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN_NS:
                continue
            tag = _local(el)
            eid = el.get('id')
            kinds.check_element(el, self.signals, add)
            kinds.check_extensions(el, lambda e, i, m: self.warn(doc, e, i, m))
            if tag == 'conditionExpression':
                flow = el.getparent()
                self.check_code(el, 'eval', flow.get('id'), '条件表达式', 'condition', add)
            elif tag == 'scriptTask':
                script = _first(el.xpath('./bpmn:script', namespaces=NS))
                if script is None or not _text(script).strip():
                    add(el, eid, '脚本任务没有脚本 (script task has no script)')
                else:
                    self.check_code(script, 'exec', eid, '脚本', 'script', add)
            elif tag == 'callActivity':
                self.check_call(el, eid, add)
            elif tag in ('userTask', 'manualTask'):
                self.check_human_task(doc, el, eid, add)
            elif tag == 'messageEventDefinition':
                self.check_message(el, add)
            elif tag == 'timerEventDefinition':
                self.check_timer(el, add)
            elif tag == 'eventBasedGateway':
                self.check_event_gateway(proc, el, eid, add)
            if tag in ('scriptTask', 'userTask', 'task', 'manualTask', 'serviceTask', 'sendTask', 'receiveTask',
                       'businessRuleTask', 'callActivity', 'subProcess', 'transaction'):
                for which in ('preScript', 'postScript'):
                    for s in el.xpath(f'./bpmn:extensionElements/spiffworkflow:{which}', namespaces=NS):
                        if _text(s).strip():
                            self.check_code(s, 'exec', eid, which, which, add)
            if tag in ('receiveTask', 'sendTask') and el.get('messageRef'):
                self.check_message_ref(el, el.get('messageRef'), eid, tag == 'receiveTask', add)

    def check_event_gateway(self, proc, gateway, eid, add):
        # SpiffWorkflow 3.2 folds the gateway's events into one whose value is None: the timer's
        # due time never reaches the timer rows, so no scheduler would ever fire it.
        targets = {f.get('targetRef') for f in proc.xpath('.//bpmn:sequenceFlow', namespaces=NS)
                   if f.get('sourceRef') == eid}
        for event in proc.xpath('.//bpmn:intermediateCatchEvent', namespaces=NS):
            if event.get('id') in targets and event.xpath('./bpmn:timerEventDefinition', namespaces=NS):
                add(gateway, eid, '事件网关后的定时器在本系统中不会触发，请改用接收任务加中断型边界定时器和消息边界事件 '
                                  '(a timer after an event-based gateway is never scheduled in SpiffWorkflow 3.2: '
                                  'use a receive task with interrupting timer and message boundary events)')
                return

    def check_flows(self, scope, add):
        # Only direct children: nested subprocesses are their own scope.
        children = [c for c in scope if isinstance(c.tag, str)]
        ids = {c.get('id') for c in children if c.get('id')}
        flows = [c for c in children if _local(c) == 'sequenceFlow']
        for flow in flows:
            fid = flow.get('id')
            for attr, what in (('sourceRef', '来源'), ('targetRef', '目标')):
                ref = flow.get(attr)
                if ref and ref not in ids:
                    add(flow, fid, f'顺序流的{what}元素不存在 (sequence flow {attr} "{ref}" names no element '
                                   f'in this process)')
        for gw in children:
            kind = _local(gw)
            if kind not in ('exclusiveGateway', 'inclusiveGateway'):
                continue
            gid = gw.get('id')
            outgoing = [f for f in flows if f.get('sourceRef') == gid]
            default = gw.get('default')
            if default and default not in {f.get('id') for f in outgoing}:
                add(gw, gid, f'网关的默认分支 "{default}" 不是它的出口顺序流 (gateway default names no outgoing '
                             f'sequence flow of this gateway)')
            if len(outgoing) < 2:
                continue
            for f in outgoing:
                cond = _first(f.xpath('./bpmn:conditionExpression', namespaces=NS))
                if (cond is None or not _text(cond).strip()) and f.get('id') != default:
                    if kind == 'exclusiveGateway':
                        msg = '排他网关的分支既无条件也非默认分支 (exclusive gateway branch has neither condition nor default)'
                    else:
                        msg = '包容网关的分支既无条件也非默认分支 (inclusive gateway branch has neither condition nor default)'
                    add(f, f.get('id'), msg)
        self.check_loops(children, flows, add)

    def check_loops(self, children, flows, add):
        nodes = {c.get('id'): c for c in children if c.get('id') and _local(c) not in _NOT_FLOW_NODES}
        order = {nid: i for i, nid in enumerate(nodes)}
        graph = {nid: [] for nid in nodes}
        for flow in flows:
            if flow.get('sourceRef') in graph and flow.get('targetRef') in nodes:
                graph[flow.get('sourceRef')].append(flow.get('targetRef'))
        for nid, el in nodes.items():
            if _local(el) == 'boundaryEvent' and el.get('attachedToRef') in graph:
                graph[el.get('attachedToRef')].append(nid)
        # SpiffWorkflow predicts a case's future tasks when it creates the case; it stops only at
        # a choice (a gateway that decides, a boundary event), so a loop without one recurses
        # until RecursionError.
        straight = {nid: [t for t in succ if _local(nodes[t]) not in _CHOICES]
                    for nid, succ in graph.items() if _local(nodes[nid]) not in _CHOICES}
        reported = set()
        for members in strongly_connected(straight):
            if is_cycle(straight, members):
                first = min(members, key=order.get)
                chain = ' → '.join(cycle_through(straight, first, set(members)))
                add(nodes[first], first, f'顺序流形成的循环（{chain}）上没有排他网关、包容网关、事件网关或边界事件，'
                                         f'SpiffWorkflow 创建案件时会无限递归 (sequence flows form a loop {chain} with '
                                         f'no exclusive, inclusive or event-based gateway or boundary event on it: '
                                         f'SpiffWorkflow recurses without end when it creates a case)')
                reported.update(members)
        for members in strongly_connected(graph):
            inside = set(members)
            if not is_cycle(graph, members) or inside & reported:
                continue
            if not any(t not in inside for n in members for t in graph[n]):
                first = min(members, key=order.get)
                chain = ' → '.join(cycle_through(graph, first, inside))
                add(nodes[first], first, f'循环（{chain}）没有出口，案件进入后永远无法结束 (the loop {chain} has no '
                                         f'way out: a case that enters it can never end)')

    def check_code(self, el, mode, element, zh, en, add):
        text = _text(el)
        src = text
        lead_lines = 0
        if mode == 'eval':
            stripped = text.lstrip()
            lead_lines = text[:len(text) - len(stripped)].count('\n')
        try:
            check_source(src, mode)
        except ScriptRejected as exc:
            # Text starts on the element's own line, so script line n sits at sourceline + n - 1.
            line = el.sourceline + lead_lines + (exc.lineno - 1 if exc.lineno else 0)
            where = f' (line {exc.lineno} of the {en})' if mode == 'exec' and exc.lineno else ''
            add(line, element, f'{zh}无法通过沙箱检查 ({en} rejected by the sandbox{where}): {exc.message}')

    def check_call(self, el, eid, add):
        called = (el.get('calledElement') or '').strip()
        if not called:
            add(el, eid, '调用活动缺少 calledElement (call activity has no calledElement)')
            return
        target = self.processes.get(called)
        if target is None:
            add(el, eid, f'调用活动引用的流程不存在 (calledElement "{called}" names no known process)')
        elif target[1].get('isExecutable', 'true') != 'true':
            add(el, eid, f'调用活动引用的流程不可执行 (calledElement "{called}" names a non-executable process)')

    def check_human_task(self, doc, el, eid, add):
        # A user or manual task is offered to the role of its lane (lanes.py); without one nobody
        # would ever be offered it and the case would stop there.
        zh, en = ('用户任务', 'user task') if _local(el) == 'userTask' else ('人工任务', 'manual task')
        lanes = doc.lanes
        decider = lanes.decided_by(el)
        if decider in lanes.ambiguous:
            names = '、'.join(f'"{n}"' for n in lanes.ambiguous[decider])
            where = '' if decider == eid else f'所在的子流程 {decider} '
            add(el, eid, f'{zh}{where}同时被同一层级的泳道 {names} 列出，无法确定由谁办理 (listed by two lanes at the '
                         f'same level{"" if decider == eid else f" through its subprocess {decider}"}: keep it in one)')
            return
        lane = lanes.lane.get(eid)
        if lane is None:
            if decider is not None:
                # Listed, but lanes.json maps lane names to roles and this lane has none.
                add(el, eid, f'{zh}所在的泳道没有名称，无法对应办理角色，请按 lanes.json 为泳道命名 '
                             f'(the lane listing it has no name: name it as in lanes.json)')
            elif lanes.has_lanes(el):
                add(el, eid, f'{zh}不在任何泳道内：流程有泳道，但没有泳道列出它，也不在列入泳道的子流程中，无人会被安排'
                             f'办理 (no lane lists this task, nor a subprocess around it)')
            else:
                add(el, eid, f'{zh}不在任何泳道内，无人可以认领 ({en} is not inside any lane)')
        elif lane not in self.lanes:
            add(el, eid, f'{zh}所在泳道 "{lane}" 未在 lanes.json 中映射角色 (lane is not mapped to a role '
                         f'in lanes.json)')
        if self.forms_dir is None:
            return
        props = _properties(el)
        form = (props.get('formJsonSchemaFilename') or '').strip()
        if not form:
            if _local(el) == 'userTask':
                add(el, eid, '用户任务缺少表单 (user task has no formJsonSchemaFilename property)')
        else:
            self.check_form_file(el, eid, form, 'formJsonSchemaFilename', add)
        ui = (props.get('formUiSchemaFilename') or '').strip()
        if ui:
            self.check_form_file(el, eid, ui, 'formUiSchemaFilename', add)

    def form_exists(self, fname):
        return self.forms_dir is None or not ('/' in fname or '\\' in fname or fname.startswith('.')) and \
            (self.forms_dir / fname).is_file()

    def check_form_file(self, el, eid, fname, prop, add):
        path = self.forms_dir / fname
        if '/' in fname or '\\' in fname or fname.startswith('.') or not path.is_file():
            add(el, eid, f'表单文件 "{fname}" 不存在 ({prop} names no file in {self.forms_dir.name}/)')

    def check_message(self, med, add):
        event = med.getparent()
        eid = event.get('id')
        catching = _local(event) in ('startEvent', 'intermediateCatchEvent', 'boundaryEvent')
        ref = med.get('messageRef')
        if not ref:
            add(event, eid, '消息事件没有引用 bpmn:message (message event has no messageRef)')
            return
        self.check_message_ref(event, ref, eid, catching, add)

    def check_message_ref(self, event, ref, eid, catching, add):
        message = self.messages.get(ref)
        if message is None:
            add(event, eid, f'消息事件引用的消息 "{ref}" 不存在 (messageRef names no bpmn:message in this file)')
            return
        if catching:
            # SpiffWorkflow 3.2 reads it from the bpmn:message (the project's
            # convention, deprecated upstream) or else from the event definition.
            holders = [message] + event.xpath('./bpmn:messageEventDefinition', namespaces=NS)
            if _local(event) == 'receiveTask':
                holders.append(event)   # SpiffArena puts it in the receive task's own extensionElements
            var = next((v for h in holders
                        for v in h.xpath('.//spiffworkflow:messageVariable', namespaces=NS)
                        if _text(v).strip()), None)
            if var is None:
                # A warning: the case still waits for and receives the message, only its data is lost.
                self.warn(self.current_doc, message, ref,
                          f'消息 "{message.get("name") or ref}" 缺少 spiffworkflow:messageVariable，收到的数据会被丢弃 '
                          f'(bpmn:message used by a catch event has no spiffworkflow:messageVariable; its payload '
                          f'would be dropped)')

    def check_timer(self, ted, add):
        event = ted.getparent()
        eid = event.get('id')
        specs = [c for c in ted if isinstance(c.tag, str) and _local(c) in ('timeDate', 'timeDuration', 'timeCycle')]
        if not specs:
            add(event, eid, '定时器没有设置时间 (timerEventDefinition has no timeDate, timeDuration or timeCycle)')
            return
        for spec in specs:
            text = _text(spec).strip()
            kind = _local(spec)
            if not text:
                add(spec, eid, f'定时器的 {kind} 为空 (empty {kind} expression)')
            elif _is_bare_iso(text):
                add(spec, eid, f'定时器 {kind} 是未加引号的 ISO 8601 值，永远不会触发 (bare ISO 8601 literal in a '
                               f'timer expression is evaluated as Python and never fires; quote it: "{text}")')
            else:
                self.check_code(spec, 'eval', eid, f'定时器 {kind} 表达式', f'{kind} expression', add)

