"""The org chart's geometry: a tidy tree layout computed without I/O, drawn by a template."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 180, 64, 24, 70, 16
CHAR_W, LINE_H = 7, 14  # 12px label text is under 7px a character
# Around the chart, as consent.css lays out a page: the main column is at most 960 px wide with
# 16 px of padding each side, the chart's frame has a 1 px border, and a desktop browser's
# scrollbar may take up to 20 px of the window.
PAGE_WIDTH, PAGE_PADDING, FRAME, SCROLLBAR = 960, 16, 1, 20


@dataclass
class Box:
    id: uuid.UUID
    name: str
    x: float = 0
    y: float = 0
    private: bool = False
    links: list[str] = field(default_factory=list)  # e.g. "leader: Chidi", drawn on the edge to the parent

    @property
    def centre(self) -> float:
        return self.x + BOX_W / 2

    @property
    def half_width(self) -> float:
        """Half the room this circle needs: its box, or its link labels beside its edge."""
        return max(BOX_W / 2, max((len(label) for label in self.links), default=0) * CHAR_W + 6)


@dataclass
class Label:
    text: str
    x: float
    y: float
    anchor: str  # "start" or "end": labels sit on the side away from the parent


@dataclass
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    labels: list[Label]


@dataclass
class Chart:
    boxes: list[Box]
    edges: list[Edge]
    width: float
    height: float

    @property
    def fits_from(self) -> int | None:
        """The narrowest window (CSS px) in which the whole chart is seen without scrolling it
        sideways, or None when it scrolls in any window."""
        needed = math.ceil(self.width) + 2 * (PAGE_PADDING + FRAME) + SCROLLBAR
        return needed if needed - SCROLLBAR <= PAGE_WIDTH else None


def layout(
    circles: Sequence[tuple[uuid.UUID, uuid.UUID | None, str, bool]], links: Mapping[uuid.UUID, list[tuple[str, str]]]
) -> Chart:
    """circles: (id, parent_id, name, private). Leaves sit side by side, each with room for its
    link labels; a parent is centred over its children; each level is one row."""
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    boxes: dict[uuid.UUID, Box] = {}
    for circle_id, parent_id, name, private in circles:
        children.setdefault(parent_id, []).append(circle_id)
        boxes[circle_id] = Box(
            id=circle_id,
            name=name,
            private=private,
            links=[f"{role}: {person}" for role, person in sorted(links.get(circle_id, []))],
        )
    next_x: float = MARGIN

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
            box.x = next_x + box.half_width - BOX_W / 2
        next_x = max(next_x, box.centre + box.half_width + GAP_X)

    known = set(boxes)
    for root in [c for c, p, _, _ in circles if p is None or p not in known]:
        place(root, 0)
    edges = [_edge(boxes[p], boxes[c]) for c, p, _, _ in circles if p in known]
    width = max((b.centre + b.half_width for b in boxes.values()), default=0) + MARGIN
    height = max((b.y for b in boxes.values()), default=0) + BOX_H + MARGIN
    return Chart(boxes=list(boxes.values()), edges=edges, width=width, height=height)


def _edge(parent: Box, child: Box) -> Edge:
    """Labels stack just above the child, beside the line, on the side away from the parent."""
    rightwards = child.centre >= parent.centre
    labels = [
        Label(
            text=text,
            x=child.centre + (6 if rightwards else -6),
            y=child.y - 8 - (len(child.links) - 1 - i) * LINE_H,
            anchor="start" if rightwards else "end",
        )
        for i, text in enumerate(child.links)
    ]
    return Edge(x1=parent.centre, y1=parent.y + BOX_H, x2=child.centre, y2=child.y, labels=labels)
