"""``BaseMessagePromptTemplate``: a template that formats to messages (as
``langchain_core.prompts.message``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from hookchain import _upcalls
from hookchain.messages import BaseMessage
from hookchain.messages.base import get_msg_title_repr

if TYPE_CHECKING:
    from hookchain.prompts.chat import ChatPromptTemplate

__all__ = ["BaseMessagePromptTemplate"]


class BaseMessagePromptTemplate:
    """Base class of message templates: ``format_messages(**kwargs)`` returns a
    list of messages; ``input_variables`` names what it needs."""

    #: The constructor arguments that define the template (equality, repr).
    _args: ClassVar[tuple[str, ...]] = ()

    @property
    def input_variables(self) -> list[str]:
        raise NotImplementedError

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        raise NotImplementedError

    async def aformat_messages(self, **kwargs: Any) -> list[BaseMessage]:
        return self.format_messages(**kwargs)

    def _title(self, html: bool) -> str:
        return get_msg_title_repr(type(self).__name__.replace("MessagePromptTemplate", " Message"), bold=html)

    def pretty_repr(self, html: bool = False) -> str:
        """A title line, then the template (as LangChain's); ``html`` makes the title bold."""
        parts = self.prompt if isinstance(self.prompt, list) else [self.prompt]  # type: ignore[attr-defined]
        return self._title(html) + "\n\n" + "\n\n".join(p.pretty_repr(html=html) for p in parts)

    def pretty_print(self) -> None:
        print(self.pretty_repr())

    def __add__(self, other: Any) -> "ChatPromptTemplate":
        """A ``ChatPromptTemplate`` of this template followed by ``other`` (as LangChain's)."""
        return _upcalls.chat_prompt([self]) + other

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self._args)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{a}={getattr(self, a)!r}' for a in self._args)})"
