"""A message that asks to delete another one (as ``langchain_core.messages.modifier``)."""

from __future__ import annotations

from typing import Any

from hookchain.messages.base import BaseMessage

__all__ = ["RemoveMessage"]


class RemoveMessage(BaseMessage):
    """Asks a message store (LangGraph's ``add_messages``, say) to delete the
    message with this ``id``; it has no content (``type="remove"``). Raises
    ``ValueError`` if given a non-empty ``content``."""

    __slots__ = ()
    type = "remove"

    def __init__(self, id: str, **kwargs: Any) -> None:  # noqa: A002 - LangChain's argument name
        if kwargs.pop("content", None):
            raise ValueError("RemoveMessage does not support 'content' field.")
        self._init_fields("", id=id, **kwargs)
