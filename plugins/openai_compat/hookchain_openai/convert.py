"""Mapping between hookchain messages and the OpenAI chat-completions wire format.

Pure functions on plain dicts (the JSON the server sends or receives), so the
mapping is tested without a server:

* ``messages_to_openai``: ``SystemMessage``/``HumanMessage``/``AIMessage``
  (with tool calls)/``ToolMessage``/``FunctionMessage``/``ChatMessage`` to
  ``{"role": ..., "content": ...}`` dicts;
* ``result_from_completion``: a ``chat.completion`` body to a ``ChatResult``;
* ``StreamState.convert``: each ``chat.completion.chunk`` to a
  ``ChatGenerationChunk`` (content, ``tool_call_chunks``, and on the last
  chunks ``response_metadata`` and ``usage_metadata``);
* ``usage_to_metadata``: ``usage`` to ``{"input_tokens", "output_tokens", "total_tokens"}``.

Malformed input raises ``MalformedResponseError`` describing what is wrong.
"""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence

from hookchain.messages import (
    AIMessage, AIMessageChunk, BaseMessage, ChatMessage, FunctionMessage, HumanMessage,
    SystemMessage, ToolMessage,
)
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from hookchain_openai.errors import MalformedResponseError

__all__ = [
    "message_to_openai", "messages_to_openai", "result_from_completion", "usage_to_metadata",
    "StreamState", "parse_tool_call",
]


# --------------------------------------------------------------------------- #
# Request: messages -> OpenAI dicts
# --------------------------------------------------------------------------- #


def _block_to_openai(block: Any) -> Any:
    if isinstance(block, str):
        return {"type": "text", "text": block}
    if not isinstance(block, dict):
        raise TypeError(f"a content block must be a str or a dict, got {type(block).__name__}")
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": block.get("text", "")}
    if kind == "image" and (block.get("url") or block.get("base64") or block.get("data")):
        # LangChain's standard image block -> OpenAI's image_url part.
        url = block.get("url")
        if not url:
            mime = block.get("mime_type", "image/png")
            url = f"data:{mime};base64,{block.get('base64') or block.get('data')}"
        return {"type": "image_url", "image_url": {"url": url}}
    return block  # image_url, input_audio, ... are already OpenAI parts


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(
        b if isinstance(b, str) else str(b.get("text", ""))
        for b in content
        if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
    )


def _tool_call_to_openai(call: dict[str, Any], *, invalid: bool = False) -> dict[str, Any]:
    args = call.get("args")
    if not invalid or not isinstance(args, str):
        args = json.dumps(args if args is not None else {}, ensure_ascii=False)
    return {"id": call.get("id"), "type": "function", "function": {"name": call.get("name") or "", "arguments": args}}


def message_to_openai(message: BaseMessage) -> dict[str, Any]:
    """One message as an OpenAI chat message dict.

    Raises ``TypeError`` for a message type the API has no role for.
    """
    out: dict[str, Any]
    if isinstance(message, ToolMessage):
        content = message.content if isinstance(message.content, str) else _text(message.content)
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": content}
    if isinstance(message, AIMessage):
        calls = [_tool_call_to_openai(c) for c in message.tool_calls]
        calls += [_tool_call_to_openai(c, invalid=True) for c in message.invalid_tool_calls]
        if not calls and message.additional_kwargs.get("tool_calls"):
            calls = list(message.additional_kwargs["tool_calls"])
        content = _text(message.content)
        out = {"role": "assistant", "content": content if content or not calls else None}
        if calls:
            out["tool_calls"] = calls
    elif isinstance(message, HumanMessage):
        content = message.content
        out = {"role": "user", "content": content if isinstance(content, str) else [_block_to_openai(b) for b in content]}
    elif isinstance(message, SystemMessage):
        out = {"role": "system", "content": _text(message.content)}
    elif isinstance(message, FunctionMessage):
        return {"role": "function", "name": message.name, "content": _text(message.content)}
    elif isinstance(message, ChatMessage):
        content = message.content
        out = {"role": message.role, "content": content if isinstance(content, str) else [_block_to_openai(b) for b in content]}
    else:
        raise TypeError(
            f"cannot send a {type(message).__name__} to an OpenAI-compatible server; use SystemMessage, "
            f"HumanMessage, AIMessage, ToolMessage, FunctionMessage or ChatMessage"
        )
    if message.name:
        out["name"] = message.name
    return out


def messages_to_openai(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """``message_to_openai`` for each message, in order."""
    return [message_to_openai(m) for m in messages]


# --------------------------------------------------------------------------- #
# Response: JSON -> messages
# --------------------------------------------------------------------------- #


def usage_to_metadata(usage: Any) -> Optional[dict[str, Any]]:
    """OpenAI ``usage`` as hookchain/LangChain ``usage_metadata``, or ``None``.

    ``{"input_tokens", "output_tokens", "total_tokens"}``, plus
    ``input_token_details``/``output_token_details`` (``cache_read``,
    ``reasoning``, ``audio``) when the server reports non-zero details.
    """
    if not isinstance(usage, dict):
        return None
    try:
        inp = int(usage.get("prompt_tokens") or 0)
        out = int(usage.get("completion_tokens") or 0)
        total = int(usage.get("total_tokens") or inp + out)
    except (TypeError, ValueError):
        raise MalformedResponseError(f"usage is not a set of token counts: {usage!r}") from None
    meta: dict[str, Any] = {"input_tokens": inp, "output_tokens": out, "total_tokens": total}
    for src, dst, keys in (
        ("prompt_tokens_details", "input_token_details", (("cached_tokens", "cache_read"), ("audio_tokens", "audio"))),
        ("completion_tokens_details", "output_token_details", (("reasoning_tokens", "reasoning"), ("audio_tokens", "audio"))),
    ):
        details = usage.get(src)
        if isinstance(details, dict):
            picked = {new: details[old] for old, new in keys if isinstance(details.get(old), int) and details[old]}
            if picked:
                meta[dst] = picked
    return meta


def parse_tool_call(raw: dict[str, Any]) -> tuple[Optional[dict[str, Any]], Optional[dict[str, Any]]]:
    """An OpenAI ``tool_calls`` item as ``(tool_call, None)`` or, when its
    arguments are not a JSON object, ``(None, invalid_tool_call)``."""
    function = raw.get("function") or {}
    name, args, call_id = function.get("name"), function.get("arguments"), raw.get("id")
    try:
        parsed = json.loads(args, strict=False) if args else {}
    except (TypeError, ValueError) as e:
        return None, {"name": name, "args": args, "id": call_id, "error": f"arguments are not JSON: {e}", "type": "invalid_tool_call"}
    if not isinstance(parsed, dict):
        return None, {"name": name, "args": args, "id": call_id, "error": "arguments are not a JSON object", "type": "invalid_tool_call"}
    return {"name": name or "", "args": parsed, "id": call_id, "type": "tool_call"}, None


def _response_metadata(data: dict[str, Any], finish_reason: Any) -> dict[str, Any]:
    meta = {"model_name": data.get("model"), "finish_reason": finish_reason, "id": data.get("id")}
    if data.get("system_fingerprint"):
        meta["system_fingerprint"] = data["system_fingerprint"]
    return meta


def _first_choice(data: Any, what: str) -> Optional[dict[str, Any]]:
    if not isinstance(data, dict):
        raise MalformedResponseError(f"expected a JSON object ({what}), got {type(data).__name__}: {_clip(data)}")
    if "error" in data and data["error"]:
        raise MalformedResponseError(f"the server sent an error instead of a {what}: {_clip(data['error'])}")
    choices = data.get("choices")
    if choices is None:
        return None
    if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
        raise MalformedResponseError(f"'choices' of a {what} must be a list of objects, got {_clip(choices)}")
    for choice in choices:
        if choice.get("index", 0) == 0:
            return choice
    return choices[0] if choices else None


def _clip(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def result_from_completion(data: Any) -> ChatResult:
    """A ``chat.completion`` body (dict) as a ``ChatResult`` with one ``AIMessage``:
    content, ``tool_calls``/``invalid_tool_calls``, ``response_metadata``
    (``model_name``, ``finish_reason``, ``id``) and ``usage_metadata``."""
    choice = _first_choice(data, "chat completion")
    if choice is None or not isinstance(choice.get("message"), dict):
        raise MalformedResponseError(f"a chat completion needs choices[0].message, got {_clip(data)}")
    msg = choice["message"]
    content = msg.get("content")
    if content is None:
        content = ""
    elif not isinstance(content, (str, list)):
        raise MalformedResponseError(f"message content must be a string, got {_clip(content)}")
    additional: dict[str, Any] = {}
    tool_calls, invalid = [], []
    raw_calls = msg.get("tool_calls") or []
    if raw_calls:
        if not isinstance(raw_calls, list) or not all(isinstance(c, dict) for c in raw_calls):
            raise MalformedResponseError(f"tool_calls must be a list of objects, got {_clip(raw_calls)}")
        additional["tool_calls"] = raw_calls
        for raw in raw_calls:
            ok, bad = parse_tool_call(raw)
            (tool_calls if ok else invalid).append(ok or bad)
    for key in ("reasoning_content", "refusal", "function_call", "audio"):
        if msg.get(key):
            additional[key] = msg[key]
    finish_reason = choice.get("finish_reason")
    message = AIMessage(
        content=content,
        additional_kwargs=additional,
        response_metadata=_response_metadata(data, finish_reason),
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage_to_metadata(data.get("usage")),
    )
    llm_output = {"token_usage": data.get("usage"), "model_name": data.get("model"), "id": data.get("id")}
    if data.get("system_fingerprint"):
        llm_output["system_fingerprint"] = data["system_fingerprint"]
    return ChatResult(generations=[ChatGeneration(message, {"finish_reason": finish_reason})], llm_output=llm_output)


class StreamState:
    """Converts the chunks of one stream, in order, and remembers what the
    end-of-stream checks need (``finish_reason``, chunk count)."""

    __slots__ = ("chunks", "finish_reason", "_tool_ids")

    def __init__(self) -> None:
        self.chunks = 0
        self.finish_reason: Optional[str] = None
        self._tool_ids: dict[int, tuple[Any, Any]] = {}

    def convert(self, data: Any) -> Optional[ChatGenerationChunk]:
        """One ``chat.completion.chunk`` (dict) as a ``ChatGenerationChunk``, or
        ``None`` for a chunk carrying nothing (no choice, no usage)."""
        choice = _first_choice(data, "chat completion chunk")
        usage = usage_to_metadata(data.get("usage"))
        if choice is None:
            if "choices" not in data and usage is None:
                raise MalformedResponseError(f"a stream chunk needs 'choices' or 'usage', got {_clip(data)}")
            if usage is None:
                return None
        self.chunks += 1
        delta = (choice or {}).get("delta") or {}
        if not isinstance(delta, dict):
            raise MalformedResponseError(f"choices[0].delta must be an object, got {_clip(delta)}")
        content = delta.get("content") or ""
        if not isinstance(content, str):
            raise MalformedResponseError(f"delta content must be a string, got {_clip(content)}")
        additional = {k: delta[k] for k in ("reasoning_content", "refusal") if delta.get(k)}
        tool_call_chunks = self._tool_call_chunks(delta.get("tool_calls"))
        finish_reason = (choice or {}).get("finish_reason")
        metadata: dict[str, Any] = {}
        info = None
        if finish_reason:
            self.finish_reason = finish_reason
            metadata = _response_metadata(data, finish_reason)
            info = {"finish_reason": finish_reason}
        message = AIMessageChunk(
            content=content, additional_kwargs=additional, response_metadata=metadata,
            tool_call_chunks=tool_call_chunks, usage_metadata=usage,
        )
        return ChatGenerationChunk(message, info)

    def _tool_call_chunks(self, raw: Any) -> list[dict[str, Any]]:
        if not raw:
            return []
        if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
            raise MalformedResponseError(f"delta tool_calls must be a list of objects, got {_clip(raw)}")
        out = []
        for position, call in enumerate(raw):
            function = call.get("function") or {}
            index = call.get("index", position)
            call_id, name = call.get("id"), function.get("name")
            # Some servers repeat id and name in every delta: send them once,
            # so that index-merging (which concatenates strings) keeps them whole.
            seen_id, seen_name = self._tool_ids.get(index, (None, None))
            if call_id is not None and call_id == seen_id:
                call_id = None
            if name is not None and name == seen_name:
                name = None
            self._tool_ids[index] = (seen_id or call_id, seen_name or name)
            out.append({"name": name, "args": function.get("arguments"), "id": call_id, "index": index, "type": "tool_call_chunk"})
        return out
