"""Who does a task: the lane of every flow node of a BPMN file, decided once for validation and runtime.

A modeler lists a node in every lane its shape lies in: bpmn-js adds a subprocess to the lane it
was dropped on, a nested lane's nodes are listed by its parent lane too, and a subprocess may have
lanes of its own. So a node's lane is the *innermost* lane that lists it (a subprocess's own
laneSet before the process's, a child lane before its parent); a node no lane lists takes the lane
of its enclosing embedded subprocess. Where a subprocess box was moved can then never change who
does the tasks inside it that a lane lists.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

BPMN_NS = 'http://www.omg.org/spec/BPMN/20100524/MODEL'
NS = {'bpmn': BPMN_NS}

# Containers whose flow nodes inherit the container's lane when no lane lists them.
EMBEDDED = frozenset({'subProcess', 'transaction', 'adHocSubProcess'})

__all__ = ['LaneMap', 'resolve']


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ''


@dataclass
class LaneMap:
    """The lanes of one file: `lane[node id]` (a lane name, or None when nothing gives it one)."""
    lane: dict[str, str | None] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)          # nodes some lane lists itself
    ambiguous: dict[str, list[str]] = field(default_factory=dict)   # node -> lanes listing it at one level
    scopes_with_lanes: set[str] = field(default_factory=set)        # ids of processes/subprocesses with a laneSet

    def decided_by(self, el) -> str | None:
        """The id of the node whose lane listing gives `el` its lane: itself, or the embedded subprocess around it."""
        if el.get('id') in self.listed:
            return el.get('id')
        for anc in el.iterancestors():
            if _local(anc) in EMBEDDED and anc.get('id') in self.listed:
                return anc.get('id')
        return None

    def has_lanes(self, el) -> bool:
        """Whether the node's process, or an embedded subprocess around it, has lanes at all."""
        for anc in el.iterancestors():
            if anc.get('id') in self.scopes_with_lanes:
                return True
        return False


def _level(lane) -> tuple[int, int]:
    """(how deep the lane's laneSet is nested in subprocesses, how deep the lane is in child lanes)."""
    scope_depth = lane_depth = 0
    for anc in lane.iterancestors():
        kind = _local(anc)
        if kind == 'lane':
            lane_depth += 1
        elif kind in EMBEDDED:
            scope_depth += 1
    return scope_depth, lane_depth


def _scope_of(lane_set):
    """The process or subprocess a laneSet belongs to (a childLaneSet belongs to its top lane's)."""
    for anc in lane_set.iterancestors():
        if _local(anc) in EMBEDDED or _local(anc) == 'process':
            return anc
    return None


def resolve(root) -> LaneMap:
    result = LaneMap()
    listing: dict[str, list[tuple[tuple[int, int], str | None, str]]] = {}
    for lane_set in root.iter(f'{{{BPMN_NS}}}laneSet'):
        scope = _scope_of(lane_set)
        if scope is not None and scope.get('id'):
            result.scopes_with_lanes.add(scope.get('id'))
    for lane in root.iter(f'{{{BPMN_NS}}}lane'):
        level = _level(lane)
        for ref in lane.xpath('./bpmn:flowNodeRef', namespaces=NS):
            node = (ref.text or '').strip()
            if node:
                listing.setdefault(node, []).append((level, lane.get('name'), lane.get('id') or ''))
    own: dict[str, str | None] = {}
    for node, found in listing.items():
        top = max(level for level, _, _ in found)
        innermost = [(name, lane_id) for level, name, lane_id in found if level == top]
        if len({lane_id for _, lane_id in innermost}) > 1:
            result.ambiguous[node] = [name or lane_id for name, lane_id in innermost]
        own[node] = innermost[0][0]
    result.listed = set(own)

    def lane_of(el):
        eid = el.get('id')
        if eid in own:
            return own[eid]
        for anc in el.iterancestors():
            if _local(anc) in EMBEDDED and anc.get('id') in own:
                return own[anc.get('id')]
        return None

    for el in root.iter():
        eid = el.get('id') if isinstance(el.tag, str) else None
        if eid and etree.QName(el).namespace == BPMN_NS:
            result.lane[eid] = lane_of(el)
    return result
