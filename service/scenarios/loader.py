"""Scenario files: what a designer writes next to a diagram, read and checked before anything runs.

A file `<diagram>.scenarios.json` holds the scenarios of one process (processes/README.md,
"Scenarios"). Every mistake in the file is reported with the file and the scenario's name in
Chinese, before a case is started: a scenario that cannot be read is a failed scenario, never a
traceback.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

SUFFIX = '.scenarios.json'
DEFAULT_START_AT = '2026-09-28T09:00:00+08:00'     # a Monday 09:00 in Shanghai, before National Day
DEFAULT_TOWNSHIP = 't01'
DEFAULT_STARTER = 'township_caseworker'
ACTIONS = ('complete', 'message', 'wait', 'extend', 'check', 'use')
WAIT_UNITS = ('working_days', 'days', 'hours', 'minutes', 'timer', 'until')
EXPECT_KEYS = ('path', 'not_passed', 'end_event', 'status', 'waiting_at', 'overdue', 'error')


class ScenarioFileError(Exception):
    """The file cannot be read as scenarios; the message says where and why (Chinese)."""


@dataclass
class Scenario:
    file: str
    process: str
    name: str
    township: str
    start_at: str
    start_as: str
    start: dict
    steps: list
    expect: dict
    business_key: str | None = None
    tags: list = field(default_factory=list)
    # What the township's entrustment registry would add at the start (cases.start_case): the phase
    # the delegated diagrams branch on (`transition` → county guidance); None = started without it.
    entrustment_phase: str | None = None


def find_files(paths):
    """Every scenario file under `paths` (files or folders), sorted."""
    found = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob(f'*{SUFFIX}') if p.is_file()))
        elif path.name.endswith(SUFFIX):
            found.append(path)
        elif path.suffix == '.bpmn':
            beside = path.with_name(path.name[:-len('.bpmn')] + SUFFIX)
            if beside.exists():
                found.append(beside)
    return list(dict.fromkeys(found))


def load_file(path, name=None):
    """The scenarios of one file; `name` is how the file is shown (default: the path)."""
    path = Path(path)
    return parse(path.read_bytes(), name or str(path))


def parse(data, name):
    try:
        doc = json.loads(data.decode('utf-8') if isinstance(data, bytes) else data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ScenarioFileError(f'{name}: 不是有效的 JSON 文件：{exc}') from None
    if not isinstance(doc, dict):
        raise ScenarioFileError(f'{name}: 文件应是一个对象，含 process 和 scenarios')
    process = doc.get('process')
    if not isinstance(process, str) or not process:
        raise ScenarioFileError(f'{name}: 缺少 process（要测试的流程 id）')
    items = doc.get('scenarios')
    if not isinstance(items, list) or not items:
        raise ScenarioFileError(f'{name}: scenarios 应是非空列表')
    fragments = doc.get('fragments') or {}
    if not isinstance(fragments, dict):
        raise ScenarioFileError(f'{name}: fragments 应是“名称 → 步骤列表”的对象')
    defaults = {
        'township': doc.get('township', DEFAULT_TOWNSHIP),
        'start_at': doc.get('start_at', DEFAULT_START_AT),
        'start_as': doc.get('start_as', DEFAULT_STARTER),
        'start': doc.get('start', {}),
        'entrustment_phase': doc.get('entrustment_phase'),
    }
    out, names = [], set()
    for index, item in enumerate(items, 1):
        where = f'{name}: 第 {index} 个场景'
        if not isinstance(item, dict) or not isinstance(item.get('name'), str) or not item['name'].strip():
            raise ScenarioFileError(f'{where}: 缺少 name（场景名称）')
        where = f'{name}: 场景「{item["name"]}」'
        if item['name'] in names:
            raise ScenarioFileError(f'{where}: 场景名称重复')
        names.add(item['name'])
        start = _merged_start(defaults['start'], item.get('start'), where)
        steps = _expand(item.get('steps', []), fragments, where, ())
        expect = item.get('expect')
        if not isinstance(expect, dict) or not expect:
            raise ScenarioFileError(f'{where}: 缺少 expect（预期结果）')
        unknown = sorted(set(expect) - set(EXPECT_KEYS))
        if unknown:
            raise ScenarioFileError(f'{where}: expect 中有不认识的项 {"、".join(unknown)}（可用：{"、".join(EXPECT_KEYS)}）')
        out.append(Scenario(file=name, process=item.get('process', process), name=item['name'],
                            township=item.get('township', defaults['township']),
                            start_at=item.get('start_at', defaults['start_at']),
                            start_as=item.get('start_as', defaults['start_as']), start=start, steps=steps,
                            expect=expect, business_key=item.get('business_key'), tags=item.get('tags', []),
                            entrustment_phase=item.get('entrustment_phase', defaults['entrustment_phase'])))
    return out


def _merged_start(base, override, where):
    if override is None:
        return dict(base)
    if not isinstance(override, dict):
        raise ScenarioFileError(f'{where}: start（申请数据）应是对象')
    if override.pop('$replace', False) if isinstance(override, dict) else False:
        return dict(override)
    merged = dict(base)
    merged.update(override)
    return merged


def _expand(steps, fragments, where, seen):
    if not isinstance(steps, list):
        raise ScenarioFileError(f'{where}: steps 应是列表')
    out = []
    for number, step in enumerate(steps, 1):
        if not isinstance(step, dict):
            raise ScenarioFileError(f'{where}: 第 {number} 步应是对象')
        actions = [a for a in ACTIONS if a in step]
        if len(actions) != 1:
            raise ScenarioFileError(f'{where}: 第 {number} 步应只含以下一项：{"、".join(ACTIONS)}')
        action = actions[0]
        if action == 'use':
            fragment = step['use']
            if fragment not in fragments:
                raise ScenarioFileError(f'{where}: 第 {number} 步引用了不存在的片段「{fragment}」')
            if fragment in seen:
                raise ScenarioFileError(f'{where}: 片段「{fragment}」引用了自己')
            out.extend(_expand(fragments[fragment], fragments, f'{where}（片段「{fragment}」）', seen + (fragment,)))
            continue
        if action == 'wait':
            wait = step['wait']
            if not isinstance(wait, dict) or len(wait) != 1 or next(iter(wait)) not in WAIT_UNITS:
                raise ScenarioFileError(f'{where}: 第 {number} 步 wait 应只含以下一项：{"、".join(WAIT_UNITS)}')
        if action in ('complete', 'message', 'extend') and not isinstance(step.get('as'), str):
            raise ScenarioFileError(f'{where}: 第 {number} 步缺少 as（由哪个角色办理）')
        out.append(dict(step))
    return out
