"""AI messages, their chunks and token usage (as ``langchain_core.messages.ai``).

As LangChain's validators, building an ``AIMessage``:

* gives every tool call dict its ``type`` (``"tool_call"``, ``"invalid_tool_call"``,
  ``"tool_call_chunk"``); a dict with keys other than those of ``tool_call()``
  & co raises ``InvalidMessageError``;
* without any tool calls given, reads OpenAI-style ``additional_kwargs["tool_calls"]``
  into ``tool_calls``/``invalid_tool_calls`` (chunks: ``tool_call_chunks``);
* for a chunk, derives ``tool_calls``/``invalid_tool_calls`` from
  ``tool_call_chunks`` (partial JSON ``args`` parsed as far as they go), or
  ``tool_call_chunks`` from ``tool_calls`` when it has none.
"""

from __future__ import annotations

import json
import operator
from typing import Callable, Optional, Sequence

from typing_extensions import NotRequired, TypedDict

from hookchain.errors import InvalidMessageError
from hookchain.messages._merge import dict_int_op, merge_dicts, merge_lists
from hookchain.messages.base import BaseMessage, BaseMessageChunk, _first_set, _validate_when, merge_content
from hookchain.messages.tool import (
    default_tool_chunk_parser, default_tool_parser, invalid_tool_call, tool_call, tool_call_chunk,
)
from hookchain.utils.json import parse_partial_json

__all__ = [
    "AIMessage", "AIMessageChunk", "UsageMetadata", "InputTokenDetails", "OutputTokenDetails",
    "add_ai_message_chunks", "add_usage", "subtract_usage",
]


class InputTokenDetails(TypedDict, total=False):
    """Breakdown of input tokens: ``audio``, ``cache_creation``, ``cache_read``."""

    audio: int
    cache_creation: int
    cache_read: int


class OutputTokenDetails(TypedDict, total=False):
    """Breakdown of output tokens: ``audio``, ``reasoning``."""

    audio: int
    reasoning: int


class UsageMetadata(TypedDict):
    """Token counts of one model call (ints)."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_token_details: NotRequired[InputTokenDetails]
    output_token_details: NotRequired[OutputTokenDetails]


_OPT_STR = (str, type(None))
#: The value types LangChain's typed dicts accept, per factory and key.
_SHAPES: dict[Callable[..., dict], dict[str, tuple[type, ...]]] = {
    tool_call: {"name": (str,), "args": (dict,), "id": _OPT_STR},
    invalid_tool_call: {"name": _OPT_STR, "args": _OPT_STR, "id": _OPT_STR, "error": _OPT_STR},
    tool_call_chunk: {"name": _OPT_STR, "args": _OPT_STR, "id": _OPT_STR, "index": (int, type(None))},
}


def _typed(items: list, factory: Callable[..., dict], drop: tuple[str, ...], where: str) -> list:
    # As LangChain's validators: rebuilt with their factory (so they get their
    # ``type``), values of the wrong type rejected.
    out = []
    for i, item in enumerate(items):
        try:
            typed = factory(**{k: v for k, v in item.items() if k not in drop})
        except TypeError as e:
            raise InvalidMessageError(f"{where}[{i}] = {item!r} is not a valid entry: {e}") from None
        for key, kinds in _SHAPES[factory].items():
            if not isinstance(typed[key], kinds):
                raise InvalidMessageError(
                    f"{where}[{i}][{key!r}] must be {' or '.join(k.__name__ for k in kinds)}, got {typed[key]!r}"
                )
        out.append(typed)
    return out


class AIMessage(BaseMessage):
    """A message from the model (``type="ai"``): ``tool_calls`` (list of
    ``ToolCall``), ``invalid_tool_calls`` and ``usage_metadata``
    (``UsageMetadata`` or ``None``)."""

    __slots__ = ("tool_calls", "invalid_tool_calls", "usage_metadata")
    type = "ai"
    _fields = BaseMessage._fields + (("tool_calls", list), ("invalid_tool_calls", list), ("usage_metadata", None))

    @_validate_when("tool_calls or invalid_tool_calls or additional_kwargs")
    def _validate(self) -> None:
        if self.tool_calls or self.invalid_tool_calls or self.additional_kwargs:
            self._normalise_tool_calls()

    def _normalise_tool_calls(self) -> None:
        name = type(self).__name__
        chunks = getattr(self, "tool_call_chunks", None)
        if not (self.tool_calls or self.invalid_tool_calls or chunks):
            raw = self.additional_kwargs.get("tool_calls") if isinstance(self.additional_kwargs, dict) else None
            if raw:
                try:  # as LangChain: provider data that does not fit is left alone
                    if chunks is not None:
                        self.tool_call_chunks = chunks = default_tool_chunk_parser(raw)
                    else:
                        self.tool_calls, self.invalid_tool_calls = default_tool_parser(raw)
                except Exception:  # noqa: BLE001
                    pass
        if self.tool_calls:
            self.tool_calls = _typed(self.tool_calls, tool_call, ("type", "extras"), f"{name}.tool_calls")
        if self.invalid_tool_calls:
            self.invalid_tool_calls = _typed(self.invalid_tool_calls, invalid_tool_call, ("type",), f"{name}.invalid_tool_calls")
        if chunks:
            self.tool_call_chunks = _typed(chunks, tool_call_chunk, ("type",), f"{name}.tool_call_chunks")

    def pretty_repr(self, html: bool = False) -> str:
        """The base pretty repr plus the tool calls and invalid tool calls (as LangChain's)."""
        lines = []
        for title, calls in (("Tool Calls:", self.tool_calls), ("Invalid Tool Calls:", self.invalid_tool_calls)):
            if calls:
                lines.append(title)
            for tc in calls:
                lines += [f"  {tc.get('name', 'Tool')} ({tc.get('id')})", f" Call ID: {tc.get('id')}"]
                if tc.get("error"):
                    lines.append(f"  Error: {tc.get('error')}")
                lines.append("  Args:")
                args = tc.get("args")
                if isinstance(args, str):
                    lines.append(f"    {args}")
                elif isinstance(args, dict):
                    lines += [f"    {k}: {v}" for k, v in args.items()]
        return (super().pretty_repr(html=html).strip() + "\n" + "\n".join(lines)).strip()


class AIMessageChunk(AIMessage, BaseMessageChunk):
    """A streamed piece of an AI message: ``tool_call_chunks`` (merged by
    ``index``) and ``chunk_position`` (``"last"`` on a stream's final chunk, or
    ``None``). ``tool_calls``/``invalid_tool_calls`` are derived from the chunks."""

    __slots__ = ("tool_call_chunks", "chunk_position")
    type = "AIMessageChunk"
    _fields = AIMessage._fields + (("tool_call_chunks", list), ("chunk_position", None))

    @_validate_when("tool_calls or invalid_tool_calls or additional_kwargs or tool_call_chunks or chunk_position is not None")
    def _validate(self) -> None:
        if self.tool_calls or self.invalid_tool_calls or self.additional_kwargs or self.tool_call_chunks:
            self._normalise_tool_calls()
            self._init_tool_calls()
        if (self.chunk_position == "last" and isinstance(self.content, list)
                and self.response_metadata.get("output_version") == "v1"):
            self._finish_v1_blocks()

    def _init_tool_calls(self) -> None:
        if not self.tool_call_chunks:
            self.tool_call_chunks = [
                tool_call_chunk(name=tc["name"], args=json.dumps(tc["args"]), id=tc["id"], index=None)
                for tc in self.tool_calls
            ] + [
                tool_call_chunk(name=tc["name"], args=tc["args"], id=tc["id"], index=None)
                for tc in self.invalid_tool_calls
            ]
            return
        calls, invalid = [], []
        for chunk in self.tool_call_chunks:
            try:
                args = parse_partial_json(chunk["args"]) if chunk["args"] else {}
            except Exception:  # noqa: BLE001 - any unparsable text is an invalid call
                args = None
            if isinstance(args, dict):
                calls.append(tool_call(name=chunk["name"] or "", args=args, id=chunk["id"]))
            else:
                invalid.append(invalid_tool_call(name=chunk["name"], args=chunk["args"], id=chunk["id"], error=None))
        self.tool_calls, self.invalid_tool_calls = calls, invalid

    def _finish_v1_blocks(self) -> None:
        # As LangChain for a final v1 chunk: tool-call chunk blocks become the
        # parsed tool calls; server tool-call blocks get their JSON args parsed.
        by_id = {tc.get("id"): tc for tc in self.tool_calls if "id" in tc} if self.tool_call_chunks else {}
        for i, block in enumerate(self.content):
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "tool_call_chunk" and block.get("id") in by_id and block.get("id"):
                tc = by_id[block["id"]]
                new = {"type": "tool_call", "name": tc["name"], "args": tc["args"], "id": tc.get("id")}
                if "extras" in block:
                    new["extras"] = block["extras"]
                self.content[i] = new
        for block in self.content:
            if isinstance(block, dict) and block.get("type") in ("server_tool_call", "server_tool_call_chunk"):
                text = block.get("args") or "{}"
                if isinstance(text, str):
                    try:
                        args = json.loads(text)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(args, dict):
                        block["type"], block["args"] = "server_tool_call", args

    def _merge(self, others: Sequence[BaseMessageChunk]) -> "AIMessageChunk":
        return add_ai_message_chunks(self, *others)  # type: ignore[arg-type]


def _chunk_id(ids: Sequence[Optional[str]]) -> Optional[str]:
    # As LangChain: a provider's id wins; then a framework run id ("lc_run-",
    # hookchain's "run-"); then other "lc_" ids; the first of a rank.
    best, best_rank = None, -1
    for id_ in dict.fromkeys(ids):  # a stream's chunks mostly share one id
        if not id_:
            continue
        if not id_.startswith(("lc_", "run-")):
            return id_
        rank = 1 if id_.startswith(("lc_run-", "run-")) else 0
        if rank > best_rank:
            best, best_rank = id_, rank
    return best


_get = operator.attrgetter
_CONTENT, _KWARGS, _META, _TOOL_CHUNKS = _get("content"), _get("additional_kwargs"), _get("response_metadata"), _get("tool_call_chunks")
_USAGE, _ID, _NAME, _POSITION = _get("usage_metadata"), _get("id"), _get("name"), _get("chunk_position")


def add_ai_message_chunks(left: AIMessageChunk, *others: AIMessageChunk) -> AIMessageChunk:
    """The sum of AI message chunks (as LangChain's): contents, dicts and
    ``tool_call_chunks`` merged, usage added up, the best id (see above), the
    first ``name``, ``chunk_position="last"`` if any chunk has it."""
    # One C-level pass (map) per field, empty dicts and lists (most chunks')
    # left out: a stream's merge reads every chunk, so this is paid per token.
    raw = merge_lists(left.tool_call_chunks, *filter(None, map(_TOOL_CHUNKS, others)))
    usage = left.usage_metadata
    usages = list(map(_USAGE, others))
    if usage or usages.count(None) != len(usages):
        for u in usages:
            usage = add_usage(usage, u)
    else:
        usage = None
    return type(left)(
        content=merge_content(left.content, *map(_CONTENT, others)),
        additional_kwargs=merge_dicts(left.additional_kwargs, *filter(None, map(_KWARGS, others))),
        tool_call_chunks=[
            tool_call_chunk(name=c.get("name"), args=c.get("args"), index=c.get("index"), id=c.get("id"))
            for c in raw or ()
        ],
        response_metadata=merge_dicts(left.response_metadata, *filter(None, map(_META, others))),
        usage_metadata=usage,
        id=_chunk_id([left.id, *map(_ID, others)]),
        name=_first_set(left.name, list(map(_NAME, others))),
        chunk_position="last" if left.chunk_position == "last" or "last" in map(_POSITION, others) else None,
    )


def _usage_op(left: Optional[UsageMetadata], right: Optional[UsageMetadata], op: Callable[[int, int], int]) -> UsageMetadata:
    if not (left or right):
        return {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    if not (left and right):
        return left or right  # type: ignore[return-value]
    return dict_int_op(left, right, op)  # type: ignore[arg-type,return-value]


def add_usage(left: Optional[UsageMetadata], right: Optional[UsageMetadata]) -> UsageMetadata:
    """Two usages added key by key, nested details too (as LangChain's); one
    missing gives the other as is, both missing all-zero counts. Raises
    ``ValueError`` for a value that is neither int nor dict."""
    return _usage_op(left, right, operator.add)


def subtract_usage(left: Optional[UsageMetadata], right: Optional[UsageMetadata]) -> UsageMetadata:
    """``left`` minus ``right`` key by key, floored at 0 (as LangChain's); one
    missing gives the other as is."""
    return _usage_op(left, right, lambda a, b: max(a - b, 0))
