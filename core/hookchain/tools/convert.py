"""The ``@tool`` decorator (as ``langchain_core.tools.convert``)."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Literal, Optional, Union

from hookchain.tools.base import BaseTool
from hookchain.tools.structured import StructuredTool


def tool(
    name_or_callable: Optional[Union[str, Callable[..., Any]]] = None,
    runnable: Optional[Callable[..., Any]] = None,
    *,
    description: Optional[str] = None,
    return_direct: bool = False,
    args_schema: Any = None,
    infer_schema: bool = True,
    response_format: Literal["content", "content_and_artifact"] = "content",
    parse_docstring: bool = False,
    error_on_invalid_docstring: bool = True,
) -> Any:
    """Make a function (sync or ``async def``) a ``StructuredTool``, as
    LangChain's ``@tool``: ``@tool``, ``@tool("name")``, ``@tool(parse_docstring=True)``,
    ``tool(func)`` or ``tool("name", func)``. The docstring is the description
    and the type hints the argument schema (see
    ``StructuredTool.from_function``). Raises ``ValueError`` for a function
    without docstring or description, ``TypeError`` for a first argument that is
    neither a name nor a function."""

    def make(name: Optional[str]) -> Callable[[Callable[..., Any]], BaseTool]:
        def build(fn: Callable[..., Any]) -> BaseTool:
            is_async = inspect.iscoroutinefunction(fn)
            return StructuredTool.from_function(
                None if is_async else fn, fn if is_async else None, name=name or fn.__name__,
                description=description, return_direct=return_direct, args_schema=args_schema,
                infer_schema=infer_schema, response_format=response_format, parse_docstring=parse_docstring,
                error_on_invalid_docstring=error_on_invalid_docstring,
            )
        return build

    if isinstance(name_or_callable, str):
        return make(name_or_callable)(runnable) if runnable is not None else make(name_or_callable)
    if name_or_callable is None:
        return make(None)
    if callable(name_or_callable):
        return make(None)(name_or_callable)
    raise TypeError(f"tool() takes a name (str) or a function, got {type(name_or_callable).__name__}")

