"""Working with lists of messages (as ``langchain_core.messages.utils``).

Every function here gives the result LangChain's gives for the same input
(differential tests in tests/differential/test_messages.py).
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import warnings
from typing import Any, Callable, Iterable, Literal, Optional, Sequence, Union

from hookchain import _upcalls
from hookchain.messages.ai import AIMessage, AIMessageChunk
from hookchain.messages.base import BaseMessage, BaseMessageChunk
from hookchain.messages.chat import ChatMessage, ChatMessageChunk
from hookchain.messages.function import FunctionMessage, FunctionMessageChunk
from hookchain.messages.human import HumanMessage, HumanMessageChunk
from hookchain.messages.modifier import RemoveMessage
from hookchain.messages.system import SystemMessage, SystemMessageChunk
from hookchain.messages.tool import ToolMessage, ToolMessageChunk

__all__ = [
    "AnyMessage", "MessageLikeRepresentation", "convert_to_messages", "convert_to_openai_messages",
    "count_tokens_approximately", "filter_messages", "get_buffer_string", "merge_message_runs",
    "message_chunk_to_message", "messages_from_dict", "trim_messages",
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
        ChatMessageChunk, RemoveMessage,
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
    "FunctionMessageChunk": "function", "ToolMessage": "tool", "ToolMessageChunk": "tool", "RemoveMessage": "remove",
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
    if role == "remove":
        return RemoveMessage(**kwargs)
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
    from xml.sax.saxutils import quoteattr

    if block.get("url"):
        return f"<{kind} url={quoteattr(block['url'])} />"
    if block.get("file_id"):
        return f"<{kind} file_id={quoteattr(block['file_id'])} />"
    return None


def _block_xml(block: dict[str, Any]) -> Optional[str]:
    from xml.sax.saxutils import escape, quoteattr

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
    from xml.sax.saxutils import escape, quoteattr  # imports urllib: ~50 ms, paid only by format="xml"

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


# --------------------------------------------------------------------------- #
# filter / merge runs / trim (each also a Runnable when called without messages)
# --------------------------------------------------------------------------- #


def _runnable_support(func: Callable[..., list]) -> Callable[..., Any]:
    # As LangChain: ``f(messages, **kw)`` runs, ``f(**kw)`` is a RunnableLambda for a chain.
    @functools.wraps(func)
    def wrapped(messages: Any = None, *args: Any, **kwargs: Any) -> Any:
        if messages is not None:
            return func(messages, *args, **kwargs)
        return _upcalls.runnable_lambda(functools.partial(func, **kwargs), func.__name__)

    return wrapped


MessageTypes = Union[str, type, Sequence[Union[str, type]]]


def _is_message_type(message: BaseMessage, kinds: MessageTypes) -> bool:
    kinds = [kinds] if isinstance(kinds, (str, type)) else kinds
    return message.type in [k for k in kinds if isinstance(k, str)] or isinstance(
        message, tuple(k for k in kinds if isinstance(k, type))
    )


@_runnable_support
def filter_messages(
    messages: Any, *, include_names: Optional[Sequence[str]] = None, exclude_names: Optional[Sequence[str]] = None,
    include_types: Optional[MessageTypes] = None, exclude_types: Optional[MessageTypes] = None,
    include_ids: Optional[Sequence[str]] = None, exclude_ids: Optional[Sequence[str]] = None,
    exclude_tool_calls: Union[Sequence[str], bool, None] = None,
) -> list[BaseMessage]:
    """The messages (any ``convert_to_messages`` form) that pass the filters, as
    LangChain's: excluded by name, type (``"human"`` or a class), id; with
    ``exclude_tool_calls=True`` AI messages with tool calls and tool messages
    go, with a list of ids those calls (and their ``tool_use`` blocks) go;
    then, if any ``include_*`` is given, only messages matching one are kept.
    Called without messages it returns a Runnable doing this."""
    kept = []
    for msg in convert_to_messages(messages):
        if ((exclude_names and msg.name in exclude_names) or (exclude_types and _is_message_type(msg, exclude_types))
                or (exclude_ids and msg.id in exclude_ids)):
            continue
        if exclude_tool_calls is True and ((isinstance(msg, AIMessage) and msg.tool_calls) or isinstance(msg, ToolMessage)):
            continue
        if isinstance(exclude_tool_calls, (list, tuple, set)):
            if isinstance(msg, AIMessage) and msg.tool_calls:
                calls = [tc for tc in msg.tool_calls if tc["id"] not in exclude_tool_calls]
                if not calls:
                    continue
                content = msg.content
                if isinstance(content, list):
                    content = [b for b in content if not (isinstance(b, dict) and b.get("type") == "tool_use"
                                                          and b.get("id") in exclude_tool_calls)]
                msg = msg.model_copy(update={"tool_calls": calls, "content": content})
            elif isinstance(msg, ToolMessage) and msg.tool_call_id in exclude_tool_calls:
                continue
        if (not (include_types or include_ids or include_names) or (include_names and msg.name in include_names)
                or (include_types and _is_message_type(msg, include_types)) or (include_ids and msg.id in include_ids)):
            kept.append(msg)
    return kept


def _chunk_to_msg(chunk: BaseMessageChunk) -> BaseMessage:
    target = next(m for c, m in _CHUNK_TO_MESSAGE.items() if isinstance(chunk, c))
    return target(**chunk.model_dump(exclude={"type", "tool_call_chunks", "chunk_position"}))


@_runnable_support
def merge_message_runs(messages: Any, *, chunk_separator: str = "\n") -> list[BaseMessage]:
    """Consecutive messages of one class merged into one (tool messages never),
    as LangChain's: string contents joined by ``chunk_separator``, list contents
    merged, the later messages' ``response_metadata`` dropped. Called without
    messages it returns a Runnable doing this."""
    if not messages:
        return []
    merged: list[BaseMessage] = []
    for msg in convert_to_messages(messages):
        last = merged.pop() if merged else None
        if not last:
            merged.append(msg)
        elif isinstance(msg, ToolMessage) or not isinstance(msg, type(last)):
            merged += [last, msg]
        else:
            left, right = _msg_to_chunk(last), _msg_to_chunk(msg)
            right.response_metadata.clear()
            if isinstance(left.content, str) and isinstance(right.content, str) and left.content and right.content:
                left.content += chunk_separator
            merged.append(_chunk_to_msg(left + right))
    return merged


def _default_text_splitter(text: str) -> list[str]:
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + parts[-1:]


def _list_counter(counter: Any) -> Callable[[list[BaseMessage]], int]:
    if isinstance(counter, str):
        if counter not in _TOKEN_COUNTER_SHORTCUTS:
            raise ValueError(
                f"Invalid token_counter shortcut '{counter}'. Available shortcuts: "
                + ", ".join(f"'{k}'" for k in _TOKEN_COUNTER_SHORTCUTS) + "."
            )
        counter = _TOKEN_COUNTER_SHORTCUTS[counter]
    if hasattr(counter, "get_num_tokens_from_messages"):
        return counter.get_num_tokens_from_messages
    if not callable(counter):
        raise ValueError(
            "'token_counter' expected to be a model that implements 'get_num_tokens_from_messages()' "
            f"or a function. Received object of type {type(counter)}."
        )
    first = next(iter(inspect.signature(counter).parameters.values()), None)
    annotation = first.annotation if first is not None else None
    # A counter of one message (LangChain checks the annotation is BaseMessage;
    # hookchain also reads it as a string, for `from __future__ import annotations`).
    if annotation is BaseMessage or annotation == "BaseMessage" or (
        isinstance(annotation, type) and issubclass(annotation, BaseMessage)
    ):
        return lambda msgs: sum(counter(m) for m in msgs)
    return counter


def _first_max_tokens(
    messages: list[BaseMessage], *, max_tokens: int, token_counter: Callable[[list[BaseMessage]], int],
    text_splitter: Callable[[str], list[str]], partial_strategy: Optional[str] = None,
    end_on: Optional[MessageTypes] = None,
) -> list[BaseMessage]:
    messages = list(messages)
    if not messages:
        return messages
    if token_counter(messages) <= max_tokens:
        while end_on and messages and not _is_message_type(messages[-1], end_on):
            messages.pop()
        return messages
    left, right = 0, len(messages)
    for _ in range(len(messages).bit_length()):  # the longest prefix that fits
        if left >= right:
            break
        mid = (left + right + 1) // 2
        if token_counter(messages[:mid]) <= max_tokens:
            left = mid
        else:
            right = mid - 1
    idx = left
    if partial_strategy and idx < len(messages):
        messages, idx = _add_partial(messages, idx, max_tokens, token_counter, text_splitter, partial_strategy)
    if end_on:
        while idx > 0 and not _is_message_type(messages[idx - 1], end_on):
            idx -= 1
    return messages[:idx]


def _add_partial(
    messages: list[BaseMessage], idx: int, max_tokens: int, token_counter: Callable[[list[BaseMessage]], int],
    text_splitter: Callable[[str], list[str]], strategy: str,
) -> tuple[list[BaseMessage], int]:
    # As LangChain: first drop trailing content blocks of the message that did
    # not fit, then split its first text and keep as many splits as fit.
    excluded = messages[idx].model_copy(deep=True)
    if isinstance(excluded.content, list):
        if strategy == "last":
            excluded.content = list(reversed(excluded.content))
        for _ in range(1, len(excluded.content)):
            excluded.content = excluded.content[:-1]
            if token_counter([*messages[:idx], excluded]) <= max_tokens:
                if strategy == "last":
                    excluded.content = list(reversed(excluded.content))
                return [*messages[:idx], excluded], idx + 1
    text = None
    if isinstance(excluded.content, str):
        text = excluded.content
    else:
        for block in excluded.content:
            if isinstance(block, str):
                text = block
                break
            if isinstance(block, dict) and block.get("type") == "text":
                text = block.get("text")
                break
    if not text:
        return messages, idx
    splits = text_splitter(text)
    base = token_counter(messages[:idx])
    if strategy == "last":
        splits = list(reversed(splits))
    left, right = 0, len(splits)
    for _ in range(len(splits).bit_length()):
        if left >= right:
            break
        mid = (left + right + 1) // 2
        excluded.content = "".join(splits[:mid])
        if base + token_counter([excluded]) <= max_tokens:
            left = mid
        else:
            right = mid - 1
    if left == 0:
        return messages, idx
    kept = splits[:left]
    excluded.content = "".join(reversed(kept) if strategy == "last" else kept)
    return [*messages[:idx], excluded], idx + 1


@_runnable_support
def trim_messages(
    messages: Any, *, max_tokens: int, token_counter: Any, strategy: Literal["first", "last"] = "last",
    allow_partial: bool = False, end_on: Optional[MessageTypes] = None, start_on: Optional[MessageTypes] = None,
    include_system: bool = False, text_splitter: Any = None,
) -> list[BaseMessage]:
    """The messages cut to at most ``max_tokens`` tokens, as LangChain's.

    ``token_counter``: a function of a message list (or of one message, if its
    first parameter is annotated ``BaseMessage``), a model with
    ``get_num_tokens_from_messages``, or ``"approximate"``
    (``count_tokens_approximately``). ``strategy="first"`` keeps the start,
    ``"last"`` the end (``include_system`` keeps a leading system message,
    ``start_on`` drops messages before the first of those types).
    ``end_on`` drops messages after the last of those types. ``allow_partial``
    keeps part of the message at the cut (content blocks, then ``text_splitter``
    splits of its text: a function or an object with ``split_text``; newline
    splits by default). Raises ``ValueError`` for ``start_on``/``include_system``
    with ``"first"``, an unknown strategy or counter. Called without messages it
    returns a Runnable doing this."""
    if start_on and strategy == "first":
        raise ValueError("start_on parameter is only valid with strategy='last'")
    if include_system and strategy == "first":
        raise ValueError("include_system parameter is only valid with strategy='last'")
    messages = convert_to_messages(messages)
    counter = _list_counter(token_counter)
    splitter = getattr(text_splitter, "split_text", None) or text_splitter or _default_text_splitter
    if strategy == "first":
        return _first_max_tokens(messages, max_tokens=max_tokens, token_counter=counter, text_splitter=splitter,
                                 partial_strategy="first" if allow_partial else None, end_on=end_on)
    if strategy != "last":
        raise ValueError(f"Unrecognized strategy={strategy!r}. Supported strategies are 'last' and 'first'.")
    while end_on and messages and not _is_message_type(messages[-1], end_on):
        messages.pop()
    system = None
    if include_system and messages and isinstance(messages[0], SystemMessage):
        system, messages = messages[0], messages[1:]
    budget = max(0, max_tokens - counter([system])) if system else max_tokens
    kept = _first_max_tokens(messages[::-1], max_tokens=budget, token_counter=counter, text_splitter=splitter,
                             partial_strategy="last" if allow_partial else None, end_on=start_on)[::-1]
    return [system, *kept] if system else kept


# --------------------------------------------------------------------------- #
# OpenAI format and token estimates
# --------------------------------------------------------------------------- #


def _openai_role(message: BaseMessage) -> str:
    if isinstance(message, AIMessage):
        return "assistant"
    if isinstance(message, HumanMessage):
        return "user"
    if isinstance(message, ToolMessage):
        return "tool"
    if isinstance(message, SystemMessage):
        role = message.additional_kwargs.get("__openai_role__", "system")
        if not isinstance(role, str):
            raise TypeError(f"Expected '__openai_role__' to be a str, got {type(role).__name__}")
        return role
    if isinstance(message, FunctionMessage):
        return "function"
    if isinstance(message, ChatMessage):
        return message.role
    raise ValueError(f"Unknown BaseMessage type {message.__class__}.")


_DATA_BLOCK_TYPES = ("image", "video", "audio", "text-plain", "file")


def _is_data_block(block: dict[str, Any]) -> bool:
    # As LangChain's is_data_content_block (v0 and v1 multimodal data blocks).
    if block.get("type") not in _DATA_BLOCK_TYPES:
        return False
    if any(k in block for k in ("url", "base64", "file_id", "text")):
        return not (block["type"] == "text" and "source_type" not in block)
    source = block.get("source_type")
    required = {"url": "url", "base64": "data", "id": "id", "text": "url"}.get(source)
    return required is not None and required in block


def _openai_data_block(block: dict[str, Any]) -> dict[str, Any]:
    # As LangChain's convert_to_openai_data_block for chat completions.
    kind = block["type"]
    base64_data = block.get("data") if "source_type" in block else block.get("base64")
    if kind == "image":
        if "url" in block:
            return {"type": "image_url", "image_url": {"url": block["url"]}}
        if "base64" in block or block.get("source_type") == "base64":
            if "mime_type" not in block:
                raise ValueError("mime_type key is required for base64 data.")
            data = block["data"] if "data" in block else block["base64"]
            return {"type": "image_url", "image_url": {"url": f"data:{block['mime_type']};base64,{data}"}}
        raise ValueError("Unsupported source type. Only 'url' and 'base64' are supported.")
    if kind == "file":
        if block.get("source_type") == "base64" or "base64" in block:
            file = {"file_data": f"data:{block['mime_type']};base64,{base64_data}"}
            extras = block.get("extras") or block.get("metadata") or {}
            file["filename"] = block.get("filename") or extras.get("filename") or "LC_AUTOGENERATED"
            if file["filename"] == "LC_AUTOGENERATED":
                warnings.warn(
                    "file content block without a filename: OpenAI may require one, add 'filename' to the block "
                    "(using the placeholder 'LC_AUTOGENERATED', as LangChain)", UserWarning, stacklevel=2,
                )
            return {"type": "file", "file": file}
        if block.get("source_type") == "id" or "file_id" in block:
            return {"type": "file", "file": {"file_id": block["id"] if "source_type" in block else block["file_id"]}}
        if "url" in block:
            raise ValueError("OpenAI Chat Completions does not support file URLs.")
        raise ValueError("Keys base64, url, or file_id required for file blocks.")
    if kind == "audio":
        if "base64" in block or block.get("source_type") == "base64":
            return {"type": "input_audio",
                    "input_audio": {"data": base64_data, "format": block["mime_type"].split("/")[-1]}}
        raise ValueError("Key base64 is required for audio blocks.")
    raise ValueError(f"Block of type {kind} is not supported.")


def _missing_keys(block: dict[str, Any], keys: Sequence[str], where: str, what: str) -> None:
    missing = [k for k in keys if k not in block]
    if missing:
        raise ValueError(f"Unrecognized content block at {where} has {what} but is missing expected key(s) "
                         f"{missing}. Full content block:\n\n{block}")


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("utf-8")


def _openai_tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {"type": "function", "id": call_id, "function": {"name": name, "arguments": arguments}}


def _openai_block(block: Any, where: str, message: BaseMessage, oai: dict[str, Any], tool_messages: list,
                  text_format: str, pass_through: bool) -> Optional[dict[str, Any]]:
    """One content block in OpenAI form (``None``: nothing to add to content);
    tool-use blocks add to ``oai["tool_calls"]``, tool results to ``tool_messages``."""
    if isinstance(block, str):
        return {"type": "text", "text": block}
    kind = block.get("type")
    if kind == "text":
        _missing_keys(block, ("text",), where, "'type': 'text'")
        return {"type": "text", "text": block["text"]}
    if kind == "image_url":
        _missing_keys(block, ("image_url",), where, "'type': 'image_url'")
        return {"type": "image_url", "image_url": block["image_url"]}
    if _is_data_block(block):
        converted = _openai_data_block(block)
        if converted.get("type") == "file" and "filename" not in converted["file"]:
            converted["file"]["filename"] = "LC_AUTOGENERATED"
        return converted
    if kind == "image" or "image" in block:
        if source := block.get("source"):
            _missing_keys(source, ("media_type", "type", "data"), where, "'type': 'image' whose 'source'")
            return {"type": "image_url", "image_url": {"url": f"data:{source['media_type']};{source['type']},{source['data']}"}}
        if image := block.get("image"):
            _missing_keys(image, ("source", "format"), where, "key 'image' whose 'image'")
            return {"type": "image_url", "image_url": {"url": f"data:image/{image['format']};base64,{_b64(image['source']['bytes'])}"}}
        raise ValueError(f"Unrecognized content block at {where} has 'type': 'image' but does not have a "
                         f"'source' or 'image' key. Full content block:\n\n{block}")
    if kind == "file" and isinstance(block.get("file"), dict) and isinstance(block["file"].get("file_data"), str):
        if block["file"].get("filename") is None:
            return {**block, "file": {**block["file"], "filename": "LC_AUTOGENERATED"}}
        return block
    if kind == "input_audio" and isinstance(block.get("input_audio"), dict) and isinstance(
            block["input_audio"].get("data"), str) and isinstance(block["input_audio"].get("format"), str):
        return block
    known_ids = {tc["id"] for tc in getattr(message, "tool_calls", ())}
    if kind == "tool_use":
        _missing_keys(block, ("id", "name", "input"), where, "'type': 'tool_use'")
        if block["id"] not in known_ids:
            oai.setdefault("tool_calls", []).append(
                _openai_tool_call(block["id"], block["name"], json.dumps(block["input"], ensure_ascii=False)))
        return None
    if kind == "function_call":
        if block.get("call_id") not in known_ids:
            _missing_keys(block, ("call_id", "name", "arguments"), where, "'type': 'tool_use'")
            oai.setdefault("tool_calls", []).append(
                _openai_tool_call(block.get("call_id"), block.get("name"), block.get("arguments")))
        return block if pass_through else None
    if kind == "tool_result":
        _missing_keys(block, ("content", "tool_use_id"), where, "'type': 'tool_result'")
        result = ToolMessage(block["content"], tool_call_id=block["tool_use_id"],
                             status="error" if block.get("is_error") else "success")
        tool_messages.extend(convert_to_openai_messages([result], text_format=text_format))
        return None
    if kind == "json" or "json" in block:
        if "json" not in block:
            raise ValueError(f"Unrecognized content block at {where} has 'type': 'json' but does not have a "
                             f"'json' key. Full content block:\n\n{block}")
        return {"type": "text", "text": json.dumps(block["json"])}
    if kind == "guard_content" or "guard_content" in block:
        if "guard_content" not in block or "text" not in block["guard_content"]:
            raise ValueError(f"Unrecognized content block at {where} has 'type': 'guard_content' but does not "
                             f"have a {where}['guard_content']['text'] key. Full content block:\n\n{block}")
        text = block["guard_content"]["text"]
        return {"type": "text", "text": text["text"] if isinstance(text, dict) else text}
    if kind == "media":
        _missing_keys(block, ("mime_type", "data"), where, "'type': 'media'")
        if "image" not in block["mime_type"]:
            raise ValueError("OpenAI messages can only support text and image data. "
                             f"Received content block with media of type: {block['mime_type']}")
        return {"type": "image_url", "image_url": {"url": f"data:{block['mime_type']};base64,{_b64(block['data'])}"}}
    if kind in ("thinking", "reasoning") or pass_through:
        return block
    raise ValueError(f"Unrecognized content block at {where} does not match OpenAI, Anthropic, Bedrock Converse, "
                     f"or VertexAI format. Full content block:\n\n{block}")


def convert_to_openai_messages(
    messages: Any, *, text_format: Literal["string", "block"] = "string", include_id: bool = False,
    pass_through_unknown_blocks: bool = True,
) -> Union[dict[str, Any], list[dict[str, Any]]]:
    """Messages (any ``convert_to_messages`` form; one message gives one dict)
    as OpenAI chat-completions dicts, as LangChain's: ``role``, ``name``,
    ``tool_calls`` (JSON ``arguments``), ``refusal``, ``tool_call_id``, ``id``
    (``include_id``) and ``content`` (``text_format="string"``: text joined by
    newlines where all blocks are text; ``"block"``: a list of blocks).
    Anthropic, Bedrock and Vertex blocks are translated; ``tool_result`` blocks
    become tool messages; unknown blocks pass through unless
    ``pass_through_unknown_blocks=False`` (then ``ValueError``)."""
    if text_format not in ("string", "block"):
        raise ValueError(f"Unrecognized text_format={text_format!r}, expected one of 'string' or 'block'.")
    single = isinstance(messages, (BaseMessage, dict, str))
    out: list[dict[str, Any]] = []
    for i, message in enumerate(convert_to_messages([messages] if single else messages)):
        oai: dict[str, Any] = {"role": _openai_role(message)}
        tool_messages: list[dict[str, Any]] = []
        if message.name:
            oai["name"] = message.name
        if isinstance(message, AIMessage) and message.tool_calls:
            oai["tool_calls"] = [_openai_tool_call(tc["id"], tc["name"], json.dumps(tc["args"], ensure_ascii=False))
                                 for tc in message.tool_calls]
        if message.additional_kwargs.get("refusal"):
            oai["refusal"] = message.additional_kwargs["refusal"]
        if isinstance(message, ToolMessage):
            oai["tool_call_id"] = message.tool_call_id
        if include_id and message.id:
            oai["id"] = message.id
        content: Any
        if not message.content:
            content = "" if text_format == "string" else []
        elif isinstance(message.content, str):
            content = message.content if text_format == "string" else [{"type": "text", "text": message.content}]
        elif text_format == "string" and all(isinstance(b, str) or b.get("type") == "text" for b in message.content):
            content = "\n".join(b if isinstance(b, str) else b["text"] for b in message.content)
        else:
            content = []
            for j, block in enumerate(message.content):
                converted = _openai_block(block, f"messages[{i}].content[{j}]", message, oai, tool_messages,
                                          text_format, pass_through_unknown_blocks)
                if converted is not None:
                    content.append(converted)
            if text_format == "string" and not any(b["type"] != "text" for b in content):
                content = "\n".join(b["text"] for b in content)
        oai["content"] = content
        if message.content and not oai["content"] and tool_messages:
            out.extend(tool_messages)
        else:
            out.extend([oai, *tool_messages])
    return out[0] if single else out


def count_tokens_approximately(
    messages: Iterable[Any], *, chars_per_token: float = 4.0, extra_tokens_per_message: float = 3.0,
    count_name: bool = True, tokens_per_image: int = 85, use_usage_metadata_scaling: bool = False,
    tools: Optional[list] = None,
) -> int:
    """An estimate of the messages' token count, as LangChain's: characters of
    text (other blocks by their ``repr``, images ``tokens_per_image``), tool
    calls, tool call id, OpenAI role and name, divided by ``chars_per_token``
    and rounded up per message, plus ``extra_tokens_per_message`` each; tool
    schemas (dicts, or tools with ``name``/``description``/``tool_call_schema``)
    count by their JSON length. ``use_usage_metadata_scaling`` scales the total
    by the last AI message's reported ``total_tokens`` (factor 1 to 1.25) when
    all AI messages come from one ``model_provider``."""
    msgs = convert_to_messages(messages)
    count = 0.0
    if tools:
        chars = sum(len(json.dumps(_tool_dict(t))) for t in tools)
        count += math.ceil(chars / chars_per_token)
    provider: Optional[str] = None
    mixed = False
    last_total: Optional[int] = None
    count_at_last: Optional[float] = None
    for message in msgs:
        chars = 0
        if isinstance(message.content, str):
            chars += len(message.content)
        else:
            for block in message.content:
                if isinstance(block, str):
                    chars += len(block)
                elif isinstance(block, dict) and block.get("type", "") in ("image", "image_url"):
                    count += tokens_per_image
                elif isinstance(block, dict) and block.get("type", "") == "text":
                    chars += len(block.get("text", ""))
                else:
                    chars += len(repr(block))
        if isinstance(message, AIMessage) and not isinstance(message.content, list) and message.tool_calls:
            chars += len(repr(message.tool_calls))
        if isinstance(message, ToolMessage):
            chars += len(message.tool_call_id)
        chars += len(_openai_role(message))
        if message.name and count_name:
            chars += len(message.name)
        count += math.ceil(chars / chars_per_token) + extra_tokens_per_message
        if use_usage_metadata_scaling and isinstance(message, AIMessage):
            model_provider = message.response_metadata.get("model_provider")
            if provider is None:
                provider = model_provider
            elif model_provider != provider:
                mixed = True
            total = (message.usage_metadata or {}).get("total_tokens")
            if isinstance(total, int):
                last_total, count_at_last = total, count
    if (use_usage_metadata_scaling and len(msgs) > 1 and not mixed and provider is not None
            and last_total is not None and count_at_last):
        count *= min(1.25, max(1.0, last_total / count_at_last))
    return math.ceil(count)


def _tool_dict(tool: Any) -> dict[str, Any]:
    if isinstance(tool, dict):
        return tool
    schema = tool.tool_call_schema
    parameters = dict(schema) if isinstance(schema, dict) else dict(schema.model_json_schema())
    parameters.pop("title", None)
    parameters.pop("description", None)
    return {"name": tool.name, "description": tool.description, "parameters": parameters}


def _approximate_token_counter(messages: Sequence[BaseMessage]) -> int:
    return count_tokens_approximately(messages)


_TOKEN_COUNTER_SHORTCUTS = {"approximate": _approximate_token_counter}
