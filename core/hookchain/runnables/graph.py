"""The graph of a runnable (as ``langchain_core.runnables.graph``).

``runnable.get_graph()`` returns a ``Graph``: ``nodes`` (``{id: Node}``) and
``edges`` (``[Edge]``) from an input node through the runnable's parts to an
output node, built as LangChain builds it (a sequence chains its steps'
graphs, a parallel fans out from one input node to one output node, a
``RunnablePassthrough.assign`` adds a ``Passthrough`` branch, ``bind`` /
``with_config`` show the bound runnable, a configurable runnable the one its
config selects). ``draw_mermaid()`` gives Mermaid text, ``draw_ascii()`` /
``print_ascii()`` a text drawing laid out by the ``grandalf`` library
(``pip install 'hookchain[graph]'``).

Differences from LangChain: the input and output nodes' data are pydantic
models named as LangChain's (``PromptInput``, ``FakeListChatModelOutput``...)
but without fields (hookchain has no input/output schemas); a
``RunnableLambda`` is one node (LangChain also draws the runnables its
function's source refers to); no ``to_json``, ``draw_png`` or
``draw_mermaid_png``; ``draw_mermaid`` has no ``frontmatter_config``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any, NamedTuple, Optional, Sequence
from uuid import UUID, uuid4

from pydantic import BaseModel, create_model

from hookchain.runnables.base import (
    Runnable, RunnableAssign, RunnableBinding, RunnableParallel, RunnablePassthrough, RunnableSequence,
)
from hookchain.runnables.config import RunnableConfig, merge_configs

__all__ = ["Graph", "Node", "Edge", "CurveStyle", "NodeStyles", "node_data_str", "is_uuid"]


def is_uuid(value: str) -> bool:
    """Whether ``value`` parses as a UUID (a node id made by ``Graph.next_id``)."""
    try:
        UUID(value)
    except ValueError:
        return False
    return True


class Edge(NamedTuple):
    """An edge from node id ``source`` to node id ``target``; ``data`` is a
    label, ``conditional`` draws it dotted."""

    source: str
    target: str
    data: Any = None
    conditional: bool = False

    def copy(self, *, source: Optional[str] = None, target: Optional[str] = None) -> "Edge":
        return self._replace(source=source or self.source, target=target or self.target)


class Node(NamedTuple):
    """A node: ``data`` is a runnable, or a pydantic model class for the input
    and output nodes; ``name`` is what drawings show."""

    id: str
    name: str
    data: Any
    metadata: Optional[dict[str, Any]]

    def copy(self, *, id: Optional[str] = None, name: Optional[str] = None) -> "Node":
        return self._replace(id=id or self.id, name=name or self.name)


class CurveStyle(Enum):
    """Mermaid's edge curve styles."""

    BASIS = "basis"
    BUMP_X = "bumpX"
    BUMP_Y = "bumpY"
    CARDINAL = "cardinal"
    CATMULL_ROM = "catmullRom"
    LINEAR = "linear"
    MONOTONE_X = "monotoneX"
    MONOTONE_Y = "monotoneY"
    NATURAL = "natural"
    STEP = "step"
    STEP_AFTER = "stepAfter"
    STEP_BEFORE = "stepBefore"


@dataclass
class NodeStyles:
    """Mermaid class styles of ordinary, first and last nodes."""

    default: str = "fill:#f2f0ff,line-height:1.2"
    first: str = "fill-opacity:0"
    last: str = "fill:#bfb6fc"


def node_data_str(id: str, data: Any) -> str:
    """A node's name, as LangChain's: its id unless that is a generated UUID,
    else the runnable's name or the schema's class name, without a leading
    ``Runnable``."""
    if not is_uuid(id) or data is None:
        return id
    text = data.get_name() if isinstance(data, Runnable) else data.__name__
    return text[len("Runnable"):] if text.startswith("Runnable") else text


@dataclass
class Graph:
    """Nodes (``{id: Node}``, in insertion order) and edges, as LangChain's ``Graph``."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.nodes)

    def next_id(self) -> str:
        return uuid4().hex

    def add_node(self, data: Any, id: Optional[str] = None, *, metadata: Optional[dict[str, Any]] = None) -> Node:
        """Add a node for ``data`` (a runnable or a schema class) and return
        it. Raises ``ValueError`` if ``id`` is taken."""
        if id is not None and id in self.nodes:
            raise ValueError(f"Node with id {id} already exists")
        node_id = id or self.next_id()
        node = self.nodes[node_id] = Node(node_id, node_data_str(node_id, data), data, metadata)
        return node

    def remove_node(self, node: Node) -> None:
        """Remove ``node`` and its edges."""
        self.nodes.pop(node.id)
        self.edges = [e for e in self.edges if node.id not in (e.source, e.target)]

    def add_edge(self, source: Node, target: Node, data: Any = None, conditional: bool = False) -> Edge:
        """Add an edge between two nodes of this graph (``ValueError`` naming
        a node that is not in it)."""
        for which, node in (("Source", source), ("Target", target)):
            if node.id not in self.nodes:
                raise ValueError(f"{which} node {node.id} not in graph")
        edge = Edge(source.id, target.id, data, conditional)
        self.edges.append(edge)
        return edge

    def extend(self, graph: "Graph", *, prefix: str = "") -> tuple[Optional[Node], Optional[Node]]:
        """Add ``graph``'s nodes and edges (ids prefixed ``"<prefix>:"`` unless
        all are generated) and return its first and last nodes; does not
        connect them."""
        if all(is_uuid(n) for n in graph.nodes):
            prefix = ""

        def prefixed(node_id: str) -> str:
            return f"{prefix}:{node_id}" if prefix else node_id

        self.nodes.update({prefixed(k): v.copy(id=prefixed(k)) for k, v in graph.nodes.items()})
        self.edges.extend(e.copy(source=prefixed(e.source), target=prefixed(e.target)) for e in graph.edges)
        first, last = graph.first_node(), graph.last_node()
        return (first.copy(id=prefixed(first.id)) if first else None,
                last.copy(id=prefixed(last.id)) if last else None)

    def reid(self) -> "Graph":
        """A copy whose generated ids are replaced by the node names (``_1``,
        ``_2``... added where names repeat)."""
        ids_by_name: dict[str, list[str]] = defaultdict(list)
        for node in self.nodes.values():
            ids_by_name[node.name].append(node.id)
        labels = {
            node_id: name if len(ids) == 1 else f"{name}_{i + 1}"
            for name, ids in ids_by_name.items() for i, node_id in enumerate(ids)
        }

        def new_id(node_id: str) -> str:
            return labels[node_id] if is_uuid(node_id) else node_id

        return Graph(
            nodes={new_id(k): n.copy(id=new_id(k)) for k, n in self.nodes.items()},
            edges=[e.copy(source=new_id(e.source), target=new_id(e.target)) for e in self.edges],
        )

    def first_node(self) -> Optional[Node]:
        """The one node no edge leads to (``None`` if there are none or several)."""
        return _first_node(self)

    def last_node(self) -> Optional[Node]:
        """The one node no edge leaves (``None`` if there are none or several)."""
        return _last_node(self)

    def trim_first_node(self) -> None:
        """Remove the first node if it has one edge out and another node would be first."""
        first = self.first_node()
        if first and _first_node(self, exclude=[first.id]) and len({e for e in self.edges if e.source == first.id}) == 1:
            self.remove_node(first)

    def trim_last_node(self) -> None:
        """Remove the last node if it has one edge in and another node would be last."""
        last = self.last_node()
        if last and _last_node(self, exclude=[last.id]) and len({e for e in self.edges if e.target == last.id}) == 1:
            self.remove_node(last)

    def draw_mermaid(self, *, with_styles: bool = True, curve_style: CurveStyle = CurveStyle.LINEAR,
                     node_colors: Optional[NodeStyles] = None, wrap_label_n_words: int = 9) -> str:
        """The graph in Mermaid's flowchart syntax, as LangChain's
        ``draw_mermaid`` (first and last nodes rounded and styled)."""
        from hookchain.runnables.graph_mermaid import draw_mermaid

        graph = self.reid()
        first, last = graph.first_node(), graph.last_node()
        return draw_mermaid(
            graph.nodes, graph.edges, first_node=first.id if first else None, last_node=last.id if last else None,
            with_styles=with_styles, curve_style=curve_style, node_styles=node_colors or NodeStyles(),
            wrap_label_n_words=wrap_label_n_words,
        )

    def draw_ascii(self) -> str:
        """The graph drawn with text characters, laid out by ``grandalf``.
        Raises ``ImportError`` naming the extra to install when it is missing."""
        from hookchain.runnables.graph_ascii import draw_ascii

        return draw_ascii({node.id: node.name for node in self.nodes.values()}, self.edges)

    def print_ascii(self) -> None:
        """Print ``draw_ascii()``."""
        print(self.draw_ascii())  # noqa: T201


def _first_node(graph: Graph, exclude: Sequence[str] = ()) -> Optional[Node]:
    targets = {e.target for e in graph.edges if e.source not in exclude}
    found = [n for n in graph.nodes.values() if n.id not in exclude and n.id not in targets]
    return found[0] if len(found) == 1 else None


def _last_node(graph: Graph, exclude: Sequence[str] = ()) -> Optional[Node]:
    sources = {e.source for e in graph.edges if e.target not in exclude}
    found = [n for n in graph.nodes.values() if n.id not in exclude and n.id not in sources]
    return found[0] if len(found) == 1 else None


# --------------------------------------------------------------------------- #
# Building a runnable's graph (Runnable.get_graph)
# --------------------------------------------------------------------------- #


@lru_cache(maxsize=256)
def _schema(name: str) -> type[BaseModel]:
    """The data of an input/output node: a field-less pydantic model named
    as LangChain's schema (``PromptInput``...)."""
    return create_model(name)


def _input_name(runnable: Runnable) -> str:
    from hookchain.prompts.base import BasePromptTemplate

    if isinstance(runnable, BasePromptTemplate):
        return "PromptInput"  # as LangChain's prompt templates
    get_input_schema = getattr(runnable, "get_input_schema", None)  # tools: their args schema
    if get_input_schema is not None:
        schema = get_input_schema()
        if isinstance(schema, type):
            return schema.__name__
    return runnable.get_name("Input")


def graph_of(runnable: Runnable, config: Optional[RunnableConfig] = None) -> Graph:
    """``runnable.get_graph(config)`` for the built-in compositions and any
    other runnable (input node → runnable node → output node)."""
    if isinstance(runnable, RunnableBinding):
        return runnable.bound.get_graph(merge_configs(runnable.config, config) if runnable.config else config)
    if isinstance(runnable, RunnableSequence):
        return _sequence_graph(runnable, config)
    if isinstance(runnable, RunnableParallel):
        return _parallel_graph(runnable, config)
    if isinstance(runnable, RunnableAssign):
        return _assign_graph(runnable, config)
    graph = Graph()
    input_node = graph.add_node(_schema(_input_name(runnable)))
    node = graph.add_node(runnable, metadata=config.get("metadata") if config else None)
    output_node = graph.add_node(_schema(runnable.get_name("Output")))
    graph.add_edge(input_node, node)
    graph.add_edge(node, output_node)
    return graph


def _sequence_graph(sequence: RunnableSequence, config: Optional[RunnableConfig]) -> Graph:
    # Each step's graph, chained: inner input/output nodes trimmed away.
    graph = Graph()
    for step in sequence.steps:
        previous_last = graph.last_node()
        step_graph = step.get_graph(config)
        if step is not sequence.first:
            step_graph.trim_first_node()
        if step is not sequence.last:
            step_graph.trim_last_node()
        step_first, _ = graph.extend(step_graph)
        if not step_first:
            raise ValueError(f"Runnable {step} has no first node")
        if previous_last:
            graph.add_edge(previous_last, step_first)
    return graph


def _parallel_graph(parallel: RunnableParallel, config: Optional[RunnableConfig]) -> Graph:
    # One input node fanning out to each branch's graph, joined in one output node.
    graph = Graph()
    input_node = graph.add_node(_schema(parallel.get_name("Input")))
    output_node = graph.add_node(_schema(parallel.get_name("Output")))
    for step in parallel.steps.values():
        step_graph = step.get_graph()  # without the config, as LangChain
        step_graph.trim_first_node()
        step_graph.trim_last_node()
        if not step_graph:
            graph.add_edge(input_node, output_node)
            continue
        first, last = graph.extend(step_graph)
        if not first or not last:
            raise ValueError(f"Runnable {step} has no {'first' if not first else 'last'} node")
        graph.add_edge(input_node, first)
        graph.add_edge(last, output_node)
    return graph


def _assign_graph(assign: RunnableAssign, config: Optional[RunnableConfig]) -> Graph:
    graph = assign.mapper.get_graph(config)
    first, last = graph.first_node(), graph.last_node()
    if first is not None and last is not None:
        passthrough = graph.add_node(_PASSTHROUGH)
        graph.add_edge(first, passthrough)
        graph.add_edge(passthrough, last)
    return graph


_PASSTHROUGH = RunnablePassthrough()
