"""Procedure rules live in diagrams, DMN and forms, never in Python (issue 10, item 7).

An AST scan of service/: no comparison (==, !=, in, not in) with a literal that is a process key or
the id of a task, subprocess or call activity of processes/, and no form file name of forms/ as a
literal at all. The parser reads diagrams and may name what it reads; migrations are history.
"""
import ast
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
BPMN = '{http://www.omg.org/spec/BPMN/20100524/MODEL}'
_KINDS = ('process', 'userTask', 'manualTask', 'receiveTask', 'sendTask', 'scriptTask', 'serviceTask',
          'businessRuleTask', 'task', 'subProcess', 'callActivity')
ALLOWED = ('service/engine/parser.py', 'service/migrations/versions/')


def _ids():
    found = set()
    for path in (ROOT / 'processes').rglob('*.bpmn'):
        root = etree.parse(str(path)).getroot()
        found |= {el.get('id') for el in root.iter(*(BPMN + k for k in _KINDS)) if el.get('id')}
    return found


def _literals(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for item in node.elts:
            yield from _literals(item)


def findings():
    ids = _ids()
    form_names = {p.name for p in (ROOT / 'forms').glob('*.json')}
    out = []
    for path in sorted((ROOT / 'service').rglob('*.py')):
        shown = path.relative_to(ROOT).as_posix()
        if shown.startswith(ALLOWED):
            continue
        tree = ast.parse(path.read_text(encoding='utf-8'))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in form_names:
                out.append(f'{shown}:{node.lineno}: form file name {node.value!r}')
            if isinstance(node, ast.Compare):
                for side in [node.left, *node.comparators]:
                    for text in _literals(side):
                        if text in ids:
                            out.append(f'{shown}:{node.lineno}: compares with {text!r} (an id in processes/)')
    return out


def test_service_has_no_if_on_task_names_process_keys_or_form_files():
    assert findings() == []


def test_the_scan_finds_such_an_if():
    source = "if task.bpmn_id == 'township_confirmation' or key in ('dibao_a',):\n    pass\n"
    node = ast.parse(source).body[0].test
    ids = _ids()
    assert [t for c in node.values for s in [c.left, *c.comparators] for t in _literals(s) if t in ids] == \
        ['township_confirmation', 'dibao_a']
