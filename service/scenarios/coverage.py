"""Which branches of the diagrams the scenarios passed, and which none did.

A branch is an outgoing sequence flow of an exclusive or inclusive gateway, or a boundary event,
of an executable process (embedded subprocesses included). It is covered when a passing scenario
went through it: the gateway chose that flow, the boundary event fired.
"""
from dataclasses import dataclass

from lxml import etree

BPMN = '{http://www.omg.org/spec/BPMN/20100524/MODEL}'
_GATEWAYS = (f'{BPMN}exclusiveGateway', f'{BPMN}inclusiveGateway')
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass(frozen=True)
class Branch:
    file: str
    kind: str           # 'flow' | 'boundary'
    element: str        # the flow's id or the boundary event's id
    source: str | None  # the gateway (flows)
    target: str | None  # the flow's target
    name: str

    def __str__(self):
        if self.kind == 'flow':
            label = f'「{self.name}」' if self.name else ''
            return f'{self.file}: 网关 {self.source} 的分支 {self.element}{label} → {self.target}'
        return f'{self.file}: 边界事件 {self.element}「{self.name}」'


def branches(files):
    """Every branch of `files` ({path: bytes}, .bpmn only are read)."""
    out = []
    for name, data in sorted(files.items()):
        if not name.endswith('.bpmn'):
            continue
        root = etree.fromstring(data, parser=_PARSER)
        for process in root.iter(f'{BPMN}process'):
            if process.get('isExecutable', 'true') != 'true':
                continue
            gateways = {el.get('id') for el in process.iter(*_GATEWAYS)}
            for flow in process.iter(f'{BPMN}sequenceFlow'):
                if flow.get('sourceRef') in gateways:
                    out.append(Branch(name, 'flow', flow.get('id'), flow.get('sourceRef'), flow.get('targetRef'),
                                      flow.get('name') or ''))
            for event in process.iter(f'{BPMN}boundaryEvent'):
                out.append(Branch(name, 'boundary', event.get('id'), None, None, event.get('name') or ''))
    return out


def covered(branch, recorders):
    for recorder in recorders:
        if branch.kind == 'flow' and (branch.file, branch.source, branch.target) in recorder.flows:
            return True
        if branch.kind == 'boundary' and (branch.file, branch.element) in recorder.boundaries:
            return True
    return False


def uncovered(files, results):
    """The branches of `files` that no passing result went through."""
    recorders = [r.recorder for r in results if r.passed and r.recorder is not None]
    return [b for b in branches(files) if not covered(b, recorders)]
