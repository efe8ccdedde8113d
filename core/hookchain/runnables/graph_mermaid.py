"""Mermaid text of a graph (as ``langchain_core.runnables.graph_mermaid.draw_mermaid``).

Plain text, no library: the same lines as LangChain's for the flat graphs
runnables make (node ids with ``:``, LangGraph's subgraphs, are drawn flat).
"""

from __future__ import annotations

import string
from dataclasses import asdict
from typing import Any, Optional

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # graph.py imports this module when it draws
    from hookchain.runnables.graph import CurveStyle, Edge, Node, NodeStyles

__all__ = ["draw_mermaid"]

_MARKDOWN_SPECIAL = tuple("*_`")
_LABEL_ESCAPES = {"[": "#91;", "]": "#93;", "(": "#40;", ")": "#41;", "{": "#123;", "}": "#125;", '"': "#quot;",
                  "<": "#60;", ">": "#62;", "|": "#124;"}
_SAFE = frozenset(string.ascii_letters + string.digits + "_-")


def _escape_label(text: str) -> str:
    text = text.replace("#", "#35;")
    for char, entity in _LABEL_ESCAPES.items():
        text = text.replace(char, entity)
    return text


def _safe_id(label: str) -> str:
    # Mermaid-safe and unique: other characters become backslash + hex code point.
    return "".join(ch if ch in _SAFE else "\\" + format(ord(ch), "x") for ch in label)


def _metadata_lines(metadata: dict[str, Any]) -> list[str]:
    scalars = (str, int, float, bool)
    lines = []
    for key, value in metadata.items():
        if isinstance(value, scalars):
            text = str(value)
        elif isinstance(value, (list, tuple, set)) and all(isinstance(v, scalars) for v in value):
            items = [str(v) for v in value]
            text = ", ".join(sorted(items) if isinstance(value, set) else items)
        else:
            continue
        lines.append(_escape_label(f"{key} = {text}"))
    return lines


def _edge_label(edge: Edge, wrap_label_n_words: int) -> str:
    if edge.data is None:
        return " -.-> " if edge.conditional else " --> "
    words = str(edge.data).split()
    data = str(edge.data)
    if len(words) > wrap_label_n_words:
        data = "&nbsp<br>&nbsp".join(
            " ".join(words[i:i + wrap_label_n_words]) for i in range(0, len(words), wrap_label_n_words)
        )
    return f" -. &nbsp;{data}&nbsp; .-> " if edge.conditional else f" -- &nbsp;{data}&nbsp; --> "


def draw_mermaid(
    nodes: dict[str, Node], edges: list[Edge], *, first_node: Optional[str] = None, last_node: Optional[str] = None,
    with_styles: bool = True, curve_style: "CurveStyle", node_styles: "NodeStyles",
    wrap_label_n_words: int = 9,
) -> str:
    """Mermaid ``graph TD`` text of ``nodes`` and ``edges``: with
    ``with_styles``, a front matter setting the curve style, one line per
    node (first and last node rounded, with classes ``first``/``last``;
    metadata shown under the name) and ``classDef`` lines; then one line per
    edge (``data`` as its label, ``conditional`` dotted, long labels wrapped
    every ``wrap_label_n_words`` words)."""
    if with_styles:
        text = f"---\nconfig:\n  flowchart:\n    curve: {curve_style.value}\n---\ngraph TD;\n"
        formats = {first_node: "{0}([{1}]):::first", last_node: "{0}([{1}]):::last"}
        for key, node in nodes.items():
            name = node.name.split(":")[-1]
            label = f"<p>{name}</p>" if name.startswith(_MARKDOWN_SPECIAL) and name.endswith(_MARKDOWN_SPECIAL) else name
            lines = _metadata_lines(node.metadata or {})
            if lines:
                label = f"{label}<hr/><small><em>" + "\n".join(lines) + "</em></small>"
            text += "\t" + formats.get(key, "{0}({1})").format(_safe_id(key), label) + "\n"
    else:
        text = "graph TD;\n"
    for edge in edges:
        text += f"\t{_safe_id(edge.source)}{_edge_label(edge, wrap_label_n_words)}{_safe_id(edge.target)};\n"
    if with_styles:
        text += "".join(f"\tclassDef {name} {style}\n" for name, style in asdict(node_styles).items())
    return text
