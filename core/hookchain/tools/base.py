"""``BaseTool``: a runnable that validates its arguments and reports tool runs
(as ``langchain_core.tools.base``).

A tool is invoked with a dict of arguments, a string (single-argument tools) or
a model's tool call (``{"type": "tool_call", "id", "name", "args"}``). It fires
``on_tool_start`` / ``on_tool_end`` / ``on_tool_error`` with LangChain's
arguments, and returns the tool's value, or a ``ToolMessage`` when given a tool
call.
"""

from __future__ import annotations

import inspect
import json
import textwrap
import weakref
from typing import Annotated, Any, Callable, Literal, Optional, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from hookchain.callbacks.manager import AsyncCallbackManager, CallbackManager
from hookchain.messages.tool import ToolMessage, ToolOutputMixin
from hookchain.runnables.base import RunnableSerializable
from hookchain.runnables.config import (
    RunnableConfig,
    ensure_config,
    patch_config,
    run_in_executor,
    set_child_config,
    var_child_runnable_config,
)

#: Parameters a tool function may take that are never tool arguments (as LangChain's ``FILTERED_ARGS``).
FILTERED_ARGS = ("run_manager", "callbacks")

#: Content block types a ``ToolMessage`` takes as they are (as LangChain's ``TOOL_MESSAGE_BLOCK_TYPES``).
_BLOCK_TYPES = frozenset(("text", "image_url", "image", "json", "search_result", "custom_tool_call_output", "document", "file"))

_INJECTED_CALL_ID_ERROR = (
    "When tool includes an InjectedToolCallId argument, tool must always be invoked with a full model ToolCall "
    "of the form: {'args': {...}, 'name': '...', 'type': 'tool_call', 'tool_call_id': '...'}"
)


class ToolException(Exception):  # noqa: N818 - LangChain's name
    """An error a tool raises to report a failure the model may see: with
    ``handle_tool_error`` set, its message (or the handler's answer) becomes the
    tool's output instead of an error (as LangChain's ``ToolException``)."""


class InjectedToolArg:
    """Marks a parameter (``Annotated[T, InjectedToolArg]``) that the caller
    supplies at run time and the model never sees: it is validated but left out
    of ``tool_call_schema`` and of ``on_tool_start``'s inputs."""


class InjectedToolCallId(InjectedToolArg):
    """Marks a parameter that receives the id of the tool call being run
    (``Annotated[str, InjectedToolCallId]``); the tool must then be invoked
    with a tool call, else ``ValueError``."""


def _is_injected_marker(meta: Any) -> bool:
    return (isinstance(meta, type) and issubclass(meta, InjectedToolArg)) or isinstance(meta, InjectedToolArg)


def _injected(annotation: Any) -> bool:
    """Whether ``annotation`` is ``Annotated[..., InjectedToolArg]`` (a subclass or an instance of it)."""
    return get_origin(annotation) is Annotated and any(_is_injected_marker(m) for m in get_args(annotation)[1:])


# --------------------------------------------------------------------------- #
# Schemas from functions
# --------------------------------------------------------------------------- #


def _parse_google_docstring(docstring: Optional[str], args: list[str], *, error_on_invalid: bool) -> tuple[str, dict[str, str]]:
    """``(description, {arg: description})`` from a Google-style docstring:
    the blocks before ``Args:`` (stopping at ``Returns:``/``Example:``) are the
    description; each ``name (type): text`` line of ``Args:`` starts an
    argument, deeper-indented lines continue it. Raises ``ValueError`` when
    ``error_on_invalid`` and the function has arguments but no ``Args:`` block."""
    blocks = docstring.split("\n\n") if docstring else []
    if error_on_invalid and (not blocks or (
        [a for a in args if a not in (*FILTERED_ARGS, "runtime", "return")]
        and (len(blocks) < 2 or not any(b.startswith("Args:") for b in blocks[1:]))
    )):
        raise ValueError("Found invalid Google-Style docstring.")
    description: list[str] = []
    args_block = None
    past_description = False
    for block in blocks:
        if block.startswith("Args:"):
            args_block = block
            break
        if block.startswith(("Returns:", "Example:")):
            past_description = True  # Args: may still follow
        elif not past_description:
            description.append(block)
    found: dict[str, str] = {}
    arg = None
    indent = None
    for line in (args_block or "").split("\n")[1:]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if indent is None and ":" in line:
            indent = depth
        if arg is not None and (indent is not None and depth > indent or ":" not in line):
            found[arg] += " " + line.strip()
        elif ":" in line:
            head, text = line.split(":", 1)
            arg = head.strip()
            name, _, annotation = arg.partition(" ")
            if annotation.startswith("(") and annotation.endswith(")"):
                arg = name
            found[arg] = text.strip()
    return " ".join(description).strip(), found


def _annotation_description(annotation: Any) -> Optional[str]:
    # Annotated[int, "the first number"]: the first string is its description, as LangChain.
    if get_origin(annotation) is Annotated:
        for meta in get_args(annotation)[1:]:
            if isinstance(meta, str):
                return meta
    return None


def create_schema_from_function(
    model_name: str,
    func: Callable[..., Any],
    *,
    filter_args: Optional[list[str]] = None,
    parse_docstring: bool = False,
    error_on_invalid_docstring: bool = False,
    include_injected: bool = True,
) -> type[BaseModel]:
    """A pydantic model named ``model_name`` with one field per parameter of
    ``func`` (type hint, default; description from ``Annotated[T, "text"]`` or,
    with ``parse_docstring``, the Google-style ``Args:`` block), as LangChain's
    ``create_schema_from_function``. Leaves out ``filter_args`` (default
    ``run_manager``, ``callbacks``, a method's ``self``/``cls``), ``*args`` /
    ``**kwargs`` and, unless ``include_injected``, injected parameters.
    The model's docstring is the function's description when parsed."""
    signature = inspect.signature(func)
    try:
        hints = get_type_hints(func, include_extras=True)
    except Exception:  # noqa: BLE001 - unresolvable forward references: use the raw annotations
        hints = {}
    params = list(signature.parameters.values())
    skip = set(filter_args if filter_args is not None else FILTERED_ARGS)
    if params and params[0].name in ("self", "cls") and "." in func.__qualname__:
        skip.add(params[0].name)
    if parse_docstring:
        description, arg_descriptions = _parse_google_docstring(
            inspect.getdoc(func), list(hints), error_on_invalid=error_on_invalid_docstring)
        for arg in arg_descriptions:
            if arg not in hints:
                raise ValueError(f"Arg {arg} in docstring not found in function signature.")
    else:
        description, arg_descriptions = inspect.getdoc(func) or "", {}
    fields: dict[str, Any] = {}
    for p in params:
        if p.name in skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        annotation = hints.get(p.name, p.annotation)
        if annotation is inspect.Parameter.empty:
            annotation = Any
        if not include_injected and _injected(annotation):
            continue
        text = arg_descriptions.get(p.name) or _annotation_description(annotation)
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (annotation, Field(default, description=text) if text else default)
    model = create_model(model_name, __config__=ConfigDict(arbitrary_types_allowed=True), **fields)  # type: ignore[call-overload]
    model.__doc__ = description
    return model


def _is_injected_field(field: Any) -> bool:
    return _injected(field.annotation) or any(_is_injected_marker(m) for m in field.metadata)


def _subset_without_injected(schema: type[BaseModel], name: Optional[str] = None, description: Optional[str] = None) -> type[BaseModel]:
    """``schema`` without its injected fields (the model-facing schema), named
    ``name`` and documented by ``description`` (default: ``schema``'s)."""
    kept = {n: (f.annotation, f) for n, f in schema.model_fields.items() if not _is_injected_field(f)}
    model = create_model(name or schema.__name__, __config__=ConfigDict(arbitrary_types_allowed=True), **kept)  # type: ignore[call-overload]
    model.__doc__ = textwrap.dedent(description or schema.__doc__ or "")
    return model


_SCHEMA_FACTS: "weakref.WeakKeyDictionary[type, tuple[frozenset[str], tuple[str, ...]]]" = weakref.WeakKeyDictionary()


def _schema_facts(schema: Any) -> tuple[frozenset[str], tuple[str, ...]]:
    """(injected fields, ``InjectedToolCallId`` fields) of a pydantic
    ``args_schema``, computed once per class (not per run)."""
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return frozenset(), ()
    found = _SCHEMA_FACTS.get(schema)
    if found is None:
        fields = schema.model_fields
        found = _SCHEMA_FACTS[schema] = (
            frozenset(n for n, f in fields.items() if _is_injected_field(f)),
            tuple(n for n, f in fields.items() if any(m is InjectedToolCallId or isinstance(m, InjectedToolCallId) for m in f.metadata)),
        )
    return found


# --------------------------------------------------------------------------- #
# Output and error handling
# --------------------------------------------------------------------------- #


def _handled(error: Exception, flag: Any, default: str) -> Any:
    """The output for a handled error: ``default`` for ``True`` (a
    ``ToolException``'s message if it has one), the string, or ``flag(error)``."""
    if isinstance(flag, bool):
        return (error.args[0] if error.args else default) if isinstance(error, ToolException) else default
    if isinstance(flag, str):
        return flag
    if callable(flag):
        return flag(error)
    raise ValueError(f"Got unexpected type of handler: expected bool, str or callable, received {flag!r}")


def _is_content(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, str) or (isinstance(v, dict) and v.get("type") in _BLOCK_TYPES) for v in value)
    return False


def _format_output(content: Any, artifact: Any, tool_call_id: Optional[str], name: str, status: str) -> Any:
    """The tool's value, or a ``ToolMessage`` when run for a tool call
    (non-message content JSON-encoded, else ``str``), as LangChain."""
    if isinstance(content, ToolOutputMixin) or tool_call_id is None:
        return content
    if isinstance(content, list) and content and all(isinstance(c, ToolOutputMixin) for c in content):
        return content
    if _is_content(content):
        content = content if isinstance(content, str) else list(content)
    else:
        try:
            content = json.dumps(content, ensure_ascii=False)
        except Exception:  # noqa: BLE001 - not JSON: its str, as LangChain
            content = str(content)
    return ToolMessage(content, artifact=artifact, tool_call_id=tool_call_id, name=name, status=status)


def _is_tool_call(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "tool_call"


_SIGNATURES: "weakref.WeakKeyDictionary[Any, tuple[bool, Optional[str], bool]]" = weakref.WeakKeyDictionary()


def _extra_params(func: Callable[..., Any]) -> tuple[bool, Optional[str], bool]:
    """(takes ``run_manager``, name of its ``RunnableConfig`` parameter, takes
    ``callbacks``), cached per function: no signature inspection per run."""
    key = getattr(func, "__func__", func)
    found = _SIGNATURES.get(key)
    if found is None:
        params = inspect.signature(func).parameters
        try:
            hints = get_type_hints(func)
        except Exception:  # noqa: BLE001 - unresolvable names: match the annotation's text
            hints = {}
        config = next((n for n, p in params.items()
                       if hints.get(n, p.annotation) is RunnableConfig or p.annotation == "RunnableConfig"), None)
        found = _SIGNATURES[key] = ("run_manager" in params, config, "callbacks" in params)
    return found


# --------------------------------------------------------------------------- #
# BaseTool
# --------------------------------------------------------------------------- #


class BaseTool(RunnableSerializable[Union[str, dict, Any], Any]):
    """Base class of tools (as LangChain's ``BaseTool``): implement ``_run``
    (and optionally ``_arun``); set ``name``, ``description`` and
    ``args_schema`` (a pydantic model or a JSON-schema dict).

    Fields: ``return_direct`` (an agent returns the output as is),
    ``handle_tool_error`` / ``handle_validation_error`` (``False``: raise;
    ``True``: a default message; a str; or a callable taking the error),
    ``response_format`` (``"content"``, or ``"content_and_artifact"`` for a
    ``_run`` returning ``(content, artifact)``), ``callbacks``, ``tags``,
    ``metadata``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    description: str
    args_schema: Optional[Any] = Field(default=None)
    return_direct: bool = False
    verbose: bool = False
    callbacks: Optional[Any] = Field(default=None, exclude=True)
    tags: Optional[list[str]] = None
    metadata: Optional[dict[str, Any]] = None
    handle_tool_error: Optional[Union[bool, str, Callable[[ToolException], Any]]] = False
    handle_validation_error: Optional[Union[bool, str, Callable[[ValidationError], Any]]] = False
    response_format: Literal["content", "content_and_artifact"] = "content"
    extras: Optional[dict[str, Any]] = None

    # -- schemas ----------------------------------------------------------- #
    @property
    def is_single_input(self) -> bool:
        """Whether the tool takes exactly one argument."""
        return len(self.args) == 1

    @property
    def args(self) -> dict[str, Any]:
        """The JSON-schema ``properties`` of the arguments (``{"tool_input":
        {"type": "string"}}`` for a tool without schema)."""
        schema = self.args_schema
        if isinstance(schema, dict):
            return schema.get("properties", {})
        if schema is None:
            return {"tool_input": {"type": "string"}}
        return self.tool_call_schema.model_json_schema()["properties"]

    @property
    def tool_call_schema(self) -> Any:
        """The schema a model sees: ``args_schema`` without injected arguments."""
        schema = self.args_schema
        if isinstance(schema, dict):
            return {**schema, "description": self.description} if self.description else schema
        return _subset_without_injected(self.get_input_schema(), self.name, self.description)

    def get_input_schema(self, config: Optional[RunnableConfig] = None) -> Any:
        """``args_schema``, or a model built from ``_run``'s signature."""
        if self.args_schema is not None:
            return self.args_schema
        return create_schema_from_function(self.name, self._run)

    # -- what a subclass provides ----------------------------------------- #
    def _run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the tool; may take ``run_manager`` and a ``config: RunnableConfig``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _run")

    async def _arun(self, *args: Any, **kwargs: Any) -> Any:
        """Async ``_run``; by default ``_run`` in a thread (with the sync run manager)."""
        if kwargs.get("run_manager") is not None:
            kwargs["run_manager"] = kwargs["run_manager"].get_sync()
        return await run_in_executor(None, self._run, *args, **kwargs)

    # -- running ----------------------------------------------------------- #
    def _parse_input(self, tool_input: Union[str, dict[str, Any]], tool_call_id: Optional[str]) -> Union[str, dict[str, Any]]:
        """Validate ``tool_input`` against ``args_schema``: a string checks the
        first field; a dict returns the validated values of the fields given
        plus those with defaults (and injected ones as given). Raises pydantic's
        ``ValidationError`` (naming the argument) or ``ValueError``."""
        schema = self.args_schema
        if isinstance(tool_input, str):
            if isinstance(schema, dict):
                raise ValueError("String tool inputs are not allowed when using tools with JSON schema args_schema.")
            if schema is not None and schema.model_fields:
                schema.model_validate({next(iter(schema.model_fields)): tool_input})
            return tool_input
        if schema is None or isinstance(schema, dict):
            return tool_input
        for key in _schema_facts(schema)[1]:
            if tool_call_id is None:
                raise ValueError(_INJECTED_CALL_ID_ERROR)
            tool_input[key] = tool_call_id
        result = schema.model_validate(tool_input)
        given = result.model_fields_set
        return {
            k: getattr(result, k) for k, f in schema.model_fields.items()
            if k in tool_input or k in given or not f.is_required()
        }

    def _to_args_and_kwargs(self, tool_input: Union[str, dict[str, Any]], tool_call_id: Optional[str]) -> tuple[tuple, dict[str, Any]]:
        schema = self.args_schema
        if isinstance(schema, type) and issubclass(schema, BaseModel) and not schema.model_fields:
            return (), {}
        parsed = self._parse_input(tool_input, tool_call_id)
        return ((parsed,), {}) if isinstance(parsed, str) else ((), dict(parsed))

    def _start(self, tool_input: Any) -> tuple[str, Optional[dict[str, Any]]]:
        """``(input_str, inputs)`` for ``on_tool_start``: injected arguments left out."""
        if not isinstance(tool_input, dict):
            return (tool_input if isinstance(tool_input, str) else str(tool_input)), None
        hidden = _schema_facts(self.args_schema)[0]
        inputs = {k: v for k, v in tool_input.items() if k not in FILTERED_ARGS and k not in hidden}
        return str(inputs), inputs

    def _finish(self, response: Any, error: Optional[BaseException], tool_call_id: Optional[str]) -> tuple[Any, Optional[BaseException]]:
        """(output, error to raise) from what ``_run`` returned or raised."""
        content = artifact = None
        status = "success"
        if error is None:
            if self.response_format == "content_and_artifact":
                if isinstance(response, tuple) and len(response) == 2:
                    content, artifact = response
                else:
                    error = ValueError(
                        "Since response_format='content_and_artifact' a two-tuple of the message content and raw "
                        f"tool output is expected. Instead, generated response is of type: {type(response)}.")
            else:
                content = response
        elif isinstance(error, ValidationError) and self.handle_validation_error:
            content, status, error = _handled(error, self.handle_validation_error, "Tool input validation error"), "error", None
        elif isinstance(error, ToolException) and self.handle_tool_error:
            content, status, error = _handled(error, self.handle_tool_error, "Tool execution error"), "error", None
        if error is not None:
            return None, error
        return _format_output(content, artifact, tool_call_id, self.name, status), None

    def _run_kwargs(self, method: Callable[..., Any], rm: Any, config: RunnableConfig, kwargs: dict[str, Any]) -> dict[str, Any]:
        takes_rm, config_param, _ = _extra_params(method)
        if takes_rm:
            kwargs["run_manager"] = rm
        if config_param:
            kwargs[config_param] = config
        return kwargs

    def run(self, tool_input: Union[str, dict[str, Any]], verbose: Optional[bool] = None, start_color: Optional[str] = "green",
            color: Optional[str] = "green", callbacks: Any = None, *, tags: Optional[list[str]] = None,
            metadata: Optional[dict[str, Any]] = None, run_name: Optional[str] = None, run_id: Any = None,
            config: Optional[RunnableConfig] = None, tool_call_id: Optional[str] = None, **kwargs: Any) -> Any:
        """Run the tool on ``tool_input`` as one tool run (as LangChain's ``BaseTool.run``).

        Fires ``on_tool_start(serialized={"name", "description"}, input_str,
        inputs=..., tool_call_id=..., color=..., name=run_name)``, then
        ``on_tool_end(output, color=..., name=tool name)`` or
        ``on_tool_error(error, tool_call_id=...)`` and re-raises. Returns the
        output, a ``ToolMessage`` when ``tool_call_id`` is given."""
        cm = CallbackManager.configure(callbacks, self.callbacks, bool(verbose) or self.verbose, tags, self.tags, metadata, self.metadata)
        input_str, inputs = self._start(tool_input)
        rm = cm.on_tool_start({"name": self.name, "description": self.description}, input_str, color=start_color,
                              name=run_name, run_id=run_id, inputs=inputs, tool_call_id=tool_call_id, **kwargs)
        response = error = None
        child = patch_config(config, callbacks=rm.get_child())
        token = set_child_config(child)
        try:
            args, run_kwargs = self._to_args_and_kwargs(tool_input, tool_call_id)
            response = self._run(*args, **self._run_kwargs(self._run, rm, config or ensure_config(), run_kwargs))
        except (Exception, KeyboardInterrupt) as e:
            error = e
        finally:
            var_child_runnable_config.reset(token)
        output, error = self._finish(response, error, tool_call_id)
        if error is not None:
            rm.on_tool_error(error, tool_call_id=tool_call_id)
            raise error
        rm.on_tool_end(output, color=color, name=self.name, **kwargs)
        return output

    async def arun(self, tool_input: Union[str, dict[str, Any]], verbose: Optional[bool] = None, start_color: Optional[str] = "green",
                   color: Optional[str] = "green", callbacks: Any = None, *, tags: Optional[list[str]] = None,
                   metadata: Optional[dict[str, Any]] = None, run_name: Optional[str] = None, run_id: Any = None,
                   config: Optional[RunnableConfig] = None, tool_call_id: Optional[str] = None, **kwargs: Any) -> Any:
        """Async ``run``: ``_arun`` (``_run`` in a thread unless overridden)."""
        cm = AsyncCallbackManager.configure(callbacks, self.callbacks, bool(verbose) or self.verbose, tags, self.tags, metadata, self.metadata)
        input_str, inputs = self._start(tool_input)
        rm = await cm.on_tool_start({"name": self.name, "description": self.description}, input_str, color=start_color,
                                    name=run_name, run_id=run_id, inputs=inputs, tool_call_id=tool_call_id, **kwargs)
        response = error = None
        child = patch_config(config, callbacks=rm.get_child())
        token = set_child_config(child)
        try:
            args, run_kwargs = self._to_args_and_kwargs(tool_input, tool_call_id)
            method = self._arun if type(self)._arun is not BaseTool._arun else self._run
            run_kwargs = self._run_kwargs(method, rm, config or ensure_config(), run_kwargs)
            response = await self._arun(*args, **run_kwargs)
        except (Exception, KeyboardInterrupt) as e:
            error = e
        finally:
            var_child_runnable_config.reset(token)
        output, error = self._finish(response, error, tool_call_id)
        if error is not None:
            await rm.on_tool_error(error, tool_call_id=tool_call_id)
            raise error
        await rm.on_tool_end(output, color=color, name=self.name, **kwargs)
        return output

    def _prep(self, input: Any, config: Optional[RunnableConfig], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        config = ensure_config(config)
        if _is_tool_call(input):
            tool_input, tool_call_id = dict(input["args"]), input["id"]
        else:
            tool_input, tool_call_id = input, None
        return tool_input, {
            "callbacks": config.get("callbacks"), "tags": config.get("tags"), "metadata": config.get("metadata"),
            "run_name": config.get("run_name"), "run_id": config.pop("run_id", None), "config": config,
            "tool_call_id": tool_call_id, **kwargs,
        }

    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        """Run the tool on ``input`` (a dict of arguments, a string, or a tool
        call dict, which makes the output a ``ToolMessage``); see ``run``."""
        tool_input, run_kwargs = self._prep(input, config, kwargs)
        return self.run(tool_input, **run_kwargs)

    async def ainvoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""
        tool_input, run_kwargs = self._prep(input, config, kwargs)
        return await self.arun(tool_input, **run_kwargs)
