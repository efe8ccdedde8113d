"""The message base classes (as ``langchain_core.messages.base``).

Messages are plain ``__slots__`` classes rather than pydantic models. Each
class gets a generated ``__init__`` (as dataclasses generate theirs) with one
keyword per field, so building a chunk costs about a microsecond on the
streaming hot path where LangChain validates every chunk. They keep LangChain's
constructor (``AIMessage("hi")``, ``AIMessage(content="hi")``,
``content_blocks=[...]``, ``type=`` equal to the class's), attributes,
equality, ``model_dump``/``model_copy``, ``+`` merging of chunks, and the
concise repr the seeds show (fields at their default are left out).

Unknown keyword arguments raise ``InvalidMessageError`` (a ``TypeError`` and a
``ValueError``) naming the allowed ones; LangChain silently keeps them.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Sequence, Union

from hookchain import _upcalls
from hookchain.errors import InvalidMessageError
from hookchain.messages._merge import merge_dicts, merge_lists

if TYPE_CHECKING:
    from hookchain.prompts import ChatPromptTemplate

__all__ = [
    "BaseMessage", "BaseMessageChunk", "merge_content", "message_to_dict", "messages_to_dict",
    "get_msg_title_repr",
]

_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<required>"})()


def _validate_when(condition: str) -> Callable[[Any], Any]:
    """Marks a message class's ``_validate`` hook with when it has work to do:
    ``condition``, a Python expression over the constructor's arguments (as
    given; ``None`` for a field left at its default). The generated
    ``__init__`` calls the hook only then (a chunk is built per streamed
    token). A subclass overriding ``_validate`` without a mark is always called."""
    def mark(method: Any) -> Any:
        method._hc_when = condition
        return method
    return mark


class _MissingFieldError(InvalidMessageError, KeyError):
    """A required field was not given (also a ``KeyError``, as LangChain's
    ``ToolMessage`` raises for a missing ``tool_call_id``)."""
#: How a field gets its default: a factory called per message (``dict``/``list``),
#: or the value itself.
_FACTORIES = (dict, list)

Content = Union[str, list]


class TextAccessor(str):
    """The ``str`` that ``message.text`` returns; calling it (``message.text()``,
    LangChain's pre-1.0 method form) returns the same text with a
    ``DeprecationWarning``, as LangChain 1.x does."""

    __slots__ = ()

    def __call__(self) -> str:
        import warnings

        warnings.warn("calling message.text() is deprecated; read message.text (a property) instead",
                      DeprecationWarning, stacklevel=2)
        return str(self)


class BaseMessage:
    """A message: ``content`` (``str``, or a list of ``str`` and content-block
    dicts) plus ``additional_kwargs`` and ``response_metadata`` (dicts), ``name``
    and ``id`` (``str`` or ``None``); as LangChain's ``BaseMessage``."""

    __slots__ = ("content", "additional_kwargs", "response_metadata", "name", "id")
    type: str = "base"
    #: ``(field, default)``, ``content`` first, in LangChain's ``model_dump``
    #: order; ``dict``/``list`` defaults are factories, ``_MISSING`` = required.
    _fields: tuple[tuple[str, Any], ...] = (
        ("content", ""),
        ("additional_kwargs", dict),
        ("response_metadata", dict),
        ("name", None),
        ("id", None),
    )
    #: A hook run at the end of ``__init__`` (tool-call normalisation...).
    _validate: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._prepare()

    @classmethod
    def _prepare(cls) -> None:
        # One generated __init__ per class: keyword arguments with defaults are
        # much cheaper than a **kwargs loop, and a chunk is built per token.
        params, body, env = [], [], {"_MISSING": _MISSING, "_coerce_id": _coerce_id, "_cls_type": cls.type}
        for field, default in cls._fields[1:]:
            if default in _FACTORIES:
                params.append(f"{field}=None")
                body.append(f"self.{field} = {'{}' if default is dict else '[]'} if {field} is None else {field}")
            elif default is _MISSING:
                params.append(f"{field}=_MISSING")
                body.append(f"if {field} is _MISSING: self._missing({field!r})")
                body.append(f"self.{field} = {field}")
            else:
                env[f"_d_{field}"] = default
                params.append(f"{field}=_d_{field}")
                body.append("self.id = id if id is None or id.__class__ is str else _coerce_id(id)"
                            if field == "id" else f"self.{field} = {field}")
        source = (
            f"def __init__(self, content='', content_blocks=None, *, {', '.join(params)}, type=None, **unknown):\n"
            "    if unknown: self._unknown(unknown)\n"
            "    if content_blocks is not None:\n"
            "        content = content_blocks\n"
            # As LangChain's AIMessage: tool-call blocks are the tool calls unless given.
            + ("        if tool_calls is None:\n"
               "            tool_calls = [b for b in content_blocks if b.get('type') == 'tool_call'] or None\n"
               if "tool_calls" in dict(cls._fields) else "")
            + "    self.content = content if content.__class__ is str else self._coerce_content(content)\n"
            + "".join(f"    {line}\n" for line in body)
            + "    if type is not None and type != _cls_type: self._wrong_type(type)\n"
            + ("" if cls._validate is None else
               f"    if {cls._validate._hc_when}: self._validate()\n" if hasattr(cls._validate, "_hc_when") else
               "    self._validate()\n")
        )
        exec(source, env)  # noqa: S102 - generated from the class's own field names
        init = env["__init__"]
        init.__qualname__ = f"{cls.__name__}.__init__"
        init.__doc__ = cls.__doc__
        cls._init_fields = init  # for a class with its own __init__ (RemoveMessage, users' subclasses)
        if "__init__" not in cls.__dict__:
            cls.__init__ = init  # type: ignore[method-assign]
        cls._field_names = tuple(f for f, _ in cls._fields)

    # -- construction errors and coercions (off the hot path) ---------------- #
    def _unknown(self, unknown: dict[str, Any]) -> None:
        raise InvalidMessageError(
            f"{type(self).__name__} got unexpected field(s) {sorted(unknown)}; "
            f"allowed: {', '.join(self._field_names)}"
        )

    def _missing(self, field: str) -> None:
        raise _MissingFieldError(f"{type(self).__name__} requires {field!r}")

    def _wrong_type(self, given: Any) -> None:
        raise InvalidMessageError(
            f"{type(self).__name__} got type={given!r}; its type is {self.type!r} (leave type out)"
        )

    def _coerce_content(self, content: Any) -> Content:
        if isinstance(content, str):
            return content
        if isinstance(content, list) and all(isinstance(b, (str, dict)) for b in content):
            return content
        raise InvalidMessageError(
            f"{type(self).__name__}.content must be a str or a list of str/dict content blocks, "
            f"got {type(content).__name__}"
            + (f" holding {type(next(b for b in content if not isinstance(b, (str, dict)))).__name__}"
               if isinstance(content, list) else "")
        )

    # -- LangChain-compatible accessors ------------------------------------- #
    @property
    def text(self) -> TextAccessor:
        """The text of ``content``: the string itself, or its ``str`` items and
        the ``text`` of its ``{"type": "text"}`` blocks joined (as LangChain's)."""
        c = self.content
        if isinstance(c, str):
            return TextAccessor(c)
        return TextAccessor("".join(
            b if isinstance(b, str) else b["text"]
            for b in c
            if isinstance(b, str) or (b.get("type") == "text" and isinstance(b.get("text"), str))
        ))

    def _non_defaults(self) -> Iterable[tuple[str, Any]]:
        yield "content", self.content
        for field, default in self._fields[1:]:
            value = getattr(self, field)
            if value != (default() if default in _FACTORIES else default):
                yield field, value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._non_defaults())})"

    def __str__(self) -> str:
        return " ".join(f"{k}={v!r}" for k, v in self._non_defaults())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._field_names)

    __hash__ = None  # type: ignore[assignment]  # mutable, as LangChain's

    def __add__(self, other: Any) -> "ChatPromptTemplate":
        """A ``ChatPromptTemplate`` of this message followed by ``other`` (as LangChain's)."""
        return _upcalls.chat_prompt([self]) + other

    def model_dump(
        self, *, include: Optional[Iterable[str]] = None, exclude: Optional[Iterable[str]] = None,
        exclude_none: bool = False, exclude_defaults: bool = False, **_: Any,
    ) -> dict[str, Any]:
        """The fields and ``type`` as a dict of copied containers, in LangChain's
        key order (as pydantic's ``model_dump``); ``include``/``exclude`` are
        sets of field names. Other pydantic arguments are accepted and ignored."""
        data: dict[str, Any] = {}
        defaults = dict(self._fields[1:])
        for field in self._field_names[:3] + ("type",) + self._field_names[3:]:
            value = self.type if field == "type" else getattr(self, field)
            if (include is not None and field not in include) or (exclude is not None and field in exclude):
                continue
            if (exclude_none and value is None) or (
                exclude_defaults and field in defaults
                and value == (defaults[field]() if defaults[field] in _FACTORIES else defaults[field])
            ):
                continue
            value = _copy_containers(value)
            if exclude_none and field in _TYPED_DICT_FIELDS and value:
                # As pydantic: None values inside typed dicts go too (not inside plain dicts).
                value = _without_none(value) if isinstance(value, dict) else [_without_none(v) for v in value]
            data[field] = value
        return data

    dict = model_dump

    def model_copy(self, *, update: Optional[dict[str, Any]] = None, deep: bool = False) -> "BaseMessage":
        """A copy (``deep=True``: ``copy.deepcopy``) with ``update``'s fields set
        as given, not validated (as pydantic's ``model_copy``). An unknown field
        in ``update`` raises ``InvalidMessageError``."""
        new = copy.deepcopy(self) if deep else copy.copy(self)
        if update:
            unknown = {k: v for k, v in update.items() if k not in self._field_names}
            if unknown:
                self._unknown(unknown)
            for field, value in update.items():
                setattr(new, field, value)
        return new

    def pretty_repr(self, html: bool = False) -> str:
        """A title line with the role, the name if any, then the content (as LangChain's)."""
        title = get_msg_title_repr(self.type.title() + " Message", bold=html)
        if self.name is not None:
            title += f"\nName: {self.name}"
        return f"{title}\n\n{self.content}"

    def pretty_print(self) -> None:
        print(self.pretty_repr())


_TYPED_DICT_FIELDS = frozenset(("tool_calls", "invalid_tool_calls", "tool_call_chunks", "usage_metadata"))


def _without_none(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


def _copy_containers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_containers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_containers(v) for v in value]
    return value


def _coerce_id(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise InvalidMessageError(f"message id must be a str (or a number, turned into one), got {type(value).__name__}")


def get_msg_title_repr(title: str, *, bold: bool = False) -> str:
    """``title`` centred in an 80-column ``=`` rule (bold: ANSI bold), as LangChain's."""
    padded = f" {title} "
    sep = "=" * ((80 - len(padded)) // 2)
    second = sep + "=" if len(padded) % 2 else sep
    if bold:
        padded = f"\033[1m{padded}\033[0m"
    return f"{sep}{padded}{second}"


BaseMessage._prepare()


class BaseMessageChunk(BaseMessage):
    """A streamed piece of a message; ``a + b`` (or ``a + [b, c]``) merges chunks
    as LangChain does: contents with ``merge_content``, ``additional_kwargs`` and
    ``response_metadata`` with LangChain's dict-merge rules. Unlike LangChain,
    the sum keeps the first ``name`` and ``id`` that is not ``None`` (LangChain
    drops the name and takes the left id; AI chunks rank ids, see ``ai``).

    Adding a chunk of another class raises ``TypeError`` (LangChain returns the
    left class, silently), except onto a ``ChatMessageChunk`` as LangChain;
    anything else than chunks gives Python's ``TypeError``."""

    __slots__ = ()

    def __add__(self, other: Any) -> "BaseMessageChunk":  # type: ignore[override]
        if isinstance(other, BaseMessageChunk):
            others: Sequence[BaseMessageChunk] = (other,)
        elif isinstance(other, (list, tuple)) and all_of_class(other, BaseMessageChunk):
            others = other
        else:
            return NotImplemented
        if type(self)._check_addable is BaseMessageChunk._check_addable:  # a class check: one chunk per class
            others_to_check: Iterable[BaseMessageChunk] = dict(zip(map(type, others), others)).values()
        else:
            others_to_check = others
        for o in others_to_check:
            self._check_addable(o)
        return self._merge(others)

    def _check_addable(self, other: "BaseMessageChunk") -> None:
        if not (isinstance(other, type(self)) or isinstance(self, type(other))):  # subclasses of one class add
            raise TypeError(
                f"cannot add {type(other).__name__} to {type(self).__name__}: "
                "only chunks of one message type merge"
            )

    def _merged_fields(self, others: Sequence["BaseMessageChunk"]) -> dict[str, Any]:
        return {
            "content": merge_content(self.content, *[o.content for o in others]),
            "additional_kwargs": merge_dicts(self.additional_kwargs, *[d for o in others if (d := o.additional_kwargs)]),
            "response_metadata": merge_dicts(self.response_metadata, *[d for o in others if (d := o.response_metadata)]),
            "name": _first_set(self.name, [o.name for o in others]),
            "id": _first_set(self.id, [o.id for o in others]),
        }

    def _merge(self, others: Sequence["BaseMessageChunk"]) -> "BaseMessageChunk":
        return type(self)(**self._merged_fields(others))


def all_of_class(items: Iterable[Any], cls: type) -> bool:
    """Whether every item is an instance of ``cls`` (checked once per item class)."""
    return all(issubclass(kind, cls) for kind in set(map(type, items)))


def _first_set(value: Any, others: list[Any]) -> Any:
    # Deliberately unlike LangChain 1.7.2, which drops ``name`` and a later
    # chunk's ``id`` (langchain-ai/langchain#40677): the first one not None.
    if value is not None or others.count(None) == len(others):
        return value
    return next(v for v in others if v is not None)


def merge_content(first_content: Content, *contents: Content) -> Content:
    """Concatenate message contents as LangChain's ``merge_content``: strings
    join; a string followed by a list becomes ``[string, *list]`` (even an empty
    string); lists merge with blocks sharing an ``index`` merged; a string after
    a list extends the list's last string item, else is appended (an empty
    string is dropped). ``first_content`` is not modified."""
    if first_content.__class__ is str:
        try:
            return first_content + "".join(contents)  # linear, not quadratic, in the chunk count
        except TypeError:  # a list among them: merged one by one below
            pass
    merged: Any = "" if first_content is None else first_content
    if isinstance(merged, list):
        merged = list(merged)
    for content in contents:
        if isinstance(merged, str):
            merged = merged + content if isinstance(content, str) else [merged, *content]
        elif isinstance(content, list):
            merged = merge_lists(merged, content)
        elif merged and isinstance(merged[-1], str):
            merged[-1] += content
        elif content != "" and merged:
            merged.append(content)
    return merged


def message_to_dict(message: BaseMessage) -> dict[str, Any]:
    """``{"type": message.type, "data": message.model_dump()}`` (``data`` holds
    ``type`` too), as LangChain's ``message_to_dict``."""
    return {"type": message.type, "data": message.model_dump()}


def messages_to_dict(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """``message_to_dict`` of each message."""
    return [message_to_dict(m) for m in messages]
