"""Model outputs (as ``langchain_core.outputs``): generations and results.

Plain ``__slots__`` classes like the messages; reprs and ``str()`` follow the
seeds (``ChatGeneration(text='...', message=AIMessage(...))``,
``generations=[[...]] llm_output={...} run=None``).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Optional

from hookchain.messages import BaseMessage, BaseMessageChunk
from hookchain.messages._merge import merge_dicts
from hookchain.messages.base import all_of_class

__all__ = ["Generation", "GenerationChunk", "ChatGeneration", "ChatGenerationChunk", "ChatResult", "LLMResult"]


class _Record:
    __slots__ = ()
    _repr_fields: tuple[str, ...] = ()
    _always: tuple[str, ...] = ()

    def _pairs(self) -> list[tuple[str, Any]]:
        return [(f, getattr(self, f)) for f in self._repr_fields if f in self._always or getattr(self, f) is not None]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._pairs())})"

    def __str__(self) -> str:
        return " ".join(f"{k}={v!r}" for k, v in self._pairs())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self.__slots__)

    __hash__ = None  # type: ignore[assignment]


class Generation(_Record):
    """One text completion: ``text`` and optional ``generation_info`` (dict)."""

    __slots__ = ("text", "generation_info")
    _repr_fields = ("text", "generation_info")
    _always = ("text",)
    #: The class tag LangChain serialises (``GenerationChunk`` keeps "Generation", as LangChain).
    type = "Generation"

    def __init__(self, text: str = "", generation_info: Optional[dict[str, Any]] = None) -> None:
        self.text = text
        self.generation_info = generation_info


class GenerationChunk(Generation):
    """A streamed piece of a ``Generation``; ``+`` concatenates."""

    __slots__ = ()

    def __add__(self, other: Any) -> "GenerationChunk":
        """``self`` followed by ``other`` (a chunk, or a list of chunks added in
        one pass: one string join, so a long stream's total is not copied
        once per chunk): the texts concatenated, the ``generation_info`` dicts
        merged, as LangChain's ``GenerationChunk.__add__``."""
        if isinstance(other, GenerationChunk):
            others: tuple = (other,)
        elif isinstance(other, list) and all_of_class(other, GenerationChunk):
            others = tuple(other)
        else:
            return NotImplemented
        info = merge_dicts(self.generation_info or {}, *filter(None, map(_GENERATION_INFO, others))) or None
        return GenerationChunk("".join([self.text, *map(_TEXT, others)]), info)


class ChatGeneration(Generation):
    """One chat completion: ``message`` (a ``BaseMessage``); ``text`` is its text."""

    __slots__ = ("message",)
    _repr_fields = ("text", "generation_info", "message")
    type = "ChatGeneration"

    def __init__(self, message: BaseMessage, generation_info: Optional[dict[str, Any]] = None, text: str = "") -> None:
        if not isinstance(message, BaseMessage):
            raise TypeError(f"ChatGeneration.message must be a BaseMessage, got {type(message).__name__}")
        self.message = message
        self.generation_info = generation_info

    @property  # type: ignore[override]
    def text(self) -> str:
        return self.message.text

    @text.setter
    def text(self, value: str) -> None:  # settable for LangChain compatibility; derived on read
        pass


class ChatGenerationChunk(ChatGeneration):
    """A streamed piece of a ``ChatGeneration``; ``+`` merges the message chunks."""

    __slots__ = ()
    type = "ChatGenerationChunk"

    def __init__(self, message: BaseMessageChunk, generation_info: Optional[dict[str, Any]] = None, text: str = "") -> None:
        if not isinstance(message, BaseMessageChunk):
            raise TypeError(
                f"ChatGenerationChunk.message must be a message chunk (e.g. AIMessageChunk), "
                f"got {type(message).__name__}"
            )
        self.message = message
        self.generation_info = generation_info

    def __add__(self, other: Any) -> "ChatGenerationChunk":
        if isinstance(other, ChatGenerationChunk):
            others = (other,)
        elif isinstance(other, list) and all_of_class(other, ChatGenerationChunk):
            others = tuple(other)
        else:
            return NotImplemented
        info = merge_dicts(self.generation_info or {}, *filter(None, map(_GENERATION_INFO, others))) or None
        return ChatGenerationChunk(self.message + list(map(_MESSAGE, others)), info)


_GENERATION_INFO, _MESSAGE, _TEXT = attrgetter("generation_info"), attrgetter("message"), attrgetter("text")


class ChatResult(_Record):
    """What a chat model's ``_generate`` returns: ``generations`` (list of
    ``ChatGeneration``) and provider-level ``llm_output`` (dict or None)."""

    __slots__ = ("generations", "llm_output")
    _repr_fields = ("generations", "llm_output")
    _always = ("generations",)

    def __init__(self, generations: list[ChatGeneration], llm_output: Optional[dict[str, Any]] = None) -> None:
        self.generations = generations
        self.llm_output = llm_output


class LLMResult(_Record):
    """What ``on_llm_end`` receives: ``generations`` is a list (one per prompt) of
    lists of generations; ``llm_output`` the provider-level output; ``run`` is
    kept for LangChain compatibility and is always ``None``."""

    __slots__ = ("generations", "llm_output", "run")
    _repr_fields = ("generations", "llm_output", "run")
    _always = _repr_fields

    def __init__(self, generations: list[list[Generation]], llm_output: Optional[dict[str, Any]] = None, run: Any = None) -> None:
        self.generations = generations
        self.llm_output = llm_output
        self.run = run
