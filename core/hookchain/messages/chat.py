"""Messages with an arbitrary role (as ``langchain_core.messages.chat``)."""

from __future__ import annotations

from typing import Any, Sequence

from hookchain.messages.base import _MISSING, BaseMessage, BaseMessageChunk

__all__ = ["ChatMessage", "ChatMessageChunk"]


class ChatMessage(BaseMessage):
    """A message with an arbitrary ``role`` (str, required)."""

    __slots__ = ("role",)
    type = "chat"
    _fields = BaseMessage._fields + (("role", _MISSING),)


class ChatMessageChunk(ChatMessage, BaseMessageChunk):
    """A streamed piece of a ``ChatMessage``. As LangChain, any message chunk
    adds onto it (the result keeps this role); a ``ChatMessageChunk`` of another
    role raises ``ValueError``."""

    __slots__ = ()
    type = "ChatMessageChunk"

    def _check_addable(self, other: BaseMessageChunk) -> None:
        if isinstance(other, ChatMessageChunk) and other.role != self.role:
            raise ValueError(f"cannot add ChatMessageChunks of different roles ({self.role!r} and {other.role!r})")

    def _merged_fields(self, others: Sequence[BaseMessageChunk]) -> dict[str, Any]:
        return {**super()._merged_fields(others), "role": self.role}
