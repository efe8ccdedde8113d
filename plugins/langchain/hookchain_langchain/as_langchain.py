"""hookchain chat models inside LangChain: ``as_langchain(model)``.

The result is a ``langchain_core`` ``BaseChatModel``: LangChain runs
``invoke``/``stream``/``batch``/``astream_events`` and their async forms and
fires LangChain's callbacks; only the model's own work is hookchain's (its
``_generate``/``_agenerate``/``_stream``/``_astream``, with messages and
answers converted). hookchain's callbacks and chat-model hooks of the wrapped
model are therefore not involved; pass hookchain handlers to LangChain through
``as_langchain_handler``.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Optional, Sequence

from hookchain.language_models import BaseChatModel
from langchain_core.language_models import BaseChatModel as LCBaseChatModel
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field

from hookchain_langchain.chat_model import stream_kind
from hookchain_langchain.convert import to_hookchain, to_langchain

__all__ = ["HookchainChatModel", "HookchainStreamingChatModel", "HookchainAsyncStreamingChatModel", "as_langchain"]


class HookchainChatModel(LCBaseChatModel):
    """A hookchain chat model run by LangChain.

    Fields:
        model: the wrapped ``hookchain.language_models.BaseChatModel``.
    """

    model: Any = Field(description="the wrapped hookchain BaseChatModel")

    def _generate(self, messages: list[Any], stop: Optional[list[str]] = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return to_langchain(self.model._generate(to_hookchain(messages), stop, None, **kwargs))

    async def _agenerate(self, messages: list[Any], stop: Optional[list[str]] = None,
                         run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return to_langchain(await self.model._agenerate(to_hookchain(messages), stop, None, **kwargs))

    @property
    def _llm_type(self) -> str:
        return self.model._llm_type

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return dict(self.model._identifying_params)

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Optional[Any] = None, **kwargs: Any) -> Any:
        """This model with ``tools`` bound as the wrapped hookchain model's
        ``bind_tools`` binds them. Raises ``NotImplementedError`` when it has none."""
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(**self.model.bind_tools(tools, **kwargs).kwargs)


class HookchainStreamingChatModel(HookchainChatModel):
    """A wrapped hookchain model implementing ``_stream``."""

    def _stream(self, messages: list[Any], stop: Optional[list[str]] = None,
                run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for chunk in self.model._stream(to_hookchain(messages), stop, None, **kwargs):
            yield to_langchain(chunk)

    async def _astream(self, messages: list[Any], stop: Optional[list[str]] = None,
                       run_manager: Any = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        async for chunk in self.model._astream(to_hookchain(messages), stop, None, **kwargs):
            yield to_langchain(chunk)


class HookchainAsyncStreamingChatModel(HookchainChatModel):
    """A wrapped hookchain model implementing only ``_astream``."""

    _astream = HookchainStreamingChatModel._astream


def as_langchain(model: Any, **fields: Any) -> HookchainChatModel:
    """``model`` (a hookchain ``BaseChatModel``) as a ``langchain_core``
    ``BaseChatModel``, named as ``model`` (its run name in LangChain's
    callbacks); ``fields`` are LangChain's (``callbacks``, ``tags``, ``rate_limiter``...).
    Streams when ``model`` implements ``_stream`` (sync and async) or ``_astream``
    (async only). Raises ``TypeError`` for anything else than a hookchain chat model."""
    if not isinstance(model, BaseChatModel):
        raise TypeError(f"as_langchain expects a hookchain BaseChatModel, got {type(model).__name__}")
    wrapper = {"sync": HookchainStreamingChatModel, "async": HookchainAsyncStreamingChatModel}.get(
        stream_kind(type(model), BaseChatModel), HookchainChatModel)
    fields.setdefault("name", model.get_name())
    return wrapper(model=model, **fields)
