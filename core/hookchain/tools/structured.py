"""``StructuredTool``: a tool made from a function (as ``langchain_core.tools.structured``)."""

from __future__ import annotations

import textwrap
from typing import Any, Awaitable, Callable, Literal, Optional

from pydantic import BaseModel

from hookchain.runnables.config import RunnableConfig
from hookchain.tools.base import FILTERED_ARGS, BaseTool, _extra_params, create_schema_from_function


class StructuredTool(BaseTool):
    """A tool that calls ``func`` (sync) or ``coroutine`` (async) with its
    validated arguments. ``ainvoke`` without ``coroutine`` runs ``func`` in a
    thread; ``invoke`` without ``func`` raises ``NotImplementedError``."""

    func: Optional[Callable[..., Any]] = None
    coroutine: Optional[Callable[..., Awaitable[Any]]] = None

    def _call_kwargs(self, fn: Callable[..., Any], run_manager: Any, config: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        _, config_param, takes_callbacks = _extra_params(fn)
        if config_param:
            kwargs[config_param] = config
        if takes_callbacks and run_manager is not None:
            kwargs["callbacks"] = run_manager.get_child()
        return kwargs

    def _run(self, *args: Any, config: RunnableConfig, run_manager: Any = None, **kwargs: Any) -> Any:
        if self.func is None:
            raise NotImplementedError("StructuredTool does not support sync invocation.")
        return self.func(*args, **self._call_kwargs(self.func, run_manager, config, kwargs))

    async def _arun(self, *args: Any, config: RunnableConfig, run_manager: Any = None, **kwargs: Any) -> Any:
        if self.coroutine is None:
            return await super()._arun(*args, config=config, run_manager=run_manager, **kwargs)
        return await self.coroutine(*args, **self._call_kwargs(self.coroutine, run_manager, config, kwargs))

    @classmethod
    def from_function(
        cls,
        func: Optional[Callable[..., Any]] = None,
        coroutine: Optional[Callable[..., Awaitable[Any]]] = None,
        name: Optional[str] = None,
        description: Optional[str] = None,
        return_direct: bool = False,
        args_schema: Any = None,
        infer_schema: bool = True,
        *,
        response_format: Literal["content", "content_and_artifact"] = "content",
        parse_docstring: bool = False,
        error_on_invalid_docstring: bool = False,
        **kwargs: Any,
    ) -> "StructuredTool":
        """A tool from ``func`` and/or ``coroutine`` (as LangChain's
        ``StructuredTool.from_function``): ``name`` defaults to the function's
        name, ``args_schema`` to a model built from its signature (see
        ``create_schema_from_function``), ``description`` to its docstring
        (or, with ``parse_docstring``, the docstring's part before ``Args:``).

        Raises ``ValueError`` when neither function is given or there is no
        description; ``TypeError`` for an ``args_schema`` that is neither a
        pydantic model nor a dict."""
        source = func if func is not None else coroutine
        if source is None:
            raise ValueError("Function and/or coroutine must be provided")
        name = name or source.__name__
        if args_schema is None and infer_schema:
            args_schema = create_schema_from_function(
                name, source, parse_docstring=parse_docstring, error_on_invalid_docstring=error_on_invalid_docstring,
                filter_args=[*FILTERED_ARGS, *filter(None, [_extra_params(source)[1]])],
            )
        text = description
        if text is None and not parse_docstring:
            text = source.__doc__ or None
        if text is None and args_schema is not None:
            if isinstance(args_schema, type) and issubclass(args_schema, BaseModel):
                text = args_schema.__doc__ or None
                if text and "A base class for creating Pydantic models" in text:
                    text = ""
            elif isinstance(args_schema, dict):
                text = args_schema.get("description")
            else:
                raise TypeError(f"Invalid args_schema for tool {name!r}: expected a pydantic model class or a dict, got {args_schema!r}")
        if text is None:
            raise ValueError(f"Function {name!r} must have a docstring if description not provided.")
        if description is None:
            text = textwrap.dedent(text).strip()
        return cls(name=name, func=func, coroutine=coroutine, args_schema=args_schema, description=text.strip(),
                   return_direct=return_direct, response_format=response_format, **kwargs)
