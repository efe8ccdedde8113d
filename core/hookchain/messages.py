"""Chat messages and their streaming chunks (as ``langchain_core.messages``).

Messages are plain ``__slots__`` classes rather than pydantic models: building
one costs well under a microsecond, which matters on the streaming hot path
where LangChain validates every chunk. They keep LangChain's constructor
(``AIMessage("hi")`` or ``AIMessage(content="hi")``), attributes, equality,
``+`` merging of chunks, and the concise repr the seeds show
(``AIMessage(content='Meo', response_metadata={...}, id='run-...')``: fields at
their default are left out). ``message_to_dict`` / ``messages_from_dict`` give a
JSON-ready round trip.

Unknown keyword arguments raise ``TypeError`` naming the allowed ones
(LangChain silently accepts them).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional, Sequence, Union

__all__ = [
    "BaseMessage", "BaseMessageChunk", "SystemMessage", "SystemMessageChunk",
    "HumanMessage", "HumanMessageChunk", "AIMessage", "AIMessageChunk",
    "ToolMessage", "ToolMessageChunk", "FunctionMessage", "FunctionMessageChunk",
    "ChatMessage", "ChatMessageChunk", "AnyMessage", "convert_to_messages",
    "message_chunk_to_message", "message_to_dict", "messages_to_dict",
    "messages_from_dict", "get_buffer_string", "merge_content", "merge_dicts",
]

_dict = dict
_list = list


class BaseMessage:
    """A message: ``content`` (``str`` or a list of ``str``/content-block dicts)
    plus ``additional_kwargs``, ``response_metadata``, ``name`` and ``id``."""

    __slots__ = ("content", "additional_kwargs", "response_metadata", "name", "id")
    type: str = "base"
    #: (field, default factory or None) in repr order, ``content`` first.
    _fields: tuple[tuple[str, Any], ...] = (
        ("content", None),
        ("additional_kwargs", _dict),
        ("response_metadata", _dict),
        ("name", None),
        ("id", None),
    )
    _required: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._prepare()

    @classmethod
    def _prepare(cls) -> None:
        # Generate, once per class, a function that sets every field but
        # ``content`` to its default (as dataclasses generate __init__): a
        # message is built on every streamed chunk.
        lines, env = [], {}
        for i, (field, factory) in enumerate(cls._fields[1:]):
            env[f"f{i}"] = factory
            lines.append(f"    self.{field} = f{i}()" if factory else f"    self.{field} = None")
        exec("def _set_defaults(self):\n" + ("\n".join(lines) or "    pass"), env)  # noqa: S102 - generated from field names
        cls._set_defaults = env["_set_defaults"]
        cls._field_names = frozenset(f for f, _ in cls._fields[1:])

    def __init__(self, content: Union[str, list] = "", **kwargs: Any) -> None:
        if type(content) is not str and not isinstance(content, (str, list)):
            raise TypeError(
                f"{type(self).__name__}.content must be a str or a list of content blocks, "
                f"got {type(content).__name__}"
            )
        self.content = content
        self._set_defaults()
        if kwargs:
            self._set_fields(kwargs)
        elif self._required:
            raise TypeError(f"{type(self).__name__} requires {self._required[0]!r}")

    def _set_fields(self, kwargs: dict[str, Any]) -> None:
        if "content" in kwargs:
            if self.content != "":
                raise TypeError(f"{type(self).__name__} got content twice")
            content = kwargs.pop("content")
            if not isinstance(content, (str, list)):
                raise TypeError(
                    f"{type(self).__name__}.content must be a str or a list of content blocks, "
                    f"got {type(content).__name__}"
                )
            self.content = content
        unknown = [k for k in kwargs if k not in self._field_names]
        if unknown:
            allowed = ", ".join(f for f, _ in self._fields)
            raise TypeError(f"{type(self).__name__} got unexpected field(s) {sorted(unknown)}; allowed: {allowed}")
        for field in self._required:
            if field not in kwargs:
                raise TypeError(f"{type(self).__name__} requires {field!r}")
        for field, value in kwargs.items():
            setattr(self, field, value)

    # -- LangChain-compatible accessors ------------------------------------- #
    @property
    def text(self) -> str:
        """The text of ``content``: the string itself, or the text blocks joined."""
        c = self.content
        if isinstance(c, str):
            return c
        return "".join(
            b if isinstance(b, str) else b.get("text", "")
            for b in c
            if isinstance(b, str) or b.get("type") == "text"
        )

    def _values(self) -> Iterable[tuple[str, Any]]:
        for field, factory in self._fields:
            value = getattr(self, field)
            if field == "content" or value != (factory() if factory else None):
                yield field, value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._values())})"

    def __str__(self) -> str:
        return " ".join(f"{k}={v!r}" for k, v in self._values())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f, _ in self._fields)

    __hash__ = None  # type: ignore[assignment]  # mutable, as LangChain's

    def model_dump(self) -> dict[str, Any]:
        """All fields as a dict, plus ``type`` (as pydantic's ``model_dump``)."""
        data = {f: getattr(self, f) for f, _ in self._fields}
        data["type"] = self.type
        return data

    dict = model_dump

    def model_copy(self, *, update: Optional[dict[str, Any]] = None) -> "BaseMessage":
        """A shallow copy with ``update`` applied."""
        data = {f: getattr(self, f) for f, _ in self._fields}
        if update:
            data.update(update)
        return type(self)(**data)

    def pretty_repr(self) -> str:
        """A readable block: a title line with the role, then the content."""
        title = f" {self.type.title()} Message "
        return f"{title:=^80}\n{'Name: ' + self.name + chr(10) if self.name else ''}\n{self.text}"

    def pretty_print(self) -> None:
        print(self.pretty_repr())


BaseMessage._prepare()


class BaseMessageChunk(BaseMessage):
    """A streamed piece of a message; ``a + b`` merges two chunks of one type."""

    __slots__ = ()

    def __add__(self, other: Any) -> "BaseMessageChunk":
        if isinstance(other, BaseMessageChunk):
            return _merge_chunks(self, (other,))
        if isinstance(other, (list, tuple)) and all(isinstance(o, BaseMessageChunk) for o in other):
            return _merge_chunks(self, other)
        return NotImplemented


def _pick_id(ids: Iterable[Optional[str]]) -> Optional[str]:
    # As LangChain: a provider's id wins over a framework-assigned "run-" id.
    candidates = [i for i in ids if i]
    for i in candidates:
        if not i.startswith("run-"):
            return i
    return candidates[0] if candidates else None


def _merge_chunks(first: BaseMessageChunk, others: Sequence[BaseMessageChunk]) -> BaseMessageChunk:
    for o in others:
        if type(o).__name__ != type(first).__name__ and not isinstance(o, type(first)):
            raise TypeError(f"cannot add {type(o).__name__} to {type(first).__name__}")
    data: dict[str, Any] = {}
    allm = (first, *others)
    data["content"] = merge_content(first.content, *(o.content for o in others))
    data["additional_kwargs"] = merge_dicts(first.additional_kwargs, *(o.additional_kwargs for o in others))
    data["response_metadata"] = merge_dicts(first.response_metadata, *(o.response_metadata for o in others))
    data["id"] = _pick_id(m.id for m in allm)
    data["name"] = next((m.name for m in allm if m.name), None)
    for field, factory in first._fields:
        if field in data:
            continue
        merger = _FIELD_MERGERS.get(field)
        values = [getattr(m, field) for m in allm]
        if merger is not None:
            data[field] = merger(values)
        else:
            data[field] = next((v for v in values if v not in (None, "", [], {})), values[0])
    return type(first)(**data)


# --------------------------------------------------------------------------- #
# Concrete message types
# --------------------------------------------------------------------------- #


class SystemMessage(BaseMessage):
    """Primes the model's behaviour; usually the first message."""

    __slots__ = ()
    type = "system"


class SystemMessageChunk(SystemMessage, BaseMessageChunk):
    __slots__ = ()
    type = "SystemMessageChunk"


class HumanMessage(BaseMessage):
    """A message from the person talking to the model."""

    __slots__ = ()
    type = "human"


class HumanMessageChunk(HumanMessage, BaseMessageChunk):
    __slots__ = ()
    type = "HumanMessageChunk"


class AIMessage(BaseMessage):
    """A message from the model, with ``tool_calls`` and ``usage_metadata``
    (``{"input_tokens": int, "output_tokens": int, "total_tokens": int}``)."""

    __slots__ = ("tool_calls", "invalid_tool_calls", "usage_metadata")
    type = "ai"
    _fields = BaseMessage._fields + (
        ("tool_calls", _list),
        ("invalid_tool_calls", _list),
        ("usage_metadata", None),
    )


class AIMessageChunk(AIMessage, BaseMessageChunk):
    """A streamed piece of an AI message; ``tool_call_chunks`` merge by ``index``.

    As LangChain, ``tool_calls``/``invalid_tool_calls`` are derived from
    ``tool_call_chunks`` when there are any (partial JSON arguments parsed as
    far as they go), so the sum of a stream's chunks carries the parsed calls.
    """

    __slots__ = ("tool_call_chunks",)
    type = "AIMessageChunk"
    _fields = AIMessage._fields + (("tool_call_chunks", _list),)

    def __init__(self, content: Union[str, list] = "", **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        if self.tool_call_chunks:
            self.tool_calls, self.invalid_tool_calls = _tool_calls_from_chunks(self.tool_call_chunks)


def _parse_partial_json(text: str) -> Any:
    """``json.loads``, completing a truncated document first (as LangChain's
    ``parse_partial_json``): open strings and brackets are closed, and trailing
    characters dropped until it parses. Raises ``ValueError`` if nothing does."""
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    chars: list[str] = []
    closers: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            if char == '"' and not escaped:
                in_string = False
            elif char == "\\":
                escaped = not escaped
                chars.append(char)
                continue
            elif char == "\n" and not escaped:
                char = "\\n"
            escaped = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            closers.append("}" if char == "{" else "]")
        elif char in "}]":
            if not closers or closers.pop() != char:
                raise ValueError(f"mismatched {char!r} in {text!r}")
        chars.append(char)
    if in_string:
        if escaped:
            chars.pop()
        chars.append('"')
    tail = "".join(reversed(closers))
    while chars:
        try:
            return json.loads("".join(chars) + tail, strict=False)
        except ValueError:
            chars.pop()
    raise ValueError(f"not JSON: {text!r}")


def _tool_calls_from_chunks(chunks: list) -> tuple[list, list]:
    calls: list = []
    invalid: list = []
    for chunk in chunks:
        args = chunk.get("args")
        try:
            parsed = _parse_partial_json(args) if args else {}
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            calls.append({"name": chunk.get("name") or "", "args": parsed, "id": chunk.get("id"), "type": "tool_call"})
        else:
            invalid.append({"name": chunk.get("name"), "args": args, "id": chunk.get("id"), "error": None, "type": "invalid_tool_call"})
    return calls, invalid


class ToolMessage(BaseMessage):
    """The result of a tool call, sent back to the model (``tool_call_id`` required)."""

    __slots__ = ("tool_call_id", "artifact", "status")
    type = "tool"
    _fields = BaseMessage._fields + (("tool_call_id", None), ("artifact", None), ("status", lambda: "success"))
    _required = ("tool_call_id",)


class ToolMessageChunk(ToolMessage, BaseMessageChunk):
    __slots__ = ()
    type = "ToolMessageChunk"


class FunctionMessage(BaseMessage):
    """The result of a function call (OpenAI's legacy ``function`` role); ``name`` required."""

    __slots__ = ()
    type = "function"
    _required = ("name",)


class FunctionMessageChunk(FunctionMessage, BaseMessageChunk):
    __slots__ = ()
    type = "FunctionMessageChunk"


class ChatMessage(BaseMessage):
    """A message with an arbitrary ``role``."""

    __slots__ = ("role",)
    type = "chat"
    _fields = BaseMessage._fields + (("role", None),)
    _required = ("role",)


class ChatMessageChunk(ChatMessage, BaseMessageChunk):
    __slots__ = ()
    type = "ChatMessageChunk"


AnyMessage = Union[
    AIMessage, HumanMessage, ChatMessage, SystemMessage, FunctionMessage, ToolMessage,
    AIMessageChunk, HumanMessageChunk, ChatMessageChunk, SystemMessageChunk,
    FunctionMessageChunk, ToolMessageChunk,
]

_BY_TYPE: dict[str, type[BaseMessage]] = {
    cls.type: cls
    for cls in (
        SystemMessage, HumanMessage, AIMessage, ToolMessage, FunctionMessage, ChatMessage,
        SystemMessageChunk, HumanMessageChunk, AIMessageChunk, ToolMessageChunk,
        FunctionMessageChunk, ChatMessageChunk,
    )
}
_CHUNK_TO_MESSAGE = {
    SystemMessageChunk: SystemMessage, HumanMessageChunk: HumanMessage, AIMessageChunk: AIMessage,
    ToolMessageChunk: ToolMessage, FunctionMessageChunk: FunctionMessage, ChatMessageChunk: ChatMessage,
}
_ROLES = {
    "human": HumanMessage, "user": HumanMessage, "ai": AIMessage, "assistant": AIMessage,
    "system": SystemMessage, "developer": SystemMessage, "tool": ToolMessage, "function": FunctionMessage,
}


# --------------------------------------------------------------------------- #
# Merging (as langchain_core.utils._merge)
# --------------------------------------------------------------------------- #


def merge_content(first: Union[str, list], *others: Union[str, list]) -> Union[str, list]:
    """Concatenate message contents: strings join; lists merge blocks that share
    an ``index`` and append the rest; a string meeting a list joins the list's
    last string element or is appended."""
    if isinstance(first, str) and all(isinstance(c, str) for c in others):
        return first + "".join(others)  # linear, not quadratic, in the chunk count
    merged = first
    for content in others:
        if isinstance(merged, str) and isinstance(content, str):
            merged = merged + content
        elif isinstance(merged, str):
            merged = ([merged] if merged else []) + list(content)
        elif isinstance(content, list):
            merged = merge_lists(merged, content)
        elif merged and isinstance(merged[-1], str):
            merged = [*merged[:-1], merged[-1] + content]
        elif content:
            merged = [*merged, content]
    return merged


def merge_dicts(left: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    """Merge metadata dicts as LangChain does: strings concatenate, dicts merge
    recursively, lists merge by element ``index``, equal values stay, and a
    ``None`` on either side yields the other."""
    merged = dict(left)
    for right in others:
        for key, value in right.items():
            old = merged.get(key)
            if key not in merged or old is None:
                merged[key] = value
            elif value is None or old == value:
                continue
            elif isinstance(old, str) and isinstance(value, str):
                merged[key] = value if key in ("type", "index", "id") and value == old else old + value
            elif isinstance(old, dict) and isinstance(value, dict):
                merged[key] = merge_dicts(old, value)
            elif isinstance(old, list) and isinstance(value, list):
                merged[key] = merge_lists(old, value)
            elif isinstance(old, (int, float)) and isinstance(value, (int, float)) and key != "index":
                merged[key] = old + value
            else:
                raise TypeError(
                    f"cannot merge metadata key {key!r}: {type(old).__name__} {old!r} "
                    f"and {type(value).__name__} {value!r}"
                )
    return merged


def merge_lists(left: list, right: list) -> list:
    """Append ``right`` to ``left``, merging dict elements that carry the same ``index``."""
    merged = list(left)
    for item in right:
        if isinstance(item, dict) and "index" in item:
            for i, existing in enumerate(merged):
                if isinstance(existing, dict) and existing.get("index") == item["index"]:
                    merged[i] = merge_dicts(existing, {k: v for k, v in item.items() if k != "type"})
                    break
            else:
                merged.append(item)
        else:
            merged.append(item)
    return merged


def _merge_usage(values: list[Optional[dict[str, Any]]]) -> Optional[dict[str, Any]]:
    present = [v for v in values if v]
    if not present:
        return None
    total: dict[str, Any] = {}
    for usage in present:
        for key, value in usage.items():
            if isinstance(value, dict):
                total[key] = _merge_usage([total.get(key), value])
            else:
                total[key] = total.get(key, 0) + value
    return total


def _merge_tool_call_chunks(values: list[list]) -> list:
    merged: list = []
    for chunk_list in values:
        merged = merge_lists(merged, chunk_list)
    return merged


_FIELD_MERGERS = {
    "usage_metadata": _merge_usage,
    "tool_call_chunks": _merge_tool_call_chunks,
    "tool_calls": lambda values: [c for v in values for c in v],
    "invalid_tool_calls": lambda values: [c for v in values for c in v],
}


# --------------------------------------------------------------------------- #
# Conversions
# --------------------------------------------------------------------------- #


def message_chunk_to_message(chunk: BaseMessage) -> BaseMessage:
    """The complete-message type for ``chunk`` (``AIMessageChunk`` -> ``AIMessage``);
    non-chunks are returned as they are."""
    target = _CHUNK_TO_MESSAGE.get(type(chunk))
    if target is None:
        return chunk
    data = {f: getattr(chunk, f) for f, _ in target._fields}
    return target(**data)


def _coerce(obj: Any) -> BaseMessage:
    if isinstance(obj, BaseMessage):
        return obj
    if isinstance(obj, str):
        return HumanMessage(obj)
    if isinstance(obj, (tuple, list)) and len(obj) == 2 and isinstance(obj[0], str):
        role, content = obj
        cls = _ROLES.get(role)
        if cls is None:
            raise ValueError(f"unknown message role {role!r}; use one of: {', '.join(sorted(_ROLES))}")
        return cls(content) if cls not in (ToolMessage, FunctionMessage) else cls(content, name=role)
    if isinstance(obj, dict):
        data = dict(obj)
        role = data.pop("role", None) or data.pop("type", None)
        cls = _ROLES.get(role) or _BY_TYPE.get(role)  # type: ignore[arg-type]
        if cls is None:
            raise ValueError(
                f"cannot build a message from dict with role/type {role!r}; "
                f"use one of: {', '.join(sorted(_ROLES))}"
            )
        return cls(**data)
    raise TypeError(
        f"cannot convert {type(obj).__name__} to a message; pass a message, a str, "
        f"a (role, content) tuple or a {{'role': ..., 'content': ...}} dict"
    )


def convert_to_messages(messages: Union[Iterable[Any], Any]) -> list[BaseMessage]:
    """Messages from messages, strings (human), ``(role, content)`` tuples or
    ``{"role": ..., "content": ...}`` dicts. Raises ``TypeError``/``ValueError``
    naming the item that cannot be converted."""
    if hasattr(messages, "to_messages"):
        return messages.to_messages()
    return [_coerce(m) for m in messages]


def message_to_dict(message: BaseMessage) -> dict[str, Any]:
    """``{"type": ..., "data": {fields}}``, as LangChain's ``message_to_dict``."""
    data = message.model_dump()
    return {"type": data.pop("type"), "data": data}


def messages_to_dict(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    return [message_to_dict(m) for m in messages]


def messages_from_dict(messages: Sequence[dict[str, Any]]) -> list[BaseMessage]:
    """Inverse of ``messages_to_dict``; an unknown ``type`` raises ``ValueError``."""
    out = []
    for item in messages:
        cls = _BY_TYPE.get(item.get("type", ""))
        if cls is None:
            raise ValueError(f"unknown message type {item.get('type')!r}; known: {sorted(_BY_TYPE)}")
        out.append(cls(**item["data"]))
    return out


_PREFIXES = {"human": "Human", "ai": "AI", "system": "System", "function": "Function", "tool": "Tool"}


def get_buffer_string(messages: Sequence[BaseMessage], human_prefix: str = "Human", ai_prefix: str = "AI") -> str:
    """Render messages as ``"Human: ...\\nAI: ..."`` lines (as LangChain's)."""
    lines = []
    for m in messages:
        base = m.type.replace("MessageChunk", "").lower()
        prefix = human_prefix if base == "human" else ai_prefix if base == "ai" else (
            getattr(m, "role", None) or _PREFIXES.get(base, base.title())
        )
        lines.append(f"{prefix}: {m.text}")
    return "\n".join(lines)
