"""Tool definitions in OpenAI's format (as ``langchain_core.utils.function_calling``).

``convert_to_openai_function`` turns a Python function, a pydantic model, a
``TypedDict``, a JSON schema (a dict with a top-level ``title``), a tool, or an
OpenAI / Anthropic / Bedrock function dict into ``{"name", "description",
"parameters"}``; ``convert_to_openai_tool`` wraps it as ``{"type": "function",
"function": ...}``. The JSON schemas have their ``$ref``s inlined and their
``title`` keys removed (a property named ``title`` stays), as LangChain's.
"""

from __future__ import annotations

import copy
import inspect
from typing import Annotated, Any, Callable, Optional, get_args, get_origin, get_type_hints

from pydantic import BaseModel
from typing_extensions import is_typeddict

__all__ = ["convert_to_openai_function", "convert_to_openai_tool", "convert_to_json_schema"]

#: OpenAI tool types passed through unchanged by ``convert_to_openai_tool`` (as LangChain).
_OPENAI_TOOL_TYPES = frozenset((
    "function", "file_search", "computer", "computer_use_preview", "code_interpreter", "mcp", "image_generation",
    "web_search_preview", "web_search", "tool_search", "apply_patch", "namespace",
))


def _resolve(ref: str, root: dict[str, Any]) -> Any:
    if not ref.startswith("#"):
        raise ValueError(f"JSON schema $ref {ref!r} must be a fragment starting with '#'")
    node: Any = root
    for part in ref.split("/")[1:]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(f"JSON schema reference {ref!r} not found")
    return node


def _inline_refs(node: Any, root: dict[str, Any], active: frozenset[str] = frozenset()) -> Any:
    """``node`` with every ``{"$ref": ...}`` replaced by what it points to (merged
    with the keys beside it); a recursive reference is left as it is."""
    if isinstance(node, list):
        return [_inline_refs(v, root, active) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    out = {k: _inline_refs(v, root, active) for k, v in node.items() if k != "$defs" and not (k == "$ref" and isinstance(ref, str))}
    if not isinstance(ref, str):
        return out
    if ref in active:
        return {"$ref": ref, **out}
    target = _inline_refs(copy.deepcopy(_resolve(ref, root)), root, active | {ref})
    return {**target, **out} if isinstance(target, dict) else target


def _drop_titles(schema: dict[str, Any], parent: str = "") -> dict[str, Any]:
    out = {}
    for k, v in schema.items():
        if k == "title" and not (isinstance(v, dict) and parent == "properties"):
            continue
        out[k] = _drop_titles(v, k) if isinstance(v, dict) else v
    return out


def _from_json_schema(schema: dict[str, Any], name: Optional[str] = None, description: Optional[str] = None) -> dict[str, Any]:
    schema = _inline_refs(schema, schema)
    schema.pop("definitions", None)
    title = schema.pop("title", "")
    default_description = schema.pop("description", "")
    return {"name": name or title, "description": description or default_description, "parameters": _drop_titles(schema)}


def _from_model(model: Any, name: Optional[str] = None, description: Optional[str] = None) -> dict[str, Any]:
    schema = model.model_json_schema() if hasattr(model, "model_json_schema") else model.schema()  # pydantic 2 or pydantic.v1
    return _from_json_schema(schema, name, description)


def _typed_dict_model(type_: Any, seen: dict[Any, Any], depth: int = 0) -> Any:
    """``type_`` with every ``TypedDict`` in it turned into a ``pydantic.v1``
    model (as LangChain, whose schemas for TypedDicts are pydantic 1's:
    ``Optional[int]`` is ``{"type": "integer"}``): fields from its hints
    (``Annotated[T, default, "description"]``), the class description and
    ``Args:`` descriptions from its Google-style docstring."""
    from pydantic.v1 import Field as FieldV1
    from pydantic.v1 import create_model as create_model_v1

    from hookchain.tools.base import _parse_google_docstring

    if type_ in seen or depth >= 25:
        return seen.get(type_, type_)
    if is_typeddict(type_):
        hints = get_type_hints(type_, include_extras=True)
        description, arg_descriptions = _parse_google_docstring(inspect.getdoc(type_), list(hints), error_on_invalid=False)
        fields: dict[str, Any] = {}
        for arg, hint in hints.items():
            extras: dict[str, Any] = {"default": ...}
            if get_origin(hint) is Annotated:
                hint, *meta = get_args(hint)
                extras = dict(zip(("default", "description"), meta))
                if extras.get("description") is not None and not isinstance(extras["description"], str):
                    raise ValueError(f"Invalid annotation for field {arg} of {type_.__name__}: the third argument to Annotated must be a string description")
            if arg_descriptions.get(arg):
                extras["description"] = arg_descriptions[arg]
            fields[arg] = (_typed_dict_model(hint, seen, depth + 1), FieldV1(**extras))
        model = create_model_v1(type_.__name__, **fields)  # type: ignore[call-overload]
        model.__doc__ = description
        seen[type_] = model
        return model
    origin, args = get_origin(type_), get_args(type_)
    if origin is not None and args and origin is not Annotated:
        converted = tuple(_typed_dict_model(a, seen, depth + 1) for a in args)
        if converted != args:
            return type_.copy_with(converted) if hasattr(type_, "copy_with") else origin[converted]
    return type_


def _from_tool(tool: Any) -> dict[str, Any]:
    schema = tool.tool_call_schema
    if isinstance(schema, dict):
        return _from_json_schema(schema, tool.name, tool.description)
    return _from_model(schema, tool.name, tool.description)


def _from_function(function: Callable[..., Any]) -> dict[str, Any]:
    from hookchain.tools.base import create_schema_from_function

    model = create_schema_from_function(function.__name__, function, filter_args=[], parse_docstring=True,
                                        error_on_invalid_docstring=False, include_injected=False)
    return _from_model(model, function.__name__, model.__doc__)


def _strict(schema: Any) -> Any:
    """OpenAI's strict mode: every object lists all its properties as required
    and forbids others (``additionalProperties: false``), at every level."""
    if not isinstance(schema, dict):
        return schema
    properties = schema.get("properties")
    if isinstance(properties, dict) and properties:
        schema["required"] = list(properties)
    if "required" in schema or ("properties" in schema and not schema["properties"]) or "additionalProperties" in schema:
        schema["additionalProperties"] = False
    for key in ("anyOf", "allOf"):
        for sub in schema.get(key, ()):
            _strict(sub)
    for sub in (schema.get("properties") or {}).values():
        _strict(sub)
    if "items" in schema:
        _strict(schema["items"])
    for key in ("$defs", "definitions"):
        if isinstance(schema.get(key), dict):
            for sub in schema[key].values():
                _strict(sub)
    return schema


def convert_to_openai_function(function: Any, *, strict: Optional[bool] = None) -> dict[str, Any]:
    """``function`` as an OpenAI function description ``{"name", "description",
    "parameters"}`` (as LangChain's ``convert_to_openai_function``).

    ``function`` is a dict (OpenAI function, Anthropic ``{"name",
    "input_schema"}``, Bedrock ``{"toolSpec"}``, or a JSON schema with a
    top-level ``title``, used as the name), a pydantic model class, a
    ``TypedDict``, a ``BaseTool`` or a Python function (type hints and a
    Google-style docstring). ``strict`` (when not ``None``) is added as
    ``"strict"``; ``True`` also makes every object schema strict.

    Raises ``ValueError`` for anything else (a JSON schema without ``title``
    says so) and when ``strict`` contradicts the dict's own ``"strict"``.
    """
    from hookchain.tools.base import BaseTool

    if strict and isinstance(function, dict):
        function = copy.deepcopy(function)
    if isinstance(function, dict) and "name" in function and "input_schema" in function:
        out = {"name": function["name"], "parameters": function["input_schema"]}
        if "description" in function:
            out["description"] = function["description"]
    elif isinstance(function, dict) and "toolSpec" in function:
        spec = function["toolSpec"]
        out = {"name": spec["name"], "parameters": spec["inputSchema"]["json"]}
        if "description" in spec:
            out["description"] = spec["description"]
    elif isinstance(function, dict) and "name" in function:
        out = {k: v for k, v in function.items() if k in ("name", "description", "parameters", "strict")}
    elif isinstance(function, dict) and "title" in function:
        rest = dict(function)
        out = {"name": rest.pop("title")}
        if "description" in rest:
            out["description"] = rest.pop("description")
        if rest and "properties" in rest:
            out["parameters"] = rest
    elif isinstance(function, type) and issubclass(function, BaseModel):
        out = _from_model(function)
    elif is_typeddict(function):
        out = _from_model(_typed_dict_model(function, {}))
    elif isinstance(function, BaseTool):
        out = _from_tool(function)
    elif callable(function):
        out = _from_function(function)
    elif isinstance(function, dict) and ("type" in function or "properties" in function):
        raise ValueError(f"Unsupported function\n\n{function}\n\nTo use a JSON schema as a function, it must have a top-level 'title' key to be used as the function name.")
    else:
        raise ValueError(
            f"Unsupported function\n\n{function}\n\nFunctions must be passed in as Dict, pydantic.BaseModel, or Callable. "
            "If they're a dict they must either be in OpenAI function format or valid JSON schema with top-level 'title' key.")
    if strict is not None:
        if "strict" in out and out["strict"] != strict:
            raise ValueError(
                f"Tool/function already has a 'strict' key with value {out['strict']} which is different from the "
                f"explicit `strict` arg received strict={strict}.")
        out["strict"] = strict
        if strict:
            out["parameters"] = _strict(out["parameters"])
    return out


def convert_to_openai_tool(tool: Any, *, strict: Optional[bool] = None) -> dict[str, Any]:
    """``{"type": "function", "function": convert_to_openai_function(tool)}``
    (as LangChain's ``convert_to_openai_tool``); a dict that already is an
    OpenAI tool of a known type (``"function"``, ``"web_search"``...) is
    returned unchanged. Raises as ``convert_to_openai_function``."""
    if isinstance(tool, dict) and (tool.get("type") in _OPENAI_TOOL_TYPES or (tool.get("type") or "").startswith("web_search_preview")):
        return tool
    return {"type": "function", "function": convert_to_openai_function(tool, strict=strict)}


def convert_to_json_schema(schema: Any, *, strict: Optional[bool] = None) -> dict[str, Any]:
    """``schema`` (anything ``convert_to_openai_tool`` takes) as one JSON
    schema: the function's ``parameters`` with its name as ``title`` and its
    ``description`` (as LangChain's ``convert_to_json_schema``). Raises
    ``ValueError`` when ``schema`` is an OpenAI tool of another type than
    ``"function"`` (it has no parameters), else as ``convert_to_openai_function``."""
    function = convert_to_openai_tool(schema, strict=strict).get("function")
    if not isinstance(function, dict) or "name" not in function:
        raise ValueError(f"cannot make a JSON schema of {schema!r}: it is not a function tool")
    out: dict[str, Any] = {"title": function["name"]}
    if "description" in function:
        out["description"] = function["description"]
    out.update(function.get("parameters", {}))
    return out
