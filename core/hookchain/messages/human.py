"""Human messages (as ``langchain_core.messages.human``)."""

from __future__ import annotations

from hookchain.messages.base import BaseMessage, BaseMessageChunk

__all__ = ["HumanMessage", "HumanMessageChunk"]


class HumanMessage(BaseMessage):
    """A message from the person talking to the model (``type="human"``)."""

    __slots__ = ()
    type = "human"


class HumanMessageChunk(HumanMessage, BaseMessageChunk):
    """A streamed piece of a ``HumanMessage``."""

    __slots__ = ()
    type = "HumanMessageChunk"
