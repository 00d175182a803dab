"""Cycles in directed graphs (sequence flows of a process, call activities between processes)."""
from __future__ import annotations

from collections import deque

__all__ = ['cycle_through', 'is_cycle', 'path_between', 'strongly_connected']


def strongly_connected(graph: dict) -> list[list]:
    """The strongly connected components of ``graph`` (node -> successors), in Tarjan's order.

    Iterative, so a diagram with thousands of elements cannot exhaust the recursion limit.
    Successors that are not keys of ``graph`` are ignored.
    """
    index, low, on_stack = {}, {}, set()
    stack, components = [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in graph:
                    continue
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(graph[succ])))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def is_cycle(graph: dict, component: list) -> bool:
    """Whether a component holds a cycle: more than one node, or a node that leads to itself."""
    return len(component) > 1 or component[0] in graph.get(component[0], ())


def path_between(graph: dict, start, goal, within) -> list:
    """A shortest path [start, ..., goal] of at least one step, through nodes in ``within``; [] if none."""
    came_from = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in graph.get(node, ()):
            if succ == goal:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return path[::-1] + [goal]
            if succ in within and succ not in came_from and succ != start:
                came_from[succ] = node
                queue.append(succ)
    return []


def cycle_through(graph: dict, start, within) -> list:
    """A shortest cycle [start, ..., start] through nodes in ``within``."""
    return path_between(graph, start, start, within) or [start]
