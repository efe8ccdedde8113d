"""Prompt templates (as ``langchain_core.prompts``).

Templates use Python's f-string syntax (``"Tell me a joke about {animal}"``,
``{{`` and ``}}`` for literal braces). A template is parsed once, when built,
into literal text and variable names; formatting joins them, so values are
inserted verbatim (braces in user text are never re-read) and no code runs:
attribute or index access (``{x.__class__}``, ``{x[0]}``) is rejected with a
``TemplateError`` when the template is built.

Invoking a template is a chain run with ``run_type="prompt"`` (an
``on_prompt_*`` event in ``astream_events``), as in LangChain.
"""

from __future__ import annotations

import re
import string
from typing import Any, Mapping, Optional, Sequence, Union

from hookchain.errors import PromptInputError, TemplateError
from hookchain.messages import (
    AIMessage, BaseMessage, ChatMessage, HumanMessage, SystemMessage, convert_to_messages,
)
from hookchain.prompt_values import ChatPromptValue, PromptValue, StringPromptValue
from hookchain.runnables.base import Runnable
from hookchain.runnables.config import RunnableConfig

__all__ = [
    "PromptTemplate", "ChatPromptTemplate", "MessagesPlaceholder", "HumanMessagePromptTemplate",
    "SystemMessagePromptTemplate", "AIMessagePromptTemplate", "ChatMessagePromptTemplate",
]

_formatter = string.Formatter()

#: The largest width or precision a format spec may ask for (``{x:>10000}``):
#: a 17-character ``{x:>500000000}`` would otherwise allocate half a gigabyte.
MAX_FORMAT_WIDTH = 10_000
_SPEC_NUMBER = re.compile(r"\d+")


def _check_spec(field: str, spec: str, template: str) -> None:
    if "{" in spec or "}" in spec:
        raise TemplateError(f"template variable {{{field}:{spec}}} in {template!r}: nested fields in format specs are not allowed")
    for number in _SPEC_NUMBER.findall(spec):
        if int(number) > MAX_FORMAT_WIDTH:
            raise TemplateError(
                f"template variable {{{field}:{spec}}} in {template!r}: width or precision {int(number)} is over "
                f"the limit of {MAX_FORMAT_WIDTH:,}; use a smaller one"
            )


def _parse(template: str) -> tuple[tuple[tuple[str, Optional[str], str], ...], list[str]]:
    """Split ``template`` into ``(literal, variable or None, format_spec)`` parts."""
    if not isinstance(template, str):
        raise TemplateError(f"a template must be a str, got {type(template).__name__}")
    try:
        parsed = list(_formatter.parse(template))
    except ValueError as e:
        raise TemplateError(
            f"malformed template {template!r}: {e}; write literal braces as '{{{{' and '}}}}'"
        ) from None
    parts, names = [], []
    for literal, field, spec, conversion in parsed:
        if field is not None:
            if not field.isidentifier():
                raise TemplateError(
                    f"template variable {{{field}}} in {template!r} is not a plain name; "
                    f"attribute and index access are not allowed (write literal braces as '{{{{' and '}}}}')"
                )
            if conversion:
                raise TemplateError(f"template variable {{{field}!{conversion}}} in {template!r}: conversions are not allowed")
            if spec:
                _check_spec(field, spec, template)
            if field not in names:
                names.append(field)
        parts.append((literal, field, spec or ""))
    return tuple(parts), names


class _Validating(Runnable):
    """Shared input handling of templates: a dict of variables, or a bare value
    when the template has exactly one variable."""

    input_variables: list[str]
    partial_variables: dict[str, Any]
    _optional: frozenset[str] = frozenset()

    def _variables(self, input: Any) -> dict[str, Any]:
        if not isinstance(input, Mapping):
            if len(self.input_variables) == 1:
                input = {self.input_variables[0]: input}
            else:
                raise TypeError(
                    f"{self.get_name()} expects a dict with keys {self.input_variables}, "
                    f"got {type(input).__name__}"
                )
        missing = set(self.input_variables) - set(input) - self._optional
        if missing:
            raise PromptInputError(self.get_name(), missing, input)
        return {**self.partial_variables, **input}

    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> PromptValue:
        """Format the template with ``input`` (dict of variables) as a prompt run.
        Raises ``PromptInputError`` (a ``KeyError``) naming every missing variable."""
        return self._call_with_config(lambda v, c, rm: self.format_prompt(**self._variables(v)), input, config, run_type="prompt")

    async def ainvoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> PromptValue:
        async def run(v: Any, c: RunnableConfig, rm: Any) -> PromptValue:
            return self.format_prompt(**self._variables(v))

        return await self._acall_with_config(run, input, config, run_type="prompt")

    def format_prompt(self, **kwargs: Any) -> PromptValue:
        raise NotImplementedError


class PromptTemplate(_Validating):
    """A string template; ``invoke`` returns a ``StringPromptValue``."""

    def __init__(self, template: str, *, partial_variables: Optional[dict[str, Any]] = None, **_: Any) -> None:
        self.template = template
        self._parts, names = _parse(template)
        self.partial_variables = dict(partial_variables or {})
        self.input_variables = sorted(n for n in names if n not in self.partial_variables)
        self.name = None

    @classmethod
    def from_template(cls, template: str, *, partial_variables: Optional[dict[str, Any]] = None) -> "PromptTemplate":
        return cls(template, partial_variables=partial_variables)

    def format(self, **kwargs: Any) -> str:
        """The template with ``kwargs`` (and partials) filled in. Raises
        ``PromptInputError`` naming the missing variables."""
        values = {**self.partial_variables, **kwargs}
        try:
            return "".join(
                literal + (format(values[name], spec) if name is not None else "")
                for literal, name, spec in self._parts
            )
        except KeyError:
            raise PromptInputError(self.get_name(), [n for n in self.input_variables if n not in values], kwargs) from None

    def format_prompt(self, **kwargs: Any) -> StringPromptValue:
        return StringPromptValue(self.format(**kwargs))

    def partial(self, **kwargs: Any) -> "PromptTemplate":
        """A copy with some variables fixed."""
        return PromptTemplate(self.template, partial_variables={**self.partial_variables, **kwargs})

    def __repr__(self) -> str:
        return f"PromptTemplate(input_variables={self.input_variables!r}, template={self.template!r})"


class _MessagePromptTemplate:
    """A message whose content is a template; formats to one message."""

    message_class: type[BaseMessage] = HumanMessage

    def __init__(self, prompt: PromptTemplate, **message_kwargs: Any) -> None:
        self.prompt = prompt
        self.message_kwargs = message_kwargs

    @classmethod
    def from_template(cls, template: str, **message_kwargs: Any) -> "_MessagePromptTemplate":
        return cls(PromptTemplate.from_template(template), **message_kwargs)

    @property
    def input_variables(self) -> list[str]:
        return self.prompt.input_variables

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        return [self.message_class(self.prompt.format(**kwargs), **self.message_kwargs)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prompt={self.prompt!r})"


class HumanMessagePromptTemplate(_MessagePromptTemplate):
    message_class = HumanMessage


class SystemMessagePromptTemplate(_MessagePromptTemplate):
    message_class = SystemMessage


class AIMessagePromptTemplate(_MessagePromptTemplate):
    message_class = AIMessage


class ChatMessagePromptTemplate(_MessagePromptTemplate):
    message_class = ChatMessage


class MessagesPlaceholder:
    """Stands for a list of messages passed in variable ``variable_name``
    (``optional=True``: may be left out)."""

    def __init__(self, variable_name: str, *, optional: bool = False) -> None:
        self.variable_name = variable_name
        self.optional = optional

    @property
    def input_variables(self) -> list[str]:
        return [self.variable_name]

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        value = kwargs.get(self.variable_name)
        if value is None:
            if self.optional:
                return []
            raise PromptInputError("MessagesPlaceholder", [self.variable_name], kwargs)
        if isinstance(value, (str, BaseMessage)) or not isinstance(value, Sequence):
            raise TypeError(
                f"variable {self.variable_name!r} of a MessagesPlaceholder must be a list of messages, "
                f"got {type(value).__name__}"
            )
        return convert_to_messages(value)

    def __repr__(self) -> str:
        return f"MessagesPlaceholder(variable_name={self.variable_name!r}, optional={self.optional})"


_ROLE_TEMPLATES = {
    "human": HumanMessagePromptTemplate, "user": HumanMessagePromptTemplate,
    "ai": AIMessagePromptTemplate, "assistant": AIMessagePromptTemplate,
    "system": SystemMessagePromptTemplate, "developer": SystemMessagePromptTemplate,
}

MessageLike = Union[BaseMessage, _MessagePromptTemplate, MessagesPlaceholder, str, tuple, list]


def _to_part(item: Any) -> Union[BaseMessage, _MessagePromptTemplate, MessagesPlaceholder]:
    if isinstance(item, (BaseMessage, _MessagePromptTemplate, MessagesPlaceholder)):
        return item
    if isinstance(item, str):
        return HumanMessagePromptTemplate.from_template(item)
    if isinstance(item, (tuple, list)) and len(item) == 2:
        role, template = item
        if role == "placeholder":
            _, names = _parse(template)
            if len(names) != 1 or template.strip() != "{" + names[0] + "}":
                raise TemplateError(f"a ('placeholder', ...) entry must be '{{name}}', got {template!r}")
            return MessagesPlaceholder(names[0], optional=True)
        cls = _ROLE_TEMPLATES.get(role)
        if cls is None:
            raise TemplateError(
                f"unknown message role {role!r}; use one of: {', '.join(sorted(_ROLE_TEMPLATES))}, placeholder"
            )
        return cls.from_template(template)
    raise TemplateError(
        f"cannot use {item!r} in ChatPromptTemplate.from_messages; pass a str, a (role, template) tuple, "
        f"a message, a message template or a MessagesPlaceholder"
    )


class ChatPromptTemplate(_Validating):
    """A list of message templates; ``invoke`` returns a ``ChatPromptValue``.

    Build it with ``from_messages([...])`` from strings (human), ``(role,
    template)`` tuples (``system``, ``human``/``user``, ``ai``/``assistant``,
    ``placeholder``), messages, message templates or ``MessagesPlaceholder``;
    or with ``from_template(str)`` for a single human message.
    """

    def __init__(self, messages: Sequence[MessageLike], *, partial_variables: Optional[dict[str, Any]] = None) -> None:
        self.messages = [_to_part(m) for m in messages]
        self.partial_variables = dict(partial_variables or {})
        names: dict[str, None] = {}
        optional = set()
        for part in self.messages:
            if isinstance(part, BaseMessage):
                continue
            for n in part.input_variables:
                names[n] = None
            if isinstance(part, MessagesPlaceholder) and part.optional:
                optional.add(part.variable_name)
        self.input_variables = sorted(n for n in names if n not in self.partial_variables)
        self._optional = frozenset(optional)
        self.name = None

    @classmethod
    def from_messages(cls, messages: Sequence[MessageLike]) -> "ChatPromptTemplate":
        return cls(messages)

    @classmethod
    def from_template(cls, template: str) -> "ChatPromptTemplate":
        return cls([HumanMessagePromptTemplate.from_template(template)])

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """The messages with ``kwargs`` (and partials) filled in. Raises
        ``PromptInputError`` naming every missing variable."""
        values = {**self.partial_variables, **kwargs}
        missing = set(self.input_variables) - set(values) - self._optional
        if missing:
            raise PromptInputError(self.get_name(), missing, kwargs)
        out: list[BaseMessage] = []
        for part in self.messages:
            if isinstance(part, BaseMessage):
                out.append(part)
            else:
                out.extend(part.format_messages(**values))
        return out

    def format_prompt(self, **kwargs: Any) -> ChatPromptValue:
        return ChatPromptValue(self.format_messages(**kwargs))

    def format(self, **kwargs: Any) -> str:
        """The messages rendered as one string ("Human: ...")."""
        return self.format_prompt(**kwargs).to_string()

    def partial(self, **kwargs: Any) -> "ChatPromptTemplate":
        """A copy with some variables fixed."""
        return ChatPromptTemplate(self.messages, partial_variables={**self.partial_variables, **kwargs})

    def __repr__(self) -> str:
        return f"ChatPromptTemplate(input_variables={self.input_variables!r}, messages={self.messages!r})"
