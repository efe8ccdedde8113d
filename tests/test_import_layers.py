"""The core has no import cycles, counting imports inside functions too (only
``if TYPE_CHECKING:`` blocks are left out): each module's imports form a
layered graph (see ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import hookchain

ROOT = Path(hookchain.__file__).parent
PACKAGE = "hookchain"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The hookchain modules ``tree`` imports (``from a.b import c``: ``a.b.c``
    if it is a module, else ``a.b``)."""
    found: set[str] = set()
    base = module if is_package else module.rpartition(".")[0]
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                anchor = base.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                source = ".".join(anchor + ([source] if source else []))
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if sub in modules else source)
        stack.extend(ast.iter_child_nodes(node))
    return {m for m in found if m in modules and m != module}


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in ROOT.rglob("*.py")}
    return {
        name: _imports(ast.parse(path.read_text(encoding="utf-8")), name, path.name == "__init__.py", set(files))
        for name, path in files.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_function_level_imports():
    graph = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert cycles(graph) == [["a", "b"]]
    tree = ast.parse("def f():\n    from hookchain import config\nif TYPE_CHECKING:\n    import hookchain.cli\n")
    assert _imports(tree, "hookchain.x", False, {"hookchain", "hookchain.config", "hookchain.cli"}) == {"hookchain.config"}


def test_the_core_has_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles in hookchain (see ARCHITECTURE.md for what may import what):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for dep in graph[todo.pop()] - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


def test_the_run_time_layers_do_not_reach_config_or_plugin_discovery():
    graph = import_graph()
    above = {"hookchain.config", "hookchain.plugins", "hookchain.plugin_index", "hookchain.cli"}
    for module in graph:
        if module.startswith(("hookchain.callbacks", "hookchain.runnables", "hookchain.messages",
                              "hookchain.outputs", "hookchain.prompts", "hookchain.model_hooks", "hookchain.language_models")):
            assert not _reachable(graph, module) & above, f"{module} imports {sorted(_reachable(graph, module) & above)}"
