"""Fake text-completion models for tests (as ``langchain_core.language_models.fake``).

``FakeListLLM`` answers with ``responses`` in order, cycling; ``i`` is the
index of the next answer. ``FakeStreamingListLLM`` streams the answer one
character per string, sleeping ``sleep`` seconds before each when set, and
raises ``FakeListLLMError`` at character ``error_on_chunk_number``. As
LangChain, its ``stream``/``astream`` run ``invoke``/``ainvoke`` (one run with
``on_llm_start``/``on_llm_end``, no ``on_llm_new_token``) and then split the
answer, so the error is raised after the run ended.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Iterator, Optional

from hookchain.callbacks.manager import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from hookchain.language_models.llms import LLM
from hookchain.runnables.config import RunnableConfig

__all__ = ["FakeListLLM", "FakeListLLMError", "FakeStreamingListLLM"]


class FakeListLLM(LLM):
    """Answers with ``responses`` (list of str) in order, cycling back to the
    first after the last; ``i`` is the next index. ``sleep`` (seconds) is used
    by ``FakeStreamingListLLM`` only."""

    responses: list[str]
    sleep: Optional[float] = None
    i: int = 0

    @property
    def _llm_type(self) -> str:
        return "fake-list"

    def _next(self) -> str:
        response = self.responses[self.i]
        self.i = self.i + 1 if self.i < len(self.responses) - 1 else 0
        return response

    def _call(self, prompt: str, stop: Optional[list[str]] = None,
              run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> str:
        return self._next()

    async def _acall(self, prompt: str, stop: Optional[list[str]] = None,
                     run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> str:
        return self._next()

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"responses": self.responses}


class FakeListLLMError(Exception):
    """What ``FakeStreamingListLLM`` raises at ``error_on_chunk_number``."""


class FakeStreamingListLLM(FakeListLLM):
    """``FakeListLLM`` whose ``stream``/``astream`` yield the answer one
    character at a time; raises ``FakeListLLMError`` instead of character
    number ``error_on_chunk_number`` (0-based) when set."""

    error_on_chunk_number: Optional[int] = None

    def _chars(self, text: str) -> Iterator[str]:
        for i, char in enumerate(text):
            if self.error_on_chunk_number is not None and i == self.error_on_chunk_number:
                raise FakeListLLMError
            yield char

    def stream(self, input: Any, config: Optional[RunnableConfig] = None, *,
               stop: Optional[list[str]] = None, **kwargs: Any) -> Iterator[str]:
        for char in self._chars(self.invoke(input, config)):
            if self.sleep is not None:
                time.sleep(self.sleep)
            yield char

    async def astream(self, input: Any, config: Optional[RunnableConfig] = None, *,
                      stop: Optional[list[str]] = None, **kwargs: Any) -> AsyncIterator[str]:
        for char in self._chars(await self.ainvoke(input, config)):
            if self.sleep is not None:
                await asyncio.sleep(self.sleep)
            yield char
