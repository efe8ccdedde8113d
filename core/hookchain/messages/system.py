"""System messages (as ``langchain_core.messages.system``)."""

from __future__ import annotations

from hookchain.messages.base import BaseMessage, BaseMessageChunk

__all__ = ["SystemMessage", "SystemMessageChunk"]


class SystemMessage(BaseMessage):
    """Primes the model's behaviour; usually the first message (``type="system"``)."""

    __slots__ = ()
    type = "system"


class SystemMessageChunk(SystemMessage, BaseMessageChunk):
    """A streamed piece of a ``SystemMessage``."""

    __slots__ = ()
    type = "SystemMessageChunk"
