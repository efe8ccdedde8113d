"""Fake chat models for tests (as ``langchain_core.language_models.fake_chat_models``).

They answer from a script instead of a provider, so a chain's own tests run
offline and deterministically; they fire the same callbacks and stream events
as a real model.

* ``FakeListChatModel``: answers ``responses`` (strings) in turn, cycling;
  streams one character per chunk.
* ``FakeMessagesListChatModel``: answers ``responses`` (messages) in turn, cycling.
* ``GenericFakeChatModel``: answers the next item of an iterator of messages or
  strings; streams content split on whitespace, then ``additional_kwargs`` and
  tool calls as chunks.
* ``ParrotFakeChatModel``: answers the last input message itself.
* ``FakeChatModel``: always ``"fake response"``.

``GenericFakeChatModel`` and ``FakeMessagesListChatModel`` also have
``bind_tools`` (a hookchain addition; LangChain's raise ``NotImplementedError``):
the tools are bound as call options and the scripted messages, with their
``tool_calls``, are the answers, so ``bind_tools`` and ``with_structured_output``
chains run offline.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, AsyncIterator, Iterator, Optional, Sequence

from pydantic import field_validator

from hookchain._lazy import lazy_import

from hookchain.callbacks.manager import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from hookchain.language_models.chat_models import BaseChatModel, SimpleChatModel
from hookchain.messages import AIMessage, AIMessageChunk, BaseMessage
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

asyncio = lazy_import("asyncio")  # loaded on first use: sync-only programs never pay for it

__all__ = [
    "FakeMessagesListChatModel", "FakeListChatModel", "FakeListChatModelError", "FakeChatModel",
    "GenericFakeChatModel", "ParrotFakeChatModel",
]


class _Cycling:
    """``responses`` answered in turn, ``i`` the next one; after the last, back to the first."""

    responses: list
    i: int

    def _next_response(self) -> Any:
        response = self.responses[self.i]
        self.i = self.i + 1 if self.i < len(self.responses) - 1 else 0
        return response


class _BindsTools:
    """``bind_tools`` for the message-scripted fakes (a hookchain addition:
    LangChain 1.7.2's fakes raise ``NotImplementedError``)."""

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Optional[str] = None, **kwargs: Any) -> Any:
        """This model with ``tools`` (converted by ``convert_to_openai_tool``)
        and ``tool_choice`` (when given) bound as call options, as a provider
        model's ``bind_tools``. The answers stay the scripted messages: put
        ``tool_calls`` in them. So ``with_structured_output`` works on the
        fake too (script an ``AIMessage`` calling the schema's tool)."""
        from hookchain.utils.function_calling import convert_to_openai_tool

        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)  # type: ignore[attr-defined]


class FakeMessagesListChatModel(_BindsTools, _Cycling, BaseChatModel):
    """Answers ``responses[i]`` (a message, returned as given) and moves ``i``
    on, cycling, as LangChain's. ``stream`` gives the whole answer as one chunk.

    Fields:
        responses: the messages to answer with, in order.
        sleep: seconds to wait before each answer (``None``: no wait).
        i: index of the next answer (incremented after every call).
    """

    responses: list[BaseMessage]
    sleep: Optional[float] = None
    i: int = 0

    def _generate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                  run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        if self.sleep is not None:
            time.sleep(self.sleep)
        return ChatResult(generations=[ChatGeneration(message=self._next_response())])

    @property
    def _llm_type(self) -> str:
        return "fake-messages-list-chat-model"


class FakeListChatModelError(Exception):
    """What ``FakeListChatModel`` raises at chunk ``error_on_chunk_number``."""


class FakeListChatModel(_Cycling, SimpleChatModel):
    """Answers ``responses[i]`` (a string) and moves ``i`` on, cycling, as
    LangChain's; ``stream`` yields one character per chunk (the last marked
    ``chunk_position="last"``).

    Fields:
        responses: the answers, in order.
        sleep: seconds to wait before an answer, and before each streamed chunk.
        i: index of the next answer (incremented after every call).
        error_on_chunk_number: when streaming, raise ``FakeListChatModelError``
            instead of chunk number ``n`` (0-based).

    ``batch``/``abatch`` answer the inputs one after the other (so the answers
    come in ``responses`` order), as LangChain's; ``return_exceptions`` is
    ignored (the first error is raised).
    """

    responses: list[str]
    sleep: Optional[float] = None
    i: int = 0
    error_on_chunk_number: Optional[int] = None

    @property
    def _llm_type(self) -> str:
        return "fake-list-chat-model"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"responses": self.responses}

    def _call(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
              run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> str:
        if self.sleep is not None:
            time.sleep(self.sleep)
        return self._next_response()

    def _chunk(self, index: int, char: str, last: int) -> ChatGenerationChunk:
        if self.error_on_chunk_number is not None and index == self.error_on_chunk_number:
            raise FakeListChatModelError
        return ChatGenerationChunk(message=AIMessageChunk(content=char, chunk_position="last" if index == last else None))

    def _stream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        response = self._next_response()
        for index, char in enumerate(response):
            if self.sleep is not None:
                time.sleep(self.sleep)
            yield self._chunk(index, char, len(response) - 1)

    async def _astream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                       run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        response = self._next_response()
        for index, char in enumerate(response):
            if self.sleep is not None:
                await asyncio.sleep(self.sleep)
            yield self._chunk(index, char, len(response) - 1)

    def batch(self, inputs: list[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[AIMessage]:
        configs = config if isinstance(config, list) else [config] * len(inputs)
        return [self.invoke(m, c, **kwargs) for m, c in zip(inputs, configs)]

    async def abatch(self, inputs: list[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[AIMessage]:
        configs = config if isinstance(config, list) else [config] * len(inputs)
        return [await self.ainvoke(m, c, **kwargs) for m, c in zip(inputs, configs)]


class FakeChatModel(SimpleChatModel):
    """Always answers ``"fake response"``."""

    def _call(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
              run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> str:
        return "fake response"

    async def _agenerate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                         run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="fake response"))])

    @property
    def _llm_type(self) -> str:
        return "fake-chat-model"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"key": "fake"}


def _tool_call_chunks(message: AIMessage) -> list[dict[str, Any]]:
    """The message's tool calls (valid ones, then invalid ones) as tool-call
    chunks, arguments as JSON text, ``index`` their position."""
    calls = [(c["name"], json.dumps(c["args"]), c.get("id")) for c in message.tool_calls]
    calls += [(c.get("name"), c.get("args"), c.get("id")) for c in message.invalid_tool_calls]
    return [
        {"name": name, "args": args, "id": call_id, "index": index, "type": "tool_call_chunk"}
        for index, (name, args, call_id) in enumerate(calls)
    ]


class GenericFakeChatModel(_BindsTools, BaseChatModel):
    """Answers the next item of ``messages`` (an ``AIMessage``, or a string
    made into one), as LangChain's; raises ``StopIteration`` when it is used up.

    ``stream`` splits the content on whitespace, each whitespace character its
    own chunk (``"a b"``: ``"a"``, ``" "``, ``"b"``); then each
    ``additional_kwargs`` key is one chunk (a ``function_call``'s string values
    split after each comma); then each tool call is one chunk carrying a
    ``tool_call_chunks`` entry, so the streamed total has the message's
    ``tool_calls`` (LangChain 1.7.2 drops them when streaming). The last chunk
    is marked ``chunk_position="last"``.

    Fields:
        messages: an iterator (``iter([...])``; a list is refused, as LangChain).
    """

    messages: Iterator[Any]

    @field_validator("messages", mode="before")
    @classmethod
    def _an_iterator(cls, value: Any) -> Any:
        if not isinstance(value, Iterator):
            raise ValueError(f"GenericFakeChatModel.messages must be an iterator, got {type(value).__name__}; wrap a list in iter([...])")
        return value

    def _generate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                  run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        message = next(self.messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=message) if isinstance(message, str) else message)])

    def _stream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        message = self._generate(messages, stop, run_manager, **kwargs).generations[0].message
        if not isinstance(message, AIMessage):
            raise ValueError(f"GenericFakeChatModel streams AIMessages, got {type(message).__name__}")
        pieces: list[dict[str, Any]] = []
        if message.content:
            if not isinstance(message.content, str):
                raise ValueError("GenericFakeChatModel streams string content only; got a list of content blocks")
            pieces += [{"content": token} for token in re.split(r"(\s)", message.content)]
        for key, value in message.additional_kwargs.items():
            if key == "function_call":
                for fkey, fvalue in value.items():
                    parts = re.split(r"(,)", fvalue) if isinstance(fvalue, str) else [fvalue]
                    pieces += [{"additional_kwargs": {"function_call": {fkey: part}}} for part in parts]
            else:
                pieces.append({"additional_kwargs": {key: value}})
        pieces += [{"tool_call_chunks": [chunk]} for chunk in _tool_call_chunks(message)]
        for n, piece in enumerate(pieces):
            last = "last" if n == len(pieces) - 1 else None
            yield ChatGenerationChunk(message=AIMessageChunk(**{"content": "", **piece}, id=message.id, chunk_position=last))

    @property
    def _llm_type(self) -> str:
        return "generic-fake-chat-model"


class ParrotFakeChatModel(BaseChatModel):
    """Answers with the last input message itself (of whatever type), as
    LangChain's. Raises ``ValueError`` for an empty message list."""

    def _generate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                  run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        if not messages:
            raise ValueError("messages list cannot be empty.")
        return ChatResult(generations=[ChatGeneration(message=messages[-1])])

    @property
    def _llm_type(self) -> str:
        return "parrot-fake-chat-model"
