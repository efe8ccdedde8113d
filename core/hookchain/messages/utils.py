"""Working with lists of messages (as ``langchain_core.messages.utils``).

Every function here gives the result LangChain's gives for the same input
(differential tests in tests/differential/test_messages.py).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Literal, Optional, Sequence, Union
from xml.sax.saxutils import escape, quoteattr

from hookchain.messages.ai import AIMessage, AIMessageChunk
from hookchain.messages.base import BaseMessage, BaseMessageChunk
from hookchain.messages.chat import ChatMessage, ChatMessageChunk
from hookchain.messages.function import FunctionMessage, FunctionMessageChunk
from hookchain.messages.human import HumanMessage, HumanMessageChunk
from hookchain.messages.system import SystemMessage, SystemMessageChunk
from hookchain.messages.tool import ToolMessage, ToolMessageChunk

__all__ = [
    "AnyMessage", "MessageLikeRepresentation", "convert_to_messages", "message_chunk_to_message",
    "messages_from_dict", "get_buffer_string",
]

AnyMessage = Union[
    AIMessage, HumanMessage, ChatMessage, SystemMessage, FunctionMessage, ToolMessage,
    AIMessageChunk, HumanMessageChunk, ChatMessageChunk, SystemMessageChunk,
    FunctionMessageChunk, ToolMessageChunk,
]
"""Any message or message chunk class."""

MessageLikeRepresentation = Union[BaseMessage, list, tuple, str, dict]
"""What ``convert_to_messages`` accepts for one message."""

_BY_TYPE: dict[str, type[BaseMessage]] = {
    cls.type: cls
    for cls in (
        HumanMessage, AIMessage, SystemMessage, ChatMessage, FunctionMessage, ToolMessage,
        AIMessageChunk, HumanMessageChunk, FunctionMessageChunk, ToolMessageChunk, SystemMessageChunk,
        ChatMessageChunk,
    )
}
_CHUNK_TO_MESSAGE: dict[type, type[BaseMessage]] = {
    HumanMessageChunk: HumanMessage, AIMessageChunk: AIMessage, SystemMessageChunk: SystemMessage,
    ToolMessageChunk: ToolMessage, FunctionMessageChunk: FunctionMessage, ChatMessageChunk: ChatMessage,
}
_MESSAGE_TO_CHUNK = {v: k for k, v in _CHUNK_TO_MESSAGE.items()}
_ROLE_NAMES = "'human', 'user', 'ai', 'assistant', 'function', 'tool', 'system', or 'developer'"
#: Class names in LangChain's serialised constructor form, mapped to roles.
_CONSTRUCTOR_ROLES = {
    "HumanMessage": "human", "HumanMessageChunk": "human", "AIMessage": "ai", "AIMessageChunk": "ai",
    "SystemMessage": "system", "SystemMessageChunk": "system", "FunctionMessage": "function",
    "FunctionMessageChunk": "function", "ToolMessage": "tool", "ToolMessageChunk": "tool",
}


# --------------------------------------------------------------------------- #
# Serialisation and chunk conversion
# --------------------------------------------------------------------------- #


def _message_from_dict(message: dict[str, Any]) -> BaseMessage:
    cls = _BY_TYPE.get(message["type"])
    if cls is None:
        raise ValueError(f"Got unexpected message type: {message['type']} (known: {', '.join(sorted(_BY_TYPE))})")
    return cls(**message["data"])


def messages_from_dict(messages: Sequence[dict[str, Any]]) -> list[BaseMessage]:
    """Messages from ``messages_to_dict`` output (``{"type", "data"}`` dicts).
    Raises ``ValueError`` for an unknown ``type``."""
    return [_message_from_dict(m) for m in messages]


def message_chunk_to_message(chunk: BaseMessage) -> BaseMessage:
    """The complete message for a chunk (``AIMessageChunk`` -> ``AIMessage``,
    without ``tool_call_chunks``/``chunk_position``); other messages are returned
    as they are."""
    if not isinstance(chunk, BaseMessageChunk):
        return chunk
    target = next(m for c, m in _CHUNK_TO_MESSAGE.items() if isinstance(chunk, c))
    return target(**{f: getattr(chunk, f) for f in target._field_names})


def _msg_to_chunk(message: BaseMessage) -> BaseMessageChunk:
    target = next((c for m, c in _MESSAGE_TO_CHUNK.items() if isinstance(message, m)), None)
    if target is None:
        raise ValueError(f"cannot turn {type(message).__name__} into a chunk; use one of the message classes")
    return target(**message.model_dump(exclude={"type"}))


# --------------------------------------------------------------------------- #
# convert_to_messages
# --------------------------------------------------------------------------- #


def _tool_calls_from_openai(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for tc in tool_calls:
        if "function" in tc:
            args = tc["function"]["arguments"]
            if isinstance(args, str):
                args = json.loads(args, strict=False)
            out.append({"name": tc["function"]["name"], "args": args, "id": tc["id"], "type": "tool_call"})
        else:
            out.append(tc)
    return out


def _create_message(
    role: str, content: Any, name: Optional[str] = None, tool_call_id: Optional[str] = None,
    tool_calls: Optional[list] = None, id: Optional[str] = None, **extra: Any,
) -> BaseMessage:
    # As LangChain's _create_message_from_message_type: extra keys go to
    # additional_kwargs (a nested "additional_kwargs" is flattened into it),
    # "response_metadata" is kept as such.
    kwargs: dict[str, Any] = {}
    if name is not None:
        kwargs["name"] = name
    if tool_call_id is not None:
        kwargs["tool_call_id"] = tool_call_id
    if extra:
        if response_metadata := extra.pop("response_metadata", None):
            kwargs["response_metadata"] = response_metadata
        extra.update(extra.pop("additional_kwargs", {}))
        kwargs["additional_kwargs"] = extra
    if id is not None:
        kwargs["id"] = id
    if tool_calls is not None:
        kwargs["tool_calls"] = _tool_calls_from_openai(tool_calls)
    if role in ("human", "user"):
        return HumanMessage(content=content, **kwargs)
    if role in ("ai", "assistant"):
        return AIMessage(content=content, **kwargs)
    if role in ("system", "developer"):
        if role == "developer":
            kwargs["additional_kwargs"] = {**kwargs.get("additional_kwargs", {}), "__openai_role__": "developer"}
        return SystemMessage(content=content, **kwargs)
    if role == "function":
        return FunctionMessage(content=content, **kwargs)
    if role == "tool":
        extras = kwargs.get("additional_kwargs", {})
        artifact = extras.pop("artifact", None)
        status = extras.pop("status", None)
        if status is not None:
            kwargs["status"] = status
        return ToolMessage(content=content, artifact=artifact, **kwargs)
    raise ValueError(f"Unexpected message type: {role!r}. Use one of {_ROLE_NAMES}.")


def _convert_to_message(message: Any) -> BaseMessage:
    if isinstance(message, BaseMessage):
        return message
    if isinstance(message, str):
        return _create_message("human", message)
    if isinstance(message, Sequence):
        try:
            role, template = message
        except ValueError:
            raise NotImplementedError(
                f"a message given as a sequence must be (role, content), got {len(message)} items"
            ) from None
        return _create_message(role, template)
    if isinstance(message, dict):
        if (
            message.get("lc") == 1 and message.get("type") == "constructor"
            and isinstance(message.get("id"), list) and message["id"] and isinstance(message.get("kwargs"), dict)
        ):
            role = _CONSTRUCTOR_ROLES.get(message["id"][-1])
            if role is not None:
                return _convert_to_message({"type": role, **message["kwargs"]})
        data = dict(message)
        try:
            role = data.pop("role") if "role" in data else data.pop("type")
            content = data.pop("content") or ""
        except KeyError:
            raise ValueError(f"Message dict must contain 'role' and 'content' keys, got {message}") from None
        return _create_message(role, content, **data)
    raise NotImplementedError(
        f"Unsupported message type: {type(message)}; pass a message, a str, a (role, content) "
        "tuple or a {'role': ..., 'content': ...} dict"
    )


def convert_to_messages(messages: Union[Iterable[MessageLikeRepresentation], Any]) -> list[BaseMessage]:
    """Messages from any of LangChain's message-like forms: messages (as they
    are), strings (human), ``(role, content)`` pairs, OpenAI-style dicts
    (``role``/``type``, ``content``, ``name``, ``tool_call_id``, ``tool_calls``
    (OpenAI or LangChain shape), ``id``; other keys into ``additional_kwargs``),
    LangChain's serialised ``{"lc": 1, "type": "constructor", ...}`` dicts, or a
    prompt value. Roles: ``human``/``user``, ``ai``/``assistant``, ``system``,
    ``developer`` (a system message marked ``__openai_role__``), ``function``,
    ``tool``. Raises ``ValueError`` for an unknown role or a dict without
    role/content, ``NotImplementedError`` for other objects (as LangChain)."""
    if hasattr(messages, "to_messages") and not isinstance(messages, (list, tuple)):
        return messages.to_messages()
    return [_convert_to_message(m) for m in messages]


# --------------------------------------------------------------------------- #
# get_buffer_string
# --------------------------------------------------------------------------- #


def _role_prefix(m: BaseMessage, prefixes: dict[type, str]) -> str:
    for cls, prefix in prefixes.items():
        if isinstance(m, cls):
            return prefix
    if isinstance(m, ChatMessage):
        return m.role
    raise ValueError(f"Got unsupported message type: {m}")


def _has_base64(block: dict[str, Any]) -> bool:
    if block.get("base64"):
        return True
    url = block.get("url", "")
    image_url = block.get("image_url", {})
    nested = image_url.get("url", "") if isinstance(image_url, dict) else ""
    return any(isinstance(u, str) and u.startswith("data:") for u in (url, nested))


def _truncate(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _media_xml(kind: str, block: dict[str, Any]) -> Optional[str]:
    if block.get("url"):
        return f"<{kind} url={quoteattr(block['url'])} />"
    if block.get("file_id"):
        return f"<{kind} file_id={quoteattr(block['file_id'])} />"
    return None


def _block_xml(block: dict[str, Any]) -> Optional[str]:
    kind = block.get("type", "")
    if _has_base64(block):
        return None
    if kind == "text":
        return escape(block["text"]) if block.get("text") else None
    if kind == "reasoning":
        return f"<reasoning>{escape(block['reasoning'])}</reasoning>" if block.get("reasoning") else None
    if kind in ("image", "audio", "video"):
        return _media_xml(kind, block)
    if kind == "image_url":
        image_url = block.get("image_url", {})
        url = image_url.get("url", "") if isinstance(image_url, dict) else ""
        return f"<image url={quoteattr(url)} />" if url and not url.startswith("data:") else None
    if kind == "text-plain":
        return escape(_truncate(block["text"])) if block.get("text") else None
    if kind == "server_tool_call":
        args = escape(_truncate(json.dumps(block.get("args", {}), ensure_ascii=False)))
        return (f"<server_tool_call id={quoteattr(str(block.get('id') or ''))} "
                f"name={quoteattr(str(block.get('name') or ''))}>{args}</server_tool_call>")
    if kind == "server_tool_result":
        output = block.get("output")
        text = escape(_truncate(json.dumps(output, ensure_ascii=False))) if output else ""
        return (f"<server_tool_result tool_call_id={quoteattr(str(block.get('tool_call_id') or ''))} "
                f"status={quoteattr(str(block.get('status') or ''))}>{text}</server_tool_result>")
    return None


def _message_xml(m: BaseMessage, kind: str) -> str:
    blocks = [m.content] if isinstance(m.content, str) else m.content
    parts = [p for p in ((escape(b) if b else None) if isinstance(b, str) else _block_xml(b) for b in blocks) if p]
    tool_calls = m.tool_calls if isinstance(m, AIMessage) else None
    function_call = m.additional_kwargs.get("function_call") if isinstance(m, AIMessage) and not tool_calls else None
    if not tool_calls and not (isinstance(m, AIMessage) and "function_call" in m.additional_kwargs):
        return f"<message type={quoteattr(kind)}>{' '.join(parts)}</message>"
    lines = [f"<message type={quoteattr(kind)}>"]
    if parts:
        lines.append(f"  <content>{' '.join(parts)}</content>")
    for tc in tool_calls or ():
        tc_id = tc.get("id") or ""
        tc_id = tc_id[:64] + "..." if len(tc_id) > 64 else tc_id
        lines.append(
            f"  <tool_call id={quoteattr(tc_id)} name={quoteattr(str(tc.get('name') or ''))}>"
            f"{escape(json.dumps(tc.get('args', {}), ensure_ascii=False))}</tool_call>"
        )
    if not tool_calls:
        lines.append(
            f"  <function_call name={quoteattr(str(function_call.get('name') or ''))}>"
            f"{escape(str(function_call.get('arguments') or '{}'))}</function_call>"
        )
    lines.append("</message>")
    return "\n".join(lines)


def get_buffer_string(
    messages: Sequence[BaseMessage], human_prefix: str = "Human", ai_prefix: str = "AI", *,
    system_prefix: str = "System", function_prefix: str = "Function", tool_prefix: str = "Tool",
    message_separator: str = "\n", format: Literal["prefix", "xml"] = "prefix",  # noqa: A002
) -> str:
    """The messages as one string, as LangChain's ``get_buffer_string``.

    ``format="prefix"``: ``"<prefix>: <text>"`` per message (a ``ChatMessage``
    uses its role), an AI message's ``tool_calls`` (else its
    ``additional_kwargs["function_call"]``) appended as their ``str()``.
    ``format="xml"``: ``<message type="<prefix, lowercased>">`` elements with
    escaped text and supported blocks (base64 data skipped), tool calls as
    nested ``<tool_call>`` elements. Messages are joined by
    ``message_separator``. Raises ``ValueError`` for another format or a message
    class it does not know."""
    if format not in ("prefix", "xml"):
        raise ValueError(f"Unrecognized format={format!r}. Supported formats are 'prefix' and 'xml'.")
    prefixes = {HumanMessage: human_prefix, AIMessage: ai_prefix, SystemMessage: system_prefix,
                FunctionMessage: function_prefix, ToolMessage: tool_prefix}
    out = []
    for m in messages:
        role = _role_prefix(m, prefixes)
        if format == "xml":
            out.append(_message_xml(m, role if isinstance(m, ChatMessage) else role.lower()))
            continue
        line = f"{role}: {m.text}"
        if isinstance(m, AIMessage):
            if m.tool_calls:
                line += str(m.tool_calls)
            elif "function_call" in m.additional_kwargs:
                line += str(m.additional_kwargs["function_call"])
        out.append(line)
    return message_separator.join(out)
