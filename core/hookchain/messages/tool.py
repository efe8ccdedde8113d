"""Tool messages and tool-call dicts (as ``langchain_core.messages.tool``).

``tool_call()``, ``tool_call_chunk()`` and ``invalid_tool_call()`` build the
typed dicts an ``AIMessage`` carries (each with its ``type`` key);
``default_tool_parser`` / ``default_tool_chunk_parser`` read OpenAI-style
``additional_kwargs["tool_calls"]`` as LangChain's do.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Optional, Sequence

from typing_extensions import NotRequired, TypedDict

from hookchain.messages._merge import merge_obj
from hookchain.messages.base import _MISSING, BaseMessage, BaseMessageChunk, Content

__all__ = [
    "ToolMessage", "ToolMessageChunk", "ToolCall", "ToolCallChunk", "InvalidToolCall", "ToolOutputMixin",
    "tool_call", "tool_call_chunk", "invalid_tool_call", "default_tool_parser", "default_tool_chunk_parser",
]


class ToolCall(TypedDict):
    """A parsed request to call a tool: ``name``, ``args`` (dict), ``id``."""

    name: str
    args: dict[str, Any]
    id: Optional[str]
    type: NotRequired[Literal["tool_call"]]


class ToolCallChunk(TypedDict):
    """A streamed piece of a tool call: ``args`` is a JSON text fragment;
    chunks with the same ``index`` merge."""

    name: Optional[str]
    args: Optional[str]
    id: Optional[str]
    index: Optional[int]
    type: NotRequired[Literal["tool_call_chunk"]]


class InvalidToolCall(TypedDict):
    """A tool call whose ``args`` text did not parse, with an optional ``error``."""

    type: Literal["invalid_tool_call"]
    id: Optional[str]
    name: Optional[str]
    args: Optional[str]
    error: Optional[str]
    index: NotRequired[Any]
    extras: NotRequired[dict[str, Any]]


def tool_call(*, name: str, args: dict[str, Any], id: Optional[str]) -> ToolCall:
    """``{"name", "args", "id", "type": "tool_call"}`` (as LangChain's)."""
    return {"name": name, "args": args, "id": id, "type": "tool_call"}


def tool_call_chunk(
    *, name: Optional[str] = None, args: Optional[str] = None, id: Optional[str] = None, index: Optional[int] = None,
) -> ToolCallChunk:
    """``{"name", "args", "id", "index", "type": "tool_call_chunk"}`` (as LangChain's)."""
    return {"name": name, "args": args, "id": id, "index": index, "type": "tool_call_chunk"}


def invalid_tool_call(
    *, name: Optional[str] = None, args: Optional[str] = None, id: Optional[str] = None, error: Optional[str] = None,
) -> InvalidToolCall:
    """``{"name", "args", "id", "error", "type": "invalid_tool_call"}`` (as LangChain's)."""
    return {"name": name, "args": args, "id": id, "error": error, "type": "invalid_tool_call"}


def default_tool_parser(raw_tool_calls: list[dict[str, Any]]) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """OpenAI ``tool_calls`` (``{"id", "function": {"name", "arguments"}}``) as
    ``(tool_calls, invalid_tool_calls)``: arguments that are not JSON make an
    invalid call; entries without ``function`` are skipped (as LangChain's)."""
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for raw in raw_tool_calls:
        if "function" not in raw:
            continue
        name = raw["function"]["name"]
        try:
            args = json.loads(raw["function"]["arguments"])
        except json.JSONDecodeError:
            invalid.append(invalid_tool_call(name=name, args=raw["function"]["arguments"], id=raw.get("id")))
        else:
            calls.append(tool_call(name=name or "", args=args or {}, id=raw.get("id")))
    return calls, invalid


def default_tool_chunk_parser(raw_tool_calls: list[dict[str, Any]]) -> list[ToolCallChunk]:
    """Streamed OpenAI ``tool_calls`` deltas as tool-call chunks (as LangChain's)."""
    chunks = []
    for raw in raw_tool_calls:
        function = raw.get("function")
        chunks.append(tool_call_chunk(
            name=function["name"] if function is not None else None,
            args=function["arguments"] if function is not None else None,
            id=raw.get("id"), index=raw.get("index"),
        ))
    return chunks


class ToolOutputMixin:
    """Marks an object a tool may return as is, instead of wrapped in a ``ToolMessage``."""


class ToolMessage(BaseMessage, ToolOutputMixin):
    """The result of a tool call sent back to the model: ``tool_call_id``
    (required; a UUID or number is turned into a str), ``artifact`` (anything,
    not sent to the model) and ``status`` (``"success"`` or ``"error"``). As
    LangChain, content that is not a str or list is turned into a str."""

    __slots__ = ("tool_call_id", "artifact", "status")
    type = "tool"
    _fields = BaseMessage._fields + (("tool_call_id", _MISSING), ("artifact", None), ("status", "success"))

    def _coerce_content(self, content: Any) -> Content:
        if isinstance(content, tuple):
            content = list(content)
        if isinstance(content, list):
            return [b if isinstance(b, (str, dict)) else str(b) for b in content]
        return content if isinstance(content, str) else str(content)

    def _validate(self) -> None:
        if not isinstance(self.tool_call_id, str) and isinstance(self.tool_call_id, (_uuid().UUID, int, float)):
            self.tool_call_id = str(self.tool_call_id)


def _uuid() -> Any:
    import uuid  # only for a tool_call_id that is not a str: `import hookchain.messages` skips it

    return uuid


class ToolMessageChunk(ToolMessage, BaseMessageChunk):
    """A streamed piece of a ``ToolMessage``; chunks of different
    ``tool_call_id`` do not add up (``ValueError``, as LangChain). Artifacts
    merge as LangChain's ``merge_obj``; an ``"error"`` status wins."""

    __slots__ = ()
    type = "ToolMessageChunk"

    def _check_addable(self, other: BaseMessageChunk) -> None:
        super()._check_addable(other)
        if other.tool_call_id != self.tool_call_id:  # type: ignore[attr-defined]
            raise ValueError(
                f"cannot add ToolMessageChunks of different tool_call_id "
                f"({self.tool_call_id!r} and {other.tool_call_id!r})"  # type: ignore[attr-defined]
            )

    def _merged_fields(self, others: Sequence[BaseMessageChunk]) -> dict[str, Any]:
        artifact = self.artifact
        for o in others:
            artifact = merge_obj(artifact, o.artifact)  # type: ignore[attr-defined]
        statuses = {self.status, *(o.status for o in others)}  # type: ignore[attr-defined]
        return {
            **super()._merged_fields(others), "tool_call_id": self.tool_call_id, "artifact": artifact,
            "status": "error" if "error" in statuses else "success",
        }
