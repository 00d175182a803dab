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
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from . import kinds
from .bpmn_checks import BpmnChecks, _local, _properties, _text, _first
from .flowgraph import is_cycle, path_between, strongly_connected
from .parse_result import DefinitionError, ParsedProcess, ParseResult, Problem

__all__ = ['Problem', 'DefinitionError', 'ParsedProcess', 'ParseResult', 'parse_files', 'parse_paths', 'load_lanes']

BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL'
SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core'
NS = {'bpmn': BPMN_NS, 'spiffworkflow': SPIFF_NS}

# lxml schema objects keep their error log on the object; one parse at a time.
_LOCK = threading.Lock()
_DMN_VALIDATORS: dict[str, BpmnValidator] = {}


def load_lanes(path: Path) -> dict[str, str]:
    data = json.loads(Path(path).read_text(encoding='utf-8'))
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f'{path}: lanes.json must map lane names to role names')
    return data


def parse_paths(paths: list[Path], base: Path, lanes, forms_dir) -> ParseResult:
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


def parse_files(files: dict[str, bytes], lanes: dict[str, str], forms_dir: Path | None) -> ParseResult:
    with _LOCK:
        return _Validation(files, lanes or {}, Path(forms_dir) if forms_dir else None).run()


# ------------------------------------------------------------------ helpers

# Uploaded files are untrusted: no entity is expanded, no DTD loaded, nothing fetched (a DOCTYPE is
# refused outright in _Validation.load; this is the second line).
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                              huge_tree=False, remove_comments=False)

_DOCTYPE = re.compile(rb'<!DOCTYPE', re.I)
_ROOT_START = re.compile(rb'<[A-Za-z_]')


def _prolog_end(data: bytes) -> int:
    """Where the root element starts: a DOCTYPE can only come before it."""
    found = _ROOT_START.search(data)
    return found.start() if found else len(data)


# DMN versions by namespace. SpiffWorkflow 3.2 maps 1.1, 1.2 and 1.3, but the DMN 1.2 schema it
# ships does not load (DMNDI is missing: XMLSchemaParseError), and 1.4/1.5 are not mapped at all.
_DMN_VERSIONS = {
    'http://www.omg.org/spec/DMN/20151101/dmn.xsd': '1.1',
    'http://www.omg.org/spec/DMN/20180521/MODEL/': '1.2',
    'https://www.omg.org/spec/DMN/20191111/MODEL/': '1.3',
    'https://www.omg.org/spec/DMN/20211108/MODEL/': '1.4',
    'https://www.omg.org/spec/DMN/20230324/MODEL/': '1.5',
}

_XSD_DUP_ID = re.compile(r"attribute 'id': '([^']*)' is not a valid value of the atomic type 'xs:ID'")


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
        self.is_bpmn = True         # a bpmn:definitions root (kind 'bpmn' only)
        self.lanes = None           # lanes.LaneMap, once checked
        self.excluded = []          # process elements Spiff must not see (no id, duplicate id)


class _Validation(BpmnChecks):
    def __init__(self, files, lanes, forms_dir):
        self.files = {}
        for name, data in files.items():
            self.files[name] = data.encode('utf-8') if isinstance(data, str) else bytes(data)
        self.lanes = lanes
        self.forms_dir = forms_dir
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.signals: set[str] = set()
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

    def warn(self, doc, el_or_line, element, message):
        line = el_or_line if el_or_line is None or isinstance(el_or_line, int) else el_or_line.sourceline
        self.warnings.append(Problem(doc.name, line, element, message))

    def run(self) -> ParseResult:
        for name in sorted(self.files):
            self.load(name)
        self.index_processes()
        self.check_call_cycles()
        bpmn = [doc for doc in self.docs.values() if doc.kind == 'bpmn' and doc.is_bpmn]
        for doc in bpmn:
            # Signals cross call activities, so a catch may be served by a throw in another file.
            self.signals |= kinds.thrown_signals(doc.root)
        for doc in bpmn:
            self.check_bpmn(doc)
        parsed = self.spiff()
        problems = list(dict.fromkeys(self.problems))
        warnings_ = list(dict.fromkeys(self.warnings))
        if problems:
            raise DefinitionError(problems, warnings_)
        return ParseResult(parsed, warnings_)

    # ----------------------------------------------------------------- loading

    def load(self, name):
        data = self.files[name]
        lower = name.lower()
        if not (lower.endswith('.bpmn') or lower.endswith('.dmn') or lower.endswith('.xml')):
            self.add(name, None, None, '不支持的文件类型，只接受 .bpmn 和 .dmn (unsupported file type; only .bpmn and .dmn)')
            return
        kind = 'dmn' if lower.endswith('.dmn') else 'bpmn'
        doctype = _DOCTYPE.search(data[:_prolog_end(data)])
        if doctype is None:
            try:
                root = etree.fromstring(data, parser=_XML_PARSER)
            except etree.XMLSyntaxError as exc:
                self.add(name, exc.lineno, None, f'XML 格式错误 (malformed XML): {exc.msg}')
                return
            info = root.getroottree().docinfo   # a DOCTYPE the byte scan missed (another encoding)
        if doctype is not None or info.doctype or info.internalDTD is not None or info.externalDTD is not None:
            # BPMN and DMN need no DTD; one in an upload can only be a way to read files or the
            # network (external entities) or to exhaust memory (entity expansion).
            line = data[:doctype.start()].count(b'\n') + 1 if doctype is not None else 1
            self.add(name, line, None, '文件含 DOCTYPE（DTD）声明，出于安全原因拒绝；BPMN/DMN 文件不需要它，请删除 '
                                       '(a DOCTYPE/DTD declaration is refused: BPMN and DMN files need none)')
            return
        doc = _Doc(name, kind, root)
        self.docs[name] = doc
        if kind == 'bpmn':
            if etree.QName(root).namespace != BPMN_NS or _local(root) != 'definitions':
                self.add(doc, root, None, f'不是 BPMN 2.0 文件 (root element is {root.tag}, expected bpmn:definitions)')
                doc.ok = doc.is_bpmn = False
                return
            self.xsd(doc, VALIDATOR, 'BPMN')
        else:
            self.load_dmn(doc, root)

    def load_dmn(self, doc, root):
        ns = etree.QName(root).namespace
        version = _DMN_VERSIONS.get(ns)
        validator = _DMN_VALIDATORS.get(ns)
        if validator is None and ns in DMN_SCHEMAS and version in ('1.1', '1.3'):
            validator = _DMN_VALIDATORS[ns] = BpmnValidator(DMN_SCHEMAS[ns])
        if validator is None or _local(root) != 'definitions':
            what = f'DMN {version}' if version else f'namespace {ns!r}'
            self.add(doc, root, None, f'不支持的 DMN 版本（{what}），请在编辑器中另存为 DMN 1.3 (unsupported DMN '
                                      f'version: {what}; SpiffWorkflow 3.2 reads DMN 1.3 (and 1.1) only)')
            doc.ok = False
            return
        self.xsd(doc, validator, 'DMN')

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
        """Give each task the lane lanes.py decided, the one validation checked.

        Spiff gives every task inside an embedded subprocess the subprocess's lane, and modelers
        put a subprocess into the lane it is dropped on; the roles of the tasks inside must not
        change with where the subprocess box was moved.
        """
        for process_spec in specs:
            doc = self.docs.get(getattr(process_spec, 'file', None))
            lanes = doc.lanes.lane if doc is not None and doc.lanes is not None else {}
            for task_spec in process_spec.task_specs.values():
                bpmn_id = getattr(task_spec, 'bpmn_id', None)
                if bpmn_id in lanes:
                    task_spec.lane = lanes[bpmn_id]

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
        if not element and any(name == target.name for name, _ in self.custom_elements):
            return   # a file-level follow-up (e.g. "Data Store … has no implementation") of a problem reported
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
