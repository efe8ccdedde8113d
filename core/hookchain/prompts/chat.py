"""Chat prompt templates (as ``langchain_core.prompts.chat``): message
templates, ``MessagesPlaceholder`` and ``ChatPromptTemplate``.

``ChatPromptTemplate.from_messages`` takes what LangChain takes: a str (a human
message template), ``(role, template)`` with role ``human``/``user``,
``ai``/``assistant``, ``system`` or ``placeholder``; ``(MessageClass,
template)``; ``(MessagePromptTemplateClass, template)``; ``{"role": ...,
"content": ...}``; a message (kept as is); a message template;
a ``ChatPromptTemplate`` (its messages are formatted in place);
``MessagesPlaceholder``. A template may be a list of parts (``"text"``,
``{"type": "text", "text": ...}``, ``{"type": "image_url", "image_url": ...}``
or any dict), each formatted into a content block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Optional, Sequence, Union

from hookchain.errors import PromptInputError, TemplateError
from hookchain.messages import AIMessage, BaseMessage, ChatMessage, HumanMessage, SystemMessage, convert_to_messages
from hookchain.messages.base import get_msg_title_repr
from hookchain.prompt_values import ChatPromptValue
from hookchain.prompts.base import BasePromptTemplate
from hookchain.prompts.dict import DictPromptTemplate
from hookchain.prompts.image import ImagePromptTemplate
from hookchain.prompts.message import BaseMessagePromptTemplate
from hookchain.prompts.prompt import PromptTemplate
from hookchain.prompts.string import StringPromptTemplate, get_template_variables

__all__ = [
    "MessagesPlaceholder", "BaseStringMessagePromptTemplate", "ChatMessagePromptTemplate",
    "HumanMessagePromptTemplate", "AIMessagePromptTemplate", "SystemMessagePromptTemplate",
    "BaseChatPromptTemplate", "ChatPromptTemplate", "MessageLike", "MessageLikeRepresentation",
]


class MessagesPlaceholder(BaseMessagePromptTemplate):
    """Stands for a list of messages passed in variable ``variable_name`` (as LangChain's).

    Args:
        variable_name: the variable holding the messages (a list of messages or
            of anything ``convert_to_messages`` takes: ``("ai", "hi")``, dicts, str).
        optional: may be left out (then no messages); not an input variable.
        n_messages: keep only the last ``n_messages`` (a positive int).
    """

    _args = ("variable_name", "optional", "n_messages")

    def __init__(self, variable_name: str, *, optional: bool = False, n_messages: Optional[int] = None) -> None:
        if not isinstance(variable_name, str):
            raise TemplateError(f"MessagesPlaceholder variable_name must be a str, got {type(variable_name).__name__}")
        if n_messages is not None and (type(n_messages) is not int or n_messages < 1):
            raise TemplateError(f"MessagesPlaceholder n_messages must be a positive int or None, got {n_messages!r}")
        self.variable_name = variable_name
        self.optional = optional
        self.n_messages = n_messages

    @property
    def input_variables(self) -> list[str]:
        return [] if self.optional else [self.variable_name]

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """The messages in ``kwargs[variable_name]``. Raises ``PromptInputError``
        when it is missing (not optional), ``ValueError`` when it is not a list."""
        name = self.variable_name
        if name in kwargs:
            value = kwargs[name]
        elif self.optional:
            return []
        else:
            raise PromptInputError("MessagesPlaceholder", [name], kwargs)
        if not isinstance(value, list):
            raise ValueError(
                f"variable {name!r} of a MessagesPlaceholder must be a list of messages, got {type(value).__name__}"
            )
        messages = convert_to_messages(value)
        return messages[-self.n_messages:] if self.n_messages else messages

    def pretty_repr(self, html: bool = False) -> str:
        return get_msg_title_repr("Messages Placeholder", bold=html) + "\n\n{" + self.variable_name + "}"


def _new_message(cls: type[BaseMessage], content: Any, additional_kwargs: dict[str, Any], **fields: Any) -> BaseMessage:
    if additional_kwargs:
        fields["additional_kwargs"] = dict(additional_kwargs)
    return cls(content, **fields)


class _OneMessage(BaseMessagePromptTemplate):
    """A template of one message: ``prompt`` (its content template) and
    ``additional_kwargs`` (copied into each message)."""

    _args = ("prompt", "additional_kwargs")

    def __init__(self, prompt: Any, *, additional_kwargs: Optional[dict[str, Any]] = None, input_variables: Any = None) -> None:
        self.prompt = prompt
        self.additional_kwargs = dict(additional_kwargs or {})

    @classmethod
    def from_template(cls, template: Any, template_format: str = "f-string", **kwargs: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def from_template_file(cls, template_file: Union[str, Path], input_variables: Optional[list[str]] = None,
                           **kwargs: Any) -> Any:
        """Build from the UTF-8 text of ``template_file`` (``input_variables`` is
        accepted and, as in LangChain, not used)."""
        return cls.from_template(Path(template_file).read_text(encoding="utf-8"), **kwargs)

    def format(self, **kwargs: Any) -> BaseMessage:
        raise NotImplementedError

    async def aformat(self, **kwargs: Any) -> BaseMessage:
        return self.format(**kwargs)

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        return [self.format(**kwargs)]

    async def aformat_messages(self, **kwargs: Any) -> list[BaseMessage]:
        return [await self.aformat(**kwargs)]


class BaseStringMessagePromptTemplate(_OneMessage):
    """A message whose content is one string template (``prompt``)."""

    @classmethod
    def from_template(cls, template: Any, template_format: str = "f-string",
                      partial_variables: Optional[dict[str, Any]] = None, **kwargs: Any) -> Any:
        """Build from a template string (as LangChain's ``from_template``)."""
        prompt = PromptTemplate.from_template(template, template_format=template_format, partial_variables=partial_variables)
        return cls(prompt=prompt, **kwargs)

    @property
    def input_variables(self) -> list[str]:
        return self.prompt.input_variables


class ChatMessagePromptTemplate(BaseStringMessagePromptTemplate):
    """A ``ChatMessage`` with an arbitrary ``role``."""

    _args = ("prompt", "additional_kwargs", "role")

    def __init__(self, prompt: StringPromptTemplate, *, role: str, **kwargs: Any) -> None:
        super().__init__(prompt, **kwargs)
        self.role = role

    def format(self, **kwargs: Any) -> BaseMessage:
        return _new_message(ChatMessage, self.prompt.format(**kwargs), self.additional_kwargs, role=self.role)


def _image_part(spec: Any, template_format: str) -> ImagePromptTemplate:
    if isinstance(spec, str):
        variables = get_template_variables(spec, template_format)
        if len(variables) > 1:
            raise TemplateError(f"an image url template may use one variable, got {variables} in {spec!r}")
        return ImagePromptTemplate({"url": spec}, template_format=template_format)
    if isinstance(spec, dict):
        return ImagePromptTemplate(dict(spec), template_format=template_format)
    raise TemplateError(f"invalid image template {spec!r}: give a url template str or a dict with 'url'")


def _part(part: Any, template_format: str) -> Any:
    """One part of a multipart template, as a template."""
    if isinstance(part, str):
        return PromptTemplate.from_template(part, template_format=template_format)
    if isinstance(part, dict):
        if "text" in part and set(part) <= {"type", "text"}:
            return PromptTemplate.from_template(part["text"], template_format=template_format)
        if "image_url" in part and set(part) <= {"type", "image_url"}:
            return _image_part(part["image_url"], template_format)
        return DictPromptTemplate(part, template_format)
    raise TemplateError(f"invalid template part {part!r}: use a str or a dict ({{'type': 'text', 'text': ...}}, ...)")


class _StringImageMessagePromptTemplate(_OneMessage):
    """A message whose content is a string template, or a list of part
    templates (text, image url, dict) formatted into content blocks."""

    _msg_class: ClassVar[type[BaseMessage]] = HumanMessage

    @classmethod
    def from_template(cls, template: Any, template_format: str = "f-string", *,
                      partial_variables: Optional[dict[str, Any]] = None, **kwargs: Any) -> Any:
        """Build from a template str, or a list of parts (as LangChain's
        ``from_template``). Raises ``TemplateError`` for a bad part, or for
        ``partial_variables`` with a list of parts."""
        if isinstance(template, str):
            prompt: Any = PromptTemplate.from_template(template, template_format=template_format, partial_variables=partial_variables)
        elif isinstance(template, Sequence):
            if partial_variables:
                raise TemplateError("partial_variables are not supported for a template given as a list of parts")
            prompt = [_part(p, template_format) for p in template]
        else:
            raise TemplateError(f"invalid template {template!r}: give a str or a list of parts")
        return cls(prompt=prompt, **kwargs)

    @property
    def input_variables(self) -> list[str]:
        parts = self.prompt if isinstance(self.prompt, list) else [self.prompt]
        return [n for p in parts for n in p.input_variables]

    def format(self, **kwargs: Any) -> BaseMessage:
        """The message, variables filled in. Raises ``PromptInputError`` naming missing variables."""
        if not isinstance(self.prompt, list):
            text = self.prompt.format(**kwargs)
            return self._msg_class(text, additional_kwargs=dict(self.additional_kwargs)) if self.additional_kwargs else self._msg_class(text)
        missing = [n for n in self.input_variables if n not in kwargs]
        if missing:
            raise PromptInputError(type(self).__name__, missing, kwargs)
        content: list[Any] = []
        for part in self.prompt:
            values = {n: kwargs[n] for n in part.input_variables}
            if isinstance(part, ImagePromptTemplate):
                content.append({"type": "image_url", "image_url": part.format(**values)})
            elif isinstance(part, StringPromptTemplate):
                text = part.format(**values)
                if text:
                    content.append({"type": "text", "text": text})
            else:
                content.append(part.format(**values))
        return _new_message(self._msg_class, content, self.additional_kwargs)


class HumanMessagePromptTemplate(_StringImageMessagePromptTemplate):
    """Formats to a ``HumanMessage``."""

    _msg_class = HumanMessage


class AIMessagePromptTemplate(_StringImageMessagePromptTemplate):
    """Formats to an ``AIMessage``."""

    _msg_class = AIMessage


class SystemMessagePromptTemplate(_StringImageMessagePromptTemplate):
    """Formats to a ``SystemMessage``."""

    _msg_class = SystemMessage


class BaseChatPromptTemplate(BasePromptTemplate):
    """A prompt that formats to messages; ``invoke`` returns a ``ChatPromptValue``."""

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        raise NotImplementedError

    async def aformat_messages(self, **kwargs: Any) -> list[BaseMessage]:
        return self.format_messages(**kwargs)

    def format_prompt(self, **kwargs: Any) -> ChatPromptValue:
        return ChatPromptValue(self.format_messages(**kwargs))

    async def aformat_prompt(self, **kwargs: Any) -> ChatPromptValue:
        return ChatPromptValue(await self.aformat_messages(**kwargs))

    def format(self, **kwargs: Any) -> str:
        """The messages as one string (``"Human: ..."``, as ``get_buffer_string``)."""
        return self.format_prompt(**kwargs).to_string()

    async def aformat(self, **kwargs: Any) -> str:
        return (await self.aformat_prompt(**kwargs)).to_string()


MessageLike = Union[BaseMessagePromptTemplate, BaseMessage, BaseChatPromptTemplate]
MessageLikeRepresentation = Union[MessageLike, tuple, str, dict]

_ROLES: dict[str, type[_StringImageMessagePromptTemplate]] = {
    "human": HumanMessagePromptTemplate, "user": HumanMessagePromptTemplate,
    "ai": AIMessagePromptTemplate, "assistant": AIMessagePromptTemplate,
    "system": SystemMessagePromptTemplate,
}


def _placeholder(template: Any) -> MessagesPlaceholder:
    optional = True
    if not isinstance(template, str):
        try:
            template, optional = template
        except (TypeError, ValueError):
            raise TemplateError(
                f"a placeholder entry is ('placeholder', '{{name}}') or ('placeholder', ['{{name}}', optional]), got {template!r}"
            ) from None
        if not isinstance(optional, bool):
            raise TemplateError(f"a placeholder's optional flag must be a bool, got {optional!r}")
    if not isinstance(template, str) or len(template) < 3 or template[0] != "{" or template[-1] != "}":
        raise TemplateError(f"a placeholder must be a variable name in braces, like '{{history}}', got {template!r}")
    return MessagesPlaceholder(template[1:-1], optional=optional)


def _from_role(role: str, template: Any, template_format: str) -> BaseMessagePromptTemplate:
    if role == "placeholder":
        return _placeholder(template)
    cls = _ROLES.get(role)
    if cls is None:
        raise TemplateError(f"unknown message role {role!r}; use one of: human, user, ai, assistant, system, placeholder")
    return cls.from_template(template, template_format=template_format)


def _convert_to_message_template(message: Any, template_format: str = "f-string") -> MessageLike:
    """One entry of ``from_messages`` as a message, message template or chat template."""
    if isinstance(message, (BaseMessagePromptTemplate, BaseChatPromptTemplate, BaseMessage)):
        return message
    if isinstance(message, str):
        return _from_role("human", message, template_format)
    if isinstance(message, dict):
        if set(message) != {"role", "content"}:
            raise TemplateError(f"a message dict must have exactly the keys 'role' and 'content', got {sorted(message)}")
        role, template = message["role"], message["content"]
    elif isinstance(message, (tuple, list)) and len(message) == 2:
        role, template = message
    else:
        raise TemplateError(
            f"cannot use {message!r} in a ChatPromptTemplate; pass a str, a (role, template) tuple, a "
            f"{{'role': ..., 'content': ...}} dict, a message, a message template or a MessagesPlaceholder"
        )
    if isinstance(role, str):
        return _from_role(role, template, template_format)
    if isinstance(role, type) and issubclass(role, BaseMessage):
        return _from_role(role.type, template, template_format)
    if isinstance(role, type) and issubclass(role, _OneMessage):
        return role(prompt=PromptTemplate.from_template(template, template_format=template_format))
    raise TemplateError(f"unknown message role {role!r}: use a role name, a message class or a message template class")


class ChatPromptTemplate(BaseChatPromptTemplate):
    """A list of message templates; ``invoke`` returns a ``ChatPromptValue``
    (as LangChain's ``ChatPromptTemplate``).

    Args:
        messages: entries as ``from_messages`` takes them (see the module).
        template_format: ``"f-string"`` (default), ``"mustache"`` or ``"jinja2"``,
            for entries given as strings.
        validate_template: with ``input_variables``, check that they are
            exactly the variables the messages need (``TemplateError`` if not).
        input_variables, partial_variables, optional_variables, metadata, tags,
            name: as ``BasePromptTemplate``. An optional placeholder's variable
            is optional with a partial value of ``[]`` (as LangChain).

    Supports ``+`` (a chat template, message, message template, list of
    entries or str), ``[i]`` (an entry), ``[i:j]`` (a new template),
    ``len``, ``append``, ``extend`` and value equality.
    """

    _args = ("messages", "validate_template")

    def __init__(self, messages: Sequence[MessageLikeRepresentation], *, template_format: str = "f-string",
                 validate_template: bool = False, **kwargs: Any) -> None:
        self.messages: list[MessageLike] = [_convert_to_message_template(m, template_format) for m in messages]
        self.validate_template = validate_template
        names, optional = self._scan()
        partials = kwargs.get("partial_variables") or {}
        optional = [n for n in optional if n not in partials]
        kwargs["partial_variables"] = {**dict.fromkeys(optional, []), **partials}  # type: ignore[arg-type]
        if validate_template and kwargs.get("input_variables") is not None:
            expected = set(names) - set(partials) - set(optional)
            if expected != set(kwargs["input_variables"]):
                raise TemplateError(
                    f"input_variables {sorted(kwargs['input_variables'])} do not match the variables the messages use "
                    f"{sorted(expected)}; fix input_variables or leave validate_template off"
                )
        self._init_common(kwargs, names, tuple(optional))

    def _scan(self) -> tuple[list[str], list[str]]:
        names: dict[str, None] = {}
        optional: list[str] = []
        for m in self.messages:
            if isinstance(m, MessagesPlaceholder) and m.optional:
                optional.append(m.variable_name)
            elif not isinstance(m, BaseMessage):
                names.update(dict.fromkeys(m.input_variables))
        return list(names), optional

    @classmethod
    def from_messages(cls, messages: Sequence[MessageLikeRepresentation], template_format: str = "f-string") -> "ChatPromptTemplate":
        """Build from entries (see the module); ``TemplateError`` for one it cannot use."""
        return cls(messages, template_format=template_format)

    @classmethod
    def from_template(cls, template: str, **kwargs: Any) -> "ChatPromptTemplate":
        """One human message template (``kwargs`` go to ``PromptTemplate.from_template``)."""
        return cls([HumanMessagePromptTemplate(PromptTemplate.from_template(template, **kwargs))])

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """The messages with ``kwargs`` and the partial variables filled in.
        Raises ``PromptInputError`` (a ``KeyError``) naming every missing variable."""
        values = self._values(kwargs)
        out: list[BaseMessage] = []
        for m in self.messages:
            if isinstance(m, BaseMessage):
                out.append(m)
            else:
                out.extend(m.format_messages(**values))
        return out

    async def aformat_messages(self, **kwargs: Any) -> list[BaseMessage]:
        values = self._values(kwargs)
        out: list[BaseMessage] = []
        for m in self.messages:
            if isinstance(m, BaseMessage):
                out.append(m)
            else:
                out.extend(await m.aformat_messages(**values))
        return out

    def _values(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        values = self._merge_partial_and_user_variables(**kwargs) if self.partial_variables else kwargs
        for name in self.input_variables:
            if name not in values:
                raise PromptInputError(self.get_name(), [n for n in self.input_variables if n not in values], kwargs)
        return values

    # -- composition and container protocol -------------------------------- #
    def __add__(self, other: Any) -> "ChatPromptTemplate":
        """This template's messages followed by ``other``'s (as LangChain's ``+``);
        partial variables of both are kept."""
        partials = {**self.partial_variables, **(getattr(other, "partial_variables", None) or {})}
        if isinstance(other, ChatPromptTemplate):
            extra: list[Any] = other.messages
        elif isinstance(other, (BaseMessagePromptTemplate, BaseMessage, BaseChatPromptTemplate)):
            extra = [other]
        elif isinstance(other, (list, tuple)):
            extra = ChatPromptTemplate.from_messages(other).messages
        elif isinstance(other, str):
            extra = [HumanMessagePromptTemplate.from_template(other)]
        else:
            raise NotImplementedError(f"Unsupported operand type for +: {type(other)}")
        return ChatPromptTemplate([*self.messages, *extra]).partial(**partials)

    def __getitem__(self, index: Union[int, slice]) -> Any:
        """An entry, or for a slice a new ``ChatPromptTemplate`` of those entries
        (without the partial variables, as LangChain)."""
        if isinstance(index, slice):
            return ChatPromptTemplate.from_messages(self.messages[index])
        return self.messages[index]

    def __len__(self) -> int:
        return len(self.messages)

    def pretty_repr(self, html: bool = False) -> str:
        """Each entry's ``pretty_repr``, blank-line separated (as LangChain's)."""
        return "\n\n".join(m.pretty_repr(html=html) for m in self.messages)

    def append(self, message: MessageLikeRepresentation) -> None:
        """Add one entry (any form ``from_messages`` takes); ``input_variables``
        follow (LangChain leaves them stale)."""
        self.extend([message])

    def extend(self, messages: Sequence[MessageLikeRepresentation]) -> None:
        """Add entries (any form ``from_messages`` takes); ``input_variables`` follow."""
        self.messages.extend(_convert_to_message_template(m) for m in messages)
        names, optional = self._scan()
        for name in optional:
            self.partial_variables.setdefault(name, [])
        self.optional_variables = sorted({*self.optional_variables, *optional})
        skip = {*self.partial_variables, *self.optional_variables}
        self.input_variables = sorted(n for n in names if n not in skip)
