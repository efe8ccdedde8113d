"""Tool-call output parsers (as ``langchain_core.output_parsers.openai_tools``).

They read the tool calls of a chat model's ``AIMessage``: its ``tool_calls``,
or else OpenAI-style ``additional_kwargs["tool_calls"]``. Each parsed call is
``{"type": <tool name>, "args": {...}}`` (plus ``"id"`` with ``return_id``;
the name under ``"type"``, as LangChain, for backwards compatibility). While
streaming ``AIMessageChunk``s they re-parse the tool-call chunks received so
far (partial JSON arguments read as far as they go) and yield the calls each
time they grow.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Annotated, Any, Optional

import pydantic
from pydantic import SkipValidation

from hookchain.errors import OutputParserException
from hookchain.messages import AIMessage
from hookchain.messages.tool import InvalidToolCall, invalid_tool_call, tool_call
from hookchain.output_parsers.transform import BaseCumulativeTransformOutputParser
from hookchain.outputs import ChatGeneration, Generation
from hookchain.utils.json import parse_partial_json

__all__ = [
    "parse_tool_call", "make_invalid_tool_call", "parse_tool_calls",
    "JsonOutputToolsParser", "JsonOutputKeyToolsParser", "PydanticToolsParser",
]

logger = logging.getLogger(__name__)

#: Logged (as LangChain) when a tool call fails validation in a response cut
#: short by ``max_tokens``.
_MAX_TOKENS_ERROR = (
    "Output parser received a `max_tokens` stop reason. The output is likely incomplete: "
    "increase `max_tokens` or shorten your prompt."
)


def parse_tool_call(
    raw_tool_call: dict[str, Any], *, partial: bool = False, strict: bool = False, return_id: bool = True,
) -> Optional[dict[str, Any]]:
    """One OpenAI tool call (``{"id", "function": {"name", "arguments"}}``,
    ``arguments`` a JSON string) as ``{"name", "args"}``, as LangChain's.

    Args:
        raw_tool_call: the raw call; without a ``"function"`` key, ``None``
            is returned.
        partial: read truncated JSON arguments as far as they go; ``None`` is
            returned when they cannot be read (or are ``None``).
        strict: passed to ``json.loads``: ``False`` allows control characters
            (raw newlines) inside strings.
        return_id: return a ``ToolCall`` (``{"name", "args", "id", "type":
            "tool_call"}``) instead of ``{"name", "args"}``.

    Raises:
        OutputParserException: (not ``partial``) the arguments are not JSON;
            empty or ``None`` arguments read as ``{}``.
    """
    if "function" not in raw_tool_call:
        return None
    function = raw_tool_call["function"]
    arguments = function["arguments"]
    if partial:
        try:
            args = parse_partial_json(arguments, strict=strict)
        except (json.JSONDecodeError, TypeError):  # TypeError: arguments is None
            return None
    elif not arguments:
        args = {}
    else:
        try:
            args = json.loads(arguments, strict=strict)
        except json.JSONDecodeError as e:
            raise OutputParserException(
                f"Function {function['name']} arguments:\n\n{arguments}\n\nare not valid JSON. "
                f"Received JSONDecodeError {e}"
            ) from e
    name, args = function["name"] or "", args or {}
    if return_id:
        return tool_call(name=name, args=args, id=raw_tool_call.get("id"))
    return {"name": name, "args": args}


def make_invalid_tool_call(raw_tool_call: dict[str, Any], error_msg: Optional[str]) -> InvalidToolCall:
    """An ``InvalidToolCall`` for the OpenAI tool call ``raw_tool_call``
    (its arguments kept as the raw string), with ``error=error_msg``."""
    function = raw_tool_call["function"]
    return invalid_tool_call(name=function["name"], args=function["arguments"], id=raw_tool_call.get("id"), error=error_msg)


def parse_tool_calls(
    raw_tool_calls: list[dict[str, Any]], *, partial: bool = False, strict: bool = False, return_id: bool = True,
) -> list[dict[str, Any]]:
    """``parse_tool_call`` on each of ``raw_tool_calls``, skipping those it
    returns ``None`` for.

    Raises:
        OutputParserException: one or more calls have arguments that are not
            JSON; the message joins each call's message with a blank line.
    """
    parsed, errors = [], []
    for raw in raw_tool_calls:
        try:
            call = parse_tool_call(raw, partial=partial, strict=strict, return_id=return_id)
        except OutputParserException as e:
            errors.append(str(e))
        else:
            if call:
                parsed.append(call)
    if errors:
        raise OutputParserException("\n\n".join(errors))
    return parsed


class JsonOutputToolsParser(BaseCumulativeTransformOutputParser[Any]):
    """The tool calls of a chat model's message, as a list of
    ``{"type": <tool name>, "args": dict}`` (as LangChain's).

    Fields:
        strict: for OpenAI-style ``additional_kwargs`` arguments, parse JSON
            strictly (no raw control characters in strings).
        return_id: add each call's ``"id"``.
        first_tool_only: return only the first call (``None`` when there is
            none) instead of the list.

    Raises ``OutputParserException`` when given a text (not chat) generation,
    or when OpenAI-style arguments are not JSON.
    """

    strict: bool = False
    return_id: bool = False
    first_tool_only: bool = False

    def _tool_calls(self, result: list[Generation], partial: bool) -> Optional[list[dict[str, Any]]]:
        """The parsed calls of ``result[0]``, ``None`` when its message has
        neither ``tool_calls`` nor ``additional_kwargs["tool_calls"]``."""
        generation = result[0]
        if not isinstance(generation, ChatGeneration):
            raise OutputParserException(f"{type(self).__name__} can only be used with a chat generation.")
        message = generation.message
        if isinstance(message, AIMessage) and message.tool_calls:
            calls = [dict(tc) for tc in message.tool_calls]
            if not self.return_id:
                for call in calls:
                    call.pop("id")
        else:
            raw = message.additional_kwargs.get("tool_calls")
            if raw is None:
                return None
            calls = parse_tool_calls(copy.deepcopy(raw), partial=partial, strict=self.strict, return_id=self.return_id)
        for call in calls:
            call["type"] = call.pop("name")
        return calls

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        """The calls of ``result[0]`` (a ``ChatGeneration``); with
        ``partial=True`` truncated JSON arguments are read as far as they go."""
        calls = self._tool_calls(result, partial)
        if calls is None:  # no tool calls at all: [] even with first_tool_only, as LangChain's
            return []
        if self.first_tool_only:
            return calls[0] if calls else None
        return calls

    def parse(self, text: str) -> Any:
        """Not supported: tool calls are read from a message, not a text."""
        raise NotImplementedError(f"{type(self).__name__} parses chat messages: use invoke/parse_result")


class JsonOutputKeyToolsParser(JsonOutputToolsParser):
    """The calls of one tool (``key_name``), as LangChain's: a list of their
    ``args`` dicts (with ``return_id``, of whole ``{"type", "args", "id"}``
    calls); with ``first_tool_only``, the first such one or ``None``."""

    key_name: str

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        calls = [c for c in self._tool_calls(result, partial) or [] if c["type"] == self.key_name]
        if not self.return_id:
            calls = [c["args"] for c in calls]
        if self.first_tool_only:
            return calls[0] if calls else None
        return calls


class PydanticToolsParser(JsonOutputToolsParser):
    """The tool calls as instances of ``tools`` (pydantic v2 or v1 model
    classes, matched by their ``model_config["title"]`` or class name), as
    LangChain's. While streaming, an instance is yielded only once the
    partial arguments validate.

    Raises:
        OutputParserException: a call names none of ``tools``.
        pydantic.ValidationError: a call's arguments do not validate (as
            LangChain, not wrapped; logged with a hint when the response
            stopped on ``max_tokens``).
        ValueError: a call's arguments are not a dict.
    """

    tools: Annotated[list[type], SkipValidation()]

    def _models(self) -> dict[str, type]:
        """``tools`` by name; a pydantic.v1 model wins a clash, as LangChain's."""
        from pydantic.v1 import BaseModel as BaseModelV1

        v2 = {t.model_config.get("title") or t.__name__: t for t in self.tools if issubclass(t, pydantic.BaseModel)}
        return {**v2, **{t.__name__: t for t in self.tools if issubclass(t, BaseModelV1)}}

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        calls = super().parse_result(result, partial=partial)
        if not calls:
            return None if self.first_tool_only else []
        if self.first_tool_only:
            calls = [calls]
        models, objects = self._models(), []
        for call in calls:
            if not isinstance(call["args"], dict):
                if partial:
                    continue
                raise ValueError(f"Tool arguments must be specified as a dict, received: {call['args']}")
            try:
                model = models[call["type"]]
            except KeyError:
                available = ", ".join(models) or "<no_tools>"
                raise OutputParserException(
                    f"Unknown tool type: {call['type']!r}. Available tools: {available}"
                ) from None
            try:
                objects.append(model(**call["args"]))
            except (pydantic.ValidationError, ValueError):  # v1's ValidationError is a ValueError
                if partial:
                    continue
                if any(isinstance(g, ChatGeneration) and g.message.response_metadata.get("stop_reason") == "max_tokens"
                       for g in result):
                    logger.exception(_MAX_TOKENS_ERROR)
                raise
        if self.first_tool_only:
            return objects[0] if objects else None
        return objects
