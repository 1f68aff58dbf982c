"""The org chart's layout: parents over children, and link labels that neither overlap
each other nor leave the drawing."""

from __future__ import annotations

import itertools
import uuid

from circles.chart import BOX_W, CHAR_W, layout

TOP, A, B, C, A1 = (uuid.UUID(int=i) for i in range(1, 6))
TREE = [
    (TOP, None, "General", False),
    (A, TOP, "Food", False),
    (B, TOP, "Housing", True),
    (C, TOP, "Repairs", False),
    (A1, A, "Deliveries", False),
]
LINKS = {
    A: [("leader", "Chidi Mensah-Okonkwo"), ("delegate", "Dana Kowalski")],
    B: [("leader", "Eli Navarro"), ("delegate", "Fatima Haddad")],
    C: [("delegate", "Bo")],
    A1: [("leader", "Someone With A Long Name")],
}


def extent(label) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    width = len(label.text) * CHAR_W
    left = label.x if label.anchor == "start" else label.x - width
    return left, left + width, label.y


def test_parents_sit_over_their_children_one_row_per_level() -> None:
    chart = layout(TREE, LINKS)
    boxes = {box.id: box for box in chart.boxes}
    assert boxes[TOP].centre == (boxes[A].centre + boxes[C].centre) / 2
    assert boxes[A].y == boxes[B].y == boxes[C].y > boxes[TOP].y
    assert boxes[A1].y > boxes[A].y
    assert boxes[B].private and boxes[A].links == ["delegate: Dana Kowalski", "leader: Chidi Mensah-Okonkwo"]


def test_boxes_and_labels_do_not_overlap_and_fit_the_drawing() -> None:
    chart = layout(TREE, LINKS)
    rows: dict[float, list[tuple[float, float]]] = {}
    for box in chart.boxes:
        rows.setdefault(box.y, []).append((box.x, box.x + BOX_W))
    for edge in chart.edges:
        for label in edge.labels:
            left, right, y = extent(label)
            assert left >= 0 and right <= chart.width and y - 12 >= 0 and y <= chart.height
            rows.setdefault(y, []).append((left, right))
    for spans in rows.values():
        spans.sort()
        for (_, right), (left, _) in itertools.pairwise(spans):
            assert right <= left, spans


def test_an_empty_organisation_has_an_empty_chart() -> None:
    chart = layout([(TOP, None, "Alone", False)], {})
    assert len(chart.boxes) == 1 and chart.edges == [] and chart.width == 16 + BOX_W + 16


def test_the_window_from_which_the_chart_needs_no_scrolling() -> None:
    small = layout([(TOP, None, "Alone", False)], {})  # 212 px wide: fits any window from 266 px
    assert small.fits_from == 212 + 2 * (16 + 1) + 20
    wide = layout([(TOP, None, "Top", False), *((uuid.UUID(int=10 + i), TOP, f"C{i}", False) for i in range(5))], {})
    assert wide.width > 960 and wide.fits_from is None  # wider than the page's column: it always scrolls
