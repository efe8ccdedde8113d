"""Function messages, OpenAI's legacy ``function`` role (as ``langchain_core.messages.function``)."""

from __future__ import annotations

from hookchain.messages.base import _MISSING, BaseMessage, BaseMessageChunk

__all__ = ["FunctionMessage", "FunctionMessageChunk"]


class FunctionMessage(BaseMessage):
    """The result of a function call; ``name`` (the function's) is required."""

    __slots__ = ()
    type = "function"
    _fields = tuple((f, _MISSING if f == "name" else d) for f, d in BaseMessage._fields)


class FunctionMessageChunk(FunctionMessage, BaseMessageChunk):
    """A streamed piece of a ``FunctionMessage``; chunks of different ``name``
    do not add up (``ValueError``, as LangChain)."""

    __slots__ = ()
    type = "FunctionMessageChunk"

    def _check_addable(self, other: BaseMessageChunk) -> None:
        super()._check_addable(other)
        if other.name != self.name:
            raise ValueError(
                f"cannot add FunctionMessageChunks of different names ({self.name!r} and {other.name!r})"
            )
