"""Tool binding and structured output for ``ChatOpenAI``, as langchain-openai's.

* ``tool_choice_to_openai``: ``bind_tools``' ``tool_choice`` (a tool name,
  ``"auto"``, ``"none"``, ``"required"``, ``"any"``, ``True``, a dict) as
  the request's ``tool_choice``;
* ``response_format``: a schema (pydantic model, ``TypedDict``, JSON schema,
  OpenAI function or ``response_format`` dict) as the request's
  ``{"type": "json_schema", "json_schema": {...}}``;
* ``structured_output_runnable``: the runnable ``with_structured_output``
  returns, for each of its three methods.
"""

from __future__ import annotations

import warnings
from operator import itemgetter
from typing import Any, Optional, Sequence

from hookchain.messages import AIMessage
from hookchain.output_parsers import JsonOutputKeyToolsParser, JsonOutputParser, PydanticOutputParser, PydanticToolsParser
from hookchain.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from hookchain.utils.function_calling import convert_to_openai_function, convert_to_openai_tool

from hookchain_openai.errors import OpenAIRefusalError

__all__ = ["tool_choice_to_openai", "response_format", "structured_output_runnable", "METHODS"]

#: The ``method`` values of ``with_structured_output``.
METHODS = ("json_schema", "function_calling", "json_mode")
_CHOICES = ("auto", "none", "required")


def _tool_name(tool: dict[str, Any]) -> Optional[str]:
    return (tool.get("function") or {}).get("name") if "function" in tool else tool.get("name")


def tool_choice_to_openai(tool_choice: Any, tools: Sequence[dict[str, Any]]) -> Any:
    """``tool_choice`` as OpenAI's request field, as langchain-openai's ``bind_tools``:
    a bound tool's name becomes ``{"type": "function", "function": {"name": ...}}``,
    ``"any"`` and ``True`` become ``"required"``, ``"auto"``/``"none"``/``"required"``
    and dicts are sent as they are.

    Raises ``ValueError`` for another string (langchain-openai sends it and the
    server rejects it) and for a type other than str, bool or dict.
    """
    if isinstance(tool_choice, bool):
        return "required"
    if isinstance(tool_choice, dict):
        return tool_choice
    if not isinstance(tool_choice, str):
        raise ValueError(f"Unrecognized tool_choice type. Expected str, bool or dict. Received: {tool_choice!r}")
    names = [name for name in map(_tool_name, tools) if name]
    if tool_choice in names:
        return {"type": "function", "function": {"name": tool_choice}}
    if tool_choice == "any":
        return "required"
    if tool_choice in _CHOICES:
        return tool_choice
    raise ValueError(
        f"tool_choice {tool_choice!r} is neither a bound tool ({', '.join(names) or 'no tools bound'}) nor one of "
        f"'auto', 'none', 'required', 'any'; pass one of those, or a dict such as "
        f"{{'type': 'function', 'function': {{'name': ...}}}}"
    )


def response_format(schema: Any, *, strict: Optional[bool] = None) -> dict[str, Any]:
    """``schema`` as an OpenAI ``response_format`` of type ``json_schema``, as
    langchain-openai's ``_convert_to_openai_response_format``: a
    ``response_format`` dict or a ``{"name", "schema"}`` dict is used as it is;
    anything ``convert_to_openai_function`` takes becomes ``{"name",
    "description", "schema", "strict"}`` (``strict`` defaults to the schema's
    own ``"strict"``, else ``False``).

    Raises ``ValueError`` when ``strict`` contradicts a ``strict`` already in the schema.
    """
    if isinstance(schema, dict) and schema.get("type") == "json_schema" and "json_schema" in schema:
        out = schema
    elif isinstance(schema, dict) and "name" in schema and "schema" in schema:
        out = {"type": "json_schema", "json_schema": schema}
    else:
        if strict is None:
            own = schema.get("strict") if isinstance(schema, dict) else None
            strict = own if isinstance(own, bool) else False
        function = convert_to_openai_function(schema, strict=strict)
        function["schema"] = function.pop("parameters")
        out = {"type": "json_schema", "json_schema": function}
    inner = out["json_schema"]
    if strict is not None and "strict" in inner and strict is not inner["strict"]:
        raise ValueError(
            f"the schema already has 'strict' set to {inner['strict']}, but with_structured_output got strict={strict}: "
            f"give 'strict' in one place only"
        )
    return out


def _pydantic_version(schema: Any) -> Optional[int]:
    """2 or 1 for a pydantic (v2 or v1) model class, else ``None``."""
    from pydantic import BaseModel
    from pydantic.v1 import BaseModel as BaseModelV1

    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return 2
    return 1 if isinstance(schema, type) and issubclass(schema, BaseModelV1) else None


def _json_schema_parser(schema: type) -> Any:
    """The parse step of ``method="json_schema"`` with a pydantic model, as
    langchain-openai's ``_oai_structured_outputs_parser``: the answer's JSON
    validated by ``schema``; ``None`` when the model called a tool instead;
    ``OpenAIRefusalError`` when it refused. Bad JSON or a failed validation is
    ``PydanticOutputParser``'s ``OutputParserException`` (langchain-openai: the
    SDK's own errors)."""
    parser = PydanticOutputParser(pydantic_object=schema)

    def parse(message: AIMessage) -> Any:
        refusal = message.additional_kwargs.get("refusal")
        if refusal:
            raise OpenAIRefusalError(f"the model refused to answer in the {schema.__name__} format: {refusal}")
        text = str(message.text)
        if message.tool_calls and not text.strip():
            return None
        return parser.parse(text)

    return parse


def structured_output_runnable(model: Any, schema: Any, *, method: str, include_raw: bool, strict: Optional[bool],
                               tools: Optional[list] = None, **kwargs: Any) -> Runnable:
    """The runnable of ``ChatOpenAI.with_structured_output`` (see there)."""
    if method not in METHODS:
        raise ValueError(f"Unrecognized method argument. Expected one of {', '.join(map(repr, METHODS))}. Received: {method!r}")
    if strict is not None and method == "json_mode":
        raise ValueError("Argument `strict` is not supported with `method`='json_mode'")
    if schema is None and method != "json_mode":
        raise ValueError("schema must be specified when method is not 'json_mode'. Received None.")
    pydantic_schema = _pydantic_version(schema) is not None
    if method == "json_schema" and _pydantic_version(schema) == 1:
        warnings.warn('Received a Pydantic BaseModel V1 schema. This is not supported by method="json_schema". '
                      'Overriding to method="function_calling".', stacklevel=3)
        method = "function_calling"
    name = str(getattr(model, "model", ""))
    if method == "json_schema" and (name.startswith(("gpt-3", "gpt-4-")) or name == "gpt-4"):
        warnings.warn(f"Cannot use method='json_schema' with model {model.model}: it does not support OpenAI's "
                      f"Structured Output API. Overriding to method='function_calling'.", stacklevel=3)
        method = "function_calling"
    if tools and method != "json_schema":
        raise ValueError(f"tools= works with method='json_schema' only, not {method!r}")

    # what on_chat_model_start reports as options["ls_structured_output_format"]
    # (hookchain's BaseChatModel takes it out of the request), as langchain-openai
    traced = {"kwargs": {"method": method} if method == "json_mode" else {"method": method, "strict": strict}, "schema": schema}
    parser: Any
    if method == "function_calling":
        tool = convert_to_openai_tool(schema)["function"]["name"]
        llm = model.bind_tools([schema], tool_choice=tool, parallel_tool_calls=False, strict=strict,
                               ls_structured_output_format=traced, **kwargs)
        parser = (PydanticToolsParser(tools=[schema], first_tool_only=True) if pydantic_schema
                  else JsonOutputKeyToolsParser(key_name=tool, first_tool_only=True))
    elif method == "json_mode":
        llm = model.bind(response_format={"type": "json_object"}, ls_structured_output_format=traced, **kwargs)
        parser = PydanticOutputParser(pydantic_object=schema) if pydantic_schema else JsonOutputParser()
    else:
        traced["schema"] = convert_to_openai_tool(schema)
        bind: dict[str, Any] = {"response_format": response_format(schema, strict=strict),
                                "ls_structured_output_format": traced, **kwargs}
        if tools:
            bind["tools"] = [convert_to_openai_tool(t, strict=strict) for t in tools]
        llm = model.bind(**bind)
        parser = RunnableLambda(_json_schema_parser(schema)) if pydantic_schema else JsonOutputParser()

    if not include_raw:
        return llm | parser
    parse = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
    no_parse = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=llm) | parse.with_fallbacks([no_parse], exception_key="parsing_error")
