"""The org chart's geometry: a tidy tree layout computed without I/O, drawn by a template."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 180, 64, 24, 70, 16


@dataclass
class Box:
    id: uuid.UUID
    name: str
    x: float = 0
    y: float = 0
    private: bool = False
    links: list[str] = field(default_factory=list)  # e.g. "leader: Chidi", drawn on the edge to the parent


@dataclass
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    labels: list[str]


@dataclass
class Chart:
    boxes: list[Box]
    edges: list[Edge]
    width: float
    height: float


def layout(circles: Sequence[tuple[uuid.UUID, uuid.UUID | None, str, bool]],
           links: Mapping[uuid.UUID, list[tuple[str, str]]]) -> Chart:
    """circles: (id, parent_id, name, private). Leaves sit side by side; a parent is centred
    over its children; each level is one row."""
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    boxes: dict[uuid.UUID, Box] = {}
    for circle_id, parent_id, name, private in circles:
        children.setdefault(parent_id, []).append(circle_id)
        boxes[circle_id] = Box(id=circle_id, name=name, private=private,
                               links=[f"{role}: {person}" for role, person in sorted(links.get(circle_id, []))])
    next_x = MARGIN

    def place(circle_id: uuid.UUID, depth: int) -> None:
        nonlocal next_x
        box = boxes[circle_id]
        box.y = MARGIN + depth * (BOX_H + GAP_Y)
        kids = children.get(circle_id, [])
        for kid in kids:
            place(kid, depth + 1)
        if kids:
            box.x = (boxes[kids[0]].x + boxes[kids[-1]].x) / 2
        else:
            box.x = next_x
            next_x += BOX_W + GAP_X

    known = set(boxes)
    for root in [c for c, p, _, _ in circles if p is None or p not in known]:
        place(root, 0)
    edges = [
        Edge(x1=boxes[p].x + BOX_W / 2, y1=boxes[p].y + BOX_H, x2=box.x + BOX_W / 2, y2=box.y, labels=box.links)
        for c, p, _, _ in circles if p in known for box in [boxes[c]]
    ]
    width = max((b.x for b in boxes.values()), default=0) + BOX_W + MARGIN
    height = max((b.y for b in boxes.values()), default=0) + BOX_H + MARGIN
    return Chart(boxes=list(boxes.values()), edges=edges, width=width, height=height)
