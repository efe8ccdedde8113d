"""``BaseMessagePromptTemplate``: a template that formats to messages (as
``langchain_core.prompts.message``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from hookchain.messages import BaseMessage

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

    def __add__(self, other: Any) -> "ChatPromptTemplate":
        """A ``ChatPromptTemplate`` of this template followed by ``other`` (as LangChain's)."""
        from hookchain.prompts.chat import ChatPromptTemplate

        return ChatPromptTemplate([self]) + other

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self._args)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{a}={getattr(self, a)!r}' for a in self._args)})"
