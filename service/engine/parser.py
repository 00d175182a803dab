"""Load and validate BPMN/DMN definitions, with problems a designer can act on.

SpiffWorkflow stops at the first error, gives no line numbers and, for some
mistakes, a misleading message or no error at all (unquoted ISO timers,
messages without messageVariable).  So every file is also read with lxml and
checked here element by element; Spiff's own errors are kept for what these
checks do not cover, with a line number added from the element id.
"""
from __future__ import annotations

import copy
import json
import re
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .flowgraph import cycle_through, is_cycle, path_between, strongly_connected
from .sandbox import ScriptRejected, check_source

__all__ = ['Problem', 'DefinitionError', 'ParsedProcess', 'parse_files', 'parse_paths', 'load_lanes']

BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL'
SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core'
NS = {'bpmn': BPMN_NS, 'spiffworkflow': SPIFF_NS}

# lxml schema objects keep their error log on the object; one parse at a time.
_LOCK = threading.Lock()
_DMN_VALIDATORS: dict[str, BpmnValidator] = {}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    element: str | None
    message: str

    def __str__(self):
        return f"{self.file}:{self.line or '?'}: {self.element or '-'}: {self.message}"


class DefinitionError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__('\n'.join(str(p) for p in self.problems))


@dataclass
class ParsedProcess:
    key: str
    name: str
    category: str | None
    variant: str | None
    file: str
    source: bytes
    spec: BpmnProcessSpec
    subprocess_specs: dict
    dependencies: list[str] = field(default_factory=list)


def load_lanes(path: Path) -> dict[str, str]:
    data = json.loads(Path(path).read_text(encoding='utf-8'))
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f'{path}: lanes.json must map lane names to role names')
    return data


def parse_paths(paths: list[Path], base: Path, lanes, forms_dir) -> dict[str, ParsedProcess]:
    base = Path(base)
    files: dict[str, bytes] = {}
    for path in paths:
        path = Path(path)
        found = sorted(p for p in path.rglob('*') if p.suffix in ('.bpmn', '.dmn') and p.is_file()) \
            if path.is_dir() else [path]
        for p in found:
            try:
                name = p.resolve().relative_to(base.resolve()).as_posix()
            except ValueError:
                name = p.as_posix()
            files[name] = p.read_bytes()
    return parse_files(files, lanes, forms_dir)


def parse_files(files: dict[str, bytes], lanes: dict[str, str], forms_dir: Path | None) -> dict[str, ParsedProcess]:
    with _LOCK:
        return _Validation(files, lanes or {}, Path(forms_dir) if forms_dir else None).run()


# ------------------------------------------------------------------ helpers

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False)

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

_XSD_DUP_ID = re.compile(r"attribute 'id': '([^']*)' is not a valid value of the atomic type 'xs:ID'")


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


class _Doc:
    def __init__(self, name: str, kind: str, root):
        self.name = name
        self.kind = kind
        self.root = root
        self.lines: dict[str, int] = {}
        self.ids_by_line: dict[int, str] = {}
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            eid = el.get('id')
            if eid is not None:
                self.lines.setdefault(eid, el.sourceline)
                self.ids_by_line.setdefault(el.sourceline, eid)
        self.ok = True              # well-formed and schema-valid: safe to hand to Spiff
        self.excluded = []          # process elements Spiff must not see (no id, duplicate id)


class _Validation:
    def __init__(self, files, lanes, forms_dir):
        self.files = {}
        for name, data in files.items():
            self.files[name] = data.encode('utf-8') if isinstance(data, str) else bytes(data)
        self.lanes = lanes
        self.forms_dir = forms_dir
        self.problems: list[Problem] = []
        self.docs: dict[str, _Doc] = {}
        self.processes: dict[str, tuple[_Doc, object]] = {}     # process id -> (doc, element)
        self.custom_elements: set[tuple[str, str]] = set()
        self.custom_processes: set[str] = set()

    # -------------------------------------------------------------- reporting

    def add(self, doc_or_name, el_or_line, element, message, process=None):
        name = doc_or_name.name if isinstance(doc_or_name, _Doc) else doc_or_name
        if el_or_line is None or isinstance(el_or_line, int):
            line = el_or_line
        else:
            line = el_or_line.sourceline
        self.problems.append(Problem(name, line, element, message))
        if element:
            self.custom_elements.add((name, element))
        if process:
            self.custom_processes.add(process)

    def run(self) -> dict[str, ParsedProcess]:
        for name in sorted(self.files):
            self.load(name)
        self.index_processes()
        self.check_call_cycles()
        for doc in self.docs.values():
            if doc.kind == 'bpmn':
                self.check_bpmn(doc)
        parsed = self.spiff()
        problems = list(dict.fromkeys(self.problems))
        if problems:
            raise DefinitionError(problems)
        return parsed

    # ----------------------------------------------------------------- loading

    def load(self, name):
        data = self.files[name]
        lower = name.lower()
        if not (lower.endswith('.bpmn') or lower.endswith('.dmn') or lower.endswith('.xml')):
            self.add(name, None, None, '不支持的文件类型，只接受 .bpmn 和 .dmn (unsupported file type; only .bpmn and .dmn)')
            return
        kind = 'dmn' if lower.endswith('.dmn') else 'bpmn'
        try:
            root = etree.fromstring(data, parser=_XML_PARSER)
        except etree.XMLSyntaxError as exc:
            self.add(name, exc.lineno, None, f'XML 格式错误 (malformed XML): {exc.msg}')
            return
        doc = _Doc(name, kind, root)
        self.docs[name] = doc
        if kind == 'bpmn':
            if etree.QName(root).namespace != BPMN_NS or _local(root) != 'definitions':
                self.add(doc, root, None, f'不是 BPMN 2.0 文件 (root element is {root.tag}, expected bpmn:definitions)')
                doc.ok = False
                return
            self.xsd(doc, VALIDATOR, 'BPMN')
        else:
            ns = etree.QName(root).namespace
            schema = DMN_SCHEMAS.get(ns)
            if schema is None:
                self.add(doc, root, None, f'不支持的 DMN 版本 (unsupported DMN namespace {ns!r}; use DMN 1.3)')
                doc.ok = False
                return
            if ns not in _DMN_VALIDATORS:
                _DMN_VALIDATORS[ns] = BpmnValidator(schema)
            self.xsd(doc, _DMN_VALIDATORS[ns], 'DMN')

    def xsd(self, doc, validator, what):
        # Validate a copy: the validator rewrites correlation tags in place.
        tree = copy.deepcopy(doc.root)
        validator.preprocess(tree)
        if validator.validator.validate(tree):
            return
        doc.ok = False
        for err in validator.validator.error_log:
            dup = _XSD_DUP_ID.search(err.message)
            if dup:
                # libxml2's wording for a repeated id is unrecognisable to designers.
                self.add(doc, err.line, dup.group(1),
                         f'元素 id "{dup.group(1)}" 重复 (duplicate element id; XSD: {err.message})')
            else:
                self.add(doc, err.line, doc.ids_by_line.get(err.line),
                         f'不符合 {what} 规范 (XSD violation): {err.message}')

    def index_processes(self):
        first_seen: dict[str, tuple[str, int]] = {}
        for doc in self.docs.values():
            if doc.kind != 'bpmn':
                continue
            for proc in doc.root.xpath('./bpmn:process', namespaces=NS):
                pid = proc.get('id')
                if not pid:
                    self.add(doc, proc, None, '流程缺少 id (bpmn:process has no id)')
                    doc.excluded.append(proc)
                elif pid in first_seen:
                    f, ln = first_seen[pid]
                    self.add(doc, proc, pid, f'流程 id 重复 (duplicate process id "{pid}", first defined at {f}:{ln})')
                    doc.excluded.append(proc)
                else:
                    first_seen[pid] = (doc.name, proc.sourceline)
                    self.processes[pid] = (doc, proc)

    def check_call_cycles(self):
        # A process that calls itself, directly or through others, makes SpiffWorkflow expand call
        # activities without end when a case starts.
        calls = {pid: [(el, (el.get('calledElement') or '').strip())
                       for el in proc.iter(f'{{{BPMN_NS}}}callActivity')]
                 for pid, (doc, proc) in self.processes.items()}
        graph = {pid: [called for _, called in found if called in self.processes] for pid, found in calls.items()}
        component = {}
        for members in strongly_connected(graph):
            if is_cycle(graph, members):
                component.update((pid, set(members)) for pid in members)
        for pid, found in calls.items():
            for el, called in found:
                if called in component.get(pid, ()):
                    steps = [pid] if called == pid else path_between(graph, called, pid, component[pid])
                    chain = ' → '.join([pid] + steps)
                    self.add(self.processes[pid][0], el, el.get('id'),
                             f'调用活动形成循环调用（{chain}），案件启动时会无限展开 (call activities form a cycle '
                             f'{chain}: starting a case would never finish)', process=pid)

    # ----------------------------------------------------------- BPMN checks

    def check_bpmn(self, doc):
        root = doc.root
        self.lane_of_node = doc.lane_of_node = {}
        for ref in root.xpath('.//bpmn:lane/bpmn:flowNodeRef', namespaces=NS):
            if ref.text:
                self.lane_of_node[ref.text.strip()] = ref.getparent().get('name')
        self.messages = {m.get('id'): m for m in root.xpath('.//bpmn:message', namespaces=NS) if m.get('id')}
        for proc in root.xpath('./bpmn:process', namespaces=NS):
            pid = proc.get('id')
            if proc in doc.excluded or proc.get('isExecutable', 'true') != 'true':
                continue   # documentation-only processes and collaboration participants never run
            self.check_process(doc, proc, pid)

    def check_process(self, doc, proc, pid):
        def add(el, element, message):
            self.add(doc, el, element, message, process=pid)

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
            elif tag == 'userTask':
                self.check_user_task(el, eid, add)
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
            if tag == 'receiveTask' and el.get('messageRef'):
                self.check_message_ref(el, el.get('messageRef'), eid, True, add)

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

    def lane_for(self, el):
        # A node's own lane entry wins (see _own_lanes); a node inside an embedded subprocess that
        # no lane lists takes the nearest enclosing subprocess's lane, as Spiff does.
        eid = el.get('id')
        if eid in self.lane_of_node:
            return True, self.lane_of_node[eid]
        for anc in el.iterancestors():
            if isinstance(anc.tag, str) and _local(anc) in ('subProcess', 'transaction', 'adHocSubProcess'):
                lane = self.lane_of_node.get(anc.get('id'))
                if lane is not None:
                    return True, lane
        return False, None

    def check_user_task(self, el, eid, add):
        in_lane, lane = self.lane_for(el)
        if not in_lane:
            add(el, eid, '用户任务不在任何泳道内，无人可以认领 (user task is not inside any lane)')
        elif not lane or lane not in self.lanes:
            add(el, eid, f'用户任务所在泳道 "{lane or ""}" 未在 lanes.json 中映射角色 (lane is not mapped to a role '
                         f'in lanes.json)')
        if self.forms_dir is None:
            return
        props = _properties(el)
        form = (props.get('formJsonSchemaFilename') or '').strip()
        if not form:
            add(el, eid, '用户任务缺少表单 (user task has no formJsonSchemaFilename property)')
        else:
            self.check_form_file(el, eid, form, 'formJsonSchemaFilename', add)
        ui = (props.get('formUiSchemaFilename') or '').strip()
        if ui:
            self.check_form_file(el, eid, ui, 'formUiSchemaFilename', add)

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
            var = next((v for h in holders
                        for v in h.xpath('.//spiffworkflow:messageVariable', namespaces=NS)
                        if _text(v).strip()), None)
            if var is None:
                add(message, ref, f'消息 "{message.get("name") or ref}" 缺少 spiffworkflow:messageVariable，'
                                  f'收到的数据会被丢弃 (bpmn:message used by a catch event has no '
                                  f'spiffworkflow:messageVariable; its payload would be dropped)')

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

    # --------------------------------------------------------------- Spiff pass

    def spiff(self) -> dict[str, ParsedProcess]:
        parser = SpiffBpmnParser(validator=VALIDATOR)
        added: set[str] = set()
        for doc in self.docs.values():
            if doc.kind == 'dmn' and doc.ok:
                self.spiff_call(doc, None, lambda d=doc: parser.add_dmn_xml(copy.deepcopy(d.root), filename=d.name))
        for doc in self.docs.values():
            if doc.kind != 'bpmn' or not doc.ok:
                continue
            tree = copy.deepcopy(doc.root)
            if doc.excluded:
                # Hide bad processes so the rest of the file still gets parsed.
                bad = {id(p) for p in doc.excluded}
                originals = doc.root.xpath('./bpmn:process', namespaces=NS)
                copies = tree.xpath('./bpmn:process', namespaces=NS)
                for o, c in zip(originals, copies):
                    if id(o) in bad:
                        tree.remove(c)
            if self.spiff_call(doc, None, lambda t=tree, d=doc: parser.add_bpmn_xml(t, filename=d.name)):
                added.add(doc.name)

        parsed = {}
        for pid, (doc, proc) in self.processes.items():
            if doc.name not in added or proc.get('isExecutable', 'true') != 'true':
                continue
            result = {}

            def build(pid=pid, result=result):
                result['spec'] = parser.get_spec(pid)
                result['subs'] = parser.get_subprocess_specs(pid)
            if not self.spiff_call(doc, pid, build):
                continue
            self._own_lanes([result['spec'], *result['subs'].values()])
            props = _properties(proc)
            parsed[pid] = ParsedProcess(
                key=pid,
                name=proc.get('name') or pid,
                category=props.get('category'),
                variant=props.get('variant'),
                file=doc.name,
                source=self.files[doc.name],
                spec=result['spec'],
                subprocess_specs=result['subs'],
                dependencies=self.dependencies(pid, parser),
            )
        return parsed

    def _own_lanes(self, specs):
        """Give each task the lane that lists it.

        Spiff gives every task inside an embedded subprocess the subprocess's lane, and modelers
        put a subprocess into the lane it is dropped on; the roles of the tasks inside must not
        change with where the subprocess box was moved.
        """
        for process_spec in specs:
            doc = self.docs.get(getattr(process_spec, 'file', None))
            lanes = getattr(doc, 'lane_of_node', None) or {}
            for task_spec in process_spec.task_specs.values():
                lane = lanes.get(getattr(task_spec, 'bpmn_id', None))
                if lane is not None:
                    task_spec.lane = lane

    def spiff_call(self, doc, pid, fn) -> bool:
        try:
            with warnings.catch_warnings():
                # messageVariable on bpmn:message is this project's convention;
                # Spiff 3.2 still honours it but warns on every parse.
                warnings.filterwarnings('ignore', message='spiffworkflow:messagePayload and spiffworkflow:messageVariable',
                                        category=DeprecationWarning)
                fn()
            return True
        except ValidationException as exc:
            self.spiff_problem(doc, pid, exc)
        except etree.LxmlError as exc:
            self.add(doc, None, None, f'SpiffWorkflow 无法解析 (SpiffWorkflow could not parse the file): {exc}')
        except Exception as exc:   # Spiff raises bare KeyError/AttributeError on some malformed diagrams
            self.add(doc, None, None, f'SpiffWorkflow 无法解析 (SpiffWorkflow failed: {type(exc).__name__}: {exc})')
        return False

    def spiff_problem(self, doc, pid, exc):
        fname = exc.file_name or doc.name
        target = self.docs.get(fname, doc)
        element = exc.id or None
        # Our own checks already explain these, usually better (Spiff stops at
        # the first error and its messages can point at the wrong element).
        if element and (target.name, element) in self.custom_elements:
            return
        if element and element not in target.lines and pid in self.custom_processes:
            return
        if not element and pid in self.custom_processes:
            return
        text = str(exc.args[0]) if exc.args else str(exc)
        if pid in self.custom_processes and (
                text == 'No start event found' or text.startswith('When looking for a task spec')):
            # Consequences of problems already reported (Spiff's text for a flow
            # to a missing element names the wrong thing entirely).
            return
        line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number else None
        if line is None and element:
            line = target.lines.get(element)
        tag = f' <{exc.tag}>' if getattr(exc, 'tag', '') else ''
        if text.startswith('There is no support implemented'):
            message = f'不支持的元素{tag} (unsupported element: {text})'
        else:
            message = f'SpiffWorkflow 拒绝了该定义 (SpiffWorkflow: {text})'
        self.add(target.name, line, element, message)

    def dependencies(self, pid, parser) -> list[str]:
        own = self.processes[pid][0].name
        files: set[str] = set()
        seen: set[str] = set()
        todo = [pid]
        while todo:
            current = todo.pop()
            if current in seen or current not in self.processes:
                continue
            seen.add(current)
            doc, proc = self.processes[current]
            files.add(doc.name)
            for called in proc.xpath('.//bpmn:callActivity/@calledElement', namespaces=NS):
                todo.append(called)
            for brt in proc.xpath('.//bpmn:businessRuleTask', namespaces=NS):
                ref = _first(brt.xpath('./bpmn:extensionElements/spiffworkflow:calledDecisionId', namespaces=NS))
                dmn = parser.dmn_parsers.get(_text(ref).strip()) if ref is not None else None
                if dmn is not None and dmn.filename:
                    files.add(dmn.filename)
        files.discard(own)
        return sorted(files)
