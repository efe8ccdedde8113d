"""Prompt values: what a prompt template produces and a model accepts
(as ``langchain_core.prompt_values``)."""

from __future__ import annotations

from typing import Sequence

from hookchain.messages import BaseMessage, HumanMessage, get_buffer_string

__all__ = ["PromptValue", "ChatPromptValue", "StringPromptValue", "ImagePromptValue"]


class PromptValue:
    """Base class: convertible to a list of messages or to one string."""

    __slots__ = ()

    def to_messages(self) -> list[BaseMessage]:
        raise NotImplementedError

    def to_string(self) -> str:
        raise NotImplementedError


class ChatPromptValue(PromptValue):
    """A list of messages; ``str()`` reads ``messages=[HumanMessage(...)]`` as in the seeds."""

    __slots__ = ("messages",)

    def __init__(self, messages: Sequence[BaseMessage]) -> None:
        self.messages = list(messages)

    def to_messages(self) -> list[BaseMessage]:
        return list(self.messages)

    def to_string(self) -> str:
        return get_buffer_string(self.messages)

    def __repr__(self) -> str:
        return f"ChatPromptValue(messages={self.messages!r})"

    def __str__(self) -> str:
        return f"messages={self.messages!r}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChatPromptValue) and other.messages == self.messages

    __hash__ = None  # type: ignore[assignment]


class StringPromptValue(PromptValue):
    """A single string; as messages it is one ``HumanMessage``."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def to_messages(self) -> list[BaseMessage]:
        return [HumanMessage(self.text)]

    def to_string(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"StringPromptValue(text={self.text!r})"

    def __str__(self) -> str:
        return f"text={self.text!r}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StringPromptValue) and other.text == self.text

    __hash__ = None  # type: ignore[assignment]


class ImagePromptValue(PromptValue):
    """An image url dict (``{"url": ..., "detail": ...}``), what an
    ``ImagePromptTemplate`` formats to (as LangChain's)."""

    __slots__ = ("image_url",)

    def __init__(self, image_url: dict) -> None:
        self.image_url = image_url

    def to_messages(self) -> list[BaseMessage]:
        return [HumanMessage([self.image_url])]

    def to_string(self) -> str:
        return self.image_url.get("url", "")

    def __repr__(self) -> str:
        return f"ImagePromptValue(image_url={self.image_url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImagePromptValue) and other.image_url == self.image_url

    __hash__ = None  # type: ignore[assignment]
