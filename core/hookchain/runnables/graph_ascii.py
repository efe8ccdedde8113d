"""A graph drawn with text characters (as ``langchain_core.runnables.graph_ascii``).

The layout (where each box and edge goes) is computed by the ``grandalf``
library's Sugiyama layout, with LangChain's parameters, so drawings match
LangChain's; this module only paints the result: boxes of ``+ - |`` around
the node names, edges of ``*`` (``.`` for conditional edges). grandalf is an
optional dependency: ``pip install 'hookchain[graph]'``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

__all__ = ["draw_ascii"]

#: A box's height in lines: top edge, name, bottom edge.
BOX_HEIGHT = 3


class _BoxView:
    # What grandalf reads of a vertex (w, h) and writes (xy).
    def __init__(self, label: str) -> None:
        self.w = len(label) + 2
        self.h = BOX_HEIGHT
        self.xy: tuple[float, float] = (0.0, 0.0)


class _EdgeView:
    # What grandalf's router writes: the edge's polyline.
    def __init__(self) -> None:
        self.pts: list[tuple[float, float]] = []

    def setpath(self, pts: list[tuple[float, float]]) -> None:
        self.pts = pts


def _layout(vertices: Mapping[str, str], edges: Sequence[Any]) -> Any:
    """grandalf's Sugiyama layout of the graph, parameters as LangChain's."""
    try:
        from grandalf.graphs import Edge, Graph, Vertex
        from grandalf.layouts import SugiyamaLayout
        from grandalf.routing import route_with_lines
    except ImportError:
        raise ImportError(
            "draw_ascii needs the grandalf library: pip install 'hookchain[graph]' (or pip install grandalf)"
        ) from None
    boxes = {node_id: Vertex(f" {name} ") for node_id, name in vertices.items()}
    links = [Edge(boxes[edge[0]], boxes[edge[1]], data=edge[3]) for edge in edges]
    for box in boxes.values():
        box.view = _BoxView(box.data)
    for link in links:
        link.view = _EdgeView()
    graph = Graph(list(boxes.values()), links).C[0]
    layout = SugiyamaLayout(graph)
    layout.init_all(roots=[v for v in graph.sV if not v.e_in()], optimize=True)
    layout.yspace = BOX_HEIGHT
    layout.xspace = min(box.view.w for box in boxes.values())
    layout.route_edge = route_with_lines
    layout.draw()
    return layout


class _Canvas:
    def __init__(self, cols: int, lines: int) -> None:
        if cols <= 1 or lines <= 1:
            raise ValueError("Canvas dimensions should be > 1")
        self.cols, self.lines = cols, lines
        self.cells = [[" "] * cols for _ in range(lines)]

    def put(self, x: int, y: int, char: str) -> None:
        if not (0 <= x < self.cols and 0 <= y < self.lines):
            raise ValueError(f"point ({x}, {y}) is outside the {self.cols}x{self.lines} canvas")
        self.cells[y][x] = char

    def line(self, x0: int, y0: int, x1: int, y1: int, char: str) -> None:
        # One cell per step along the longer axis, the other coordinate rounded.
        if abs(x1 - x0) >= abs(y1 - y0):
            (xa, ya), (xb, yb) = sorted([(x0, y0), (x1, y1)])
            for x in range(xa, xb + 1):
                self.put(x, ya if xb == xa else ya + round((x - xa) * (yb - ya) / float(xb - xa)), char)
        else:
            (xa, ya), (xb, yb) = sorted([(x0, y0), (x1, y1)], key=lambda p: p[1])
            for y in range(ya, yb + 1):
                self.put(xa + round((y - ya) * (xb - xa) / float(yb - ya)), y, char)

    def box(self, x0: int, y0: int, width: int, height: int, text: str) -> None:
        right, bottom = x0 + width - 1, y0 + height - 1
        for x in range(x0, right):
            self.put(x, y0, "-")
            self.put(x, bottom, "-")
        for y in range(y0, bottom):
            self.put(x0, y, "|")
            self.put(right, y, "|")
        for x, y in ((x0, y0), (right, y0), (x0, bottom), (right, bottom)):
            self.put(x, y, "+")
        for i, char in enumerate(text):
            self.put(x0 + 1 + i, y0 + 1, char)

    def __str__(self) -> str:
        return "\n".join("".join(row) for row in self.cells)


def draw_ascii(vertices: Mapping[str, str], edges: Sequence[Any]) -> str:
    """The graph of ``vertices`` (``{node id: name}``) and ``edges``
    (``(source id, target id, data, conditional)`` tuples) drawn in text, as
    LangChain's ``draw_ascii``. Raises ``ImportError`` naming the extra to
    install when grandalf is missing."""
    layout = _layout(vertices, edges)
    xs: list[float] = []
    ys: list[float] = []
    for v in layout.g.sV:
        xs += [v.view.xy[0] - v.view.w / 2.0, v.view.xy[0] + v.view.w / 2.0]
        ys += [v.view.xy[1], v.view.xy[1] + v.view.h]
    for e in layout.g.sE:
        xs += [x for x, _ in e.view.pts]
        ys += [y for _, y in e.view.pts]
    minx, miny = min(xs), min(ys)
    canvas = _Canvas(math.ceil(math.ceil(max(xs)) - math.floor(minx)) + 1, round(max(ys) - miny))
    for e in layout.g.sE:  # edges first: boxes are drawn over their ends
        points = [(round(x - minx), round(y - miny)) for x, y in e.view.pts]
        if len(points) <= 1:
            raise ValueError("Not enough points to draw an edge")
        for start, end in zip(points, points[1:]):
            canvas.line(*start, *end, "." if e.data else "*")
    for v in layout.g.sV:
        left = v.view.xy[0] - v.view.w / 2.0
        canvas.box(round(left - minx), round(v.view.xy[1] - miny), v.view.w, v.view.h, v.data)
    return str(canvas)
