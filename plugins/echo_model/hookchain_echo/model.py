"""The echo models: the seeds' ``CustomChatModelAdvanced`` made real, and its
text-completion twin."""

import time
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Tuple

from hookchain.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from hookchain.language_models import LLM, BaseChatModel
from hookchain.messages import AIMessage, AIMessageChunk, BaseMessage
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, GenerationChunk
from pydantic import Field


def echo(text: str, n: int, stop: Optional[List[str]]) -> Tuple[str, str]:
    """The first ``n`` characters of ``text``, cut just after the first
    occurrence of any ``stop`` sequence (kept, as the seeds ask), and the finish
    reason: "stop", "length" or "stop_sequence"."""
    reason = "length" if len(text) > n else "stop"
    text = text[:n]
    cut = None
    for s in stop or ():
        i = text.find(s) if s else -1
        if i >= 0 and (cut is None or i + len(s) < cut):
            cut = i + len(s)
    if cut is not None:
        text, reason = text[:cut], "stop_sequence"
    return text, reason


class EchoChatModel(BaseChatModel):
    """Echoes the first ``n`` characters of the last message's text.

    Streams one character per chunk. With ``stop`` sequences, the echo is cut
    just after the first occurrence of any of them (the stop sequence included,
    as the seeds ask). Native sync and async paths; no I/O.

    Example:
        model = EchoChatModel(n=3)
        model.invoke("hello")   # AIMessage(content='hel', ...)
    """

    model_name: str = "echo"
    """Reported in ``_identifying_params`` and ``response_metadata``."""
    n: int = Field(default=200, ge=0)
    """How many characters of the last message to echo (characters, >= 0)."""
    delay: float = Field(default=0.0, ge=0)
    """Simulated latency: seconds to wait before answering (``time.sleep`` on the
    sync paths, ``asyncio.sleep`` on the async ones); 0: none."""

    def _answer(self, messages: List[BaseMessage], stop: Optional[List[str]]) -> tuple:
        if not messages:
            raise ValueError("EchoChatModel needs at least one message")
        text, reason = echo(messages[-1].text, self.n, stop)
        return text, {"model_name": self.model_name, "finish_reason": reason}

    def _generate(self, messages: List[BaseMessage], stop: Optional[List[str]] = None,
                  run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        if self.delay:
            time.sleep(self.delay)
        return self._result(messages, stop)

    def _result(self, messages: List[BaseMessage], stop: Optional[List[str]]) -> ChatResult:
        text, meta = self._answer(messages, stop)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text, response_metadata=meta))])

    async def _agenerate(self, messages: List[BaseMessage], stop: Optional[List[str]] = None,
                         run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> ChatResult:
        if self.delay:
            import asyncio  # here: a sync-only program never imports it

            await asyncio.sleep(self.delay)
        return self._result(messages, stop)

    def _chunks(self, messages: List[BaseMessage], stop: Optional[List[str]]) -> Iterator[ChatGenerationChunk]:
        text, meta = self._answer(messages, stop)
        for char in text:
            yield ChatGenerationChunk(message=AIMessageChunk(content=char))
        yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata=meta))

    def _stream(self, messages: List[BaseMessage], stop: Optional[List[str]] = None,
                run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        if self.delay:
            time.sleep(self.delay)
        return self._chunks(messages, stop)

    async def _astream(self, messages: List[BaseMessage], stop: Optional[List[str]] = None,
                       run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        if self.delay:
            import asyncio  # here: a sync-only program never imports it

            await asyncio.sleep(self.delay)
        for chunk in self._chunks(messages, stop):
            yield chunk

    @property
    def _llm_type(self) -> str:
        return "echo"

    @property
    def _identifying_params(self) -> Dict[str, Any]:
        return {"model_name": self.model_name, "n": self.n, **({"delay": self.delay} if self.delay else {})}


class EchoLLM(LLM):
    """The text-completion echo: answers with the first ``n`` characters of the
    prompt string (a chat prompt arrives as LangChain's buffer string,
    ``"Human: ..."``), cut after a stop sequence as ``EchoChatModel``; streams
    one character per chunk. Registered as ``echo-llm``.

    Example:
        EchoLLM(n=3).invoke("hello")   # 'hel'
    """

    model_name: str = "echo-llm"
    """Reported in ``_identifying_params``."""
    n: int = Field(default=200, ge=0)
    """How many characters of the prompt to echo (characters, >= 0)."""

    def _call(self, prompt: str, stop: Optional[List[str]] = None,
              run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> str:
        return echo(prompt, self.n, stop)[0]

    async def _acall(self, prompt: str, stop: Optional[List[str]] = None,
                     run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> str:
        return self._call(prompt, stop)

    def _stream(self, prompt: str, stop: Optional[List[str]] = None,
                run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any) -> Iterator[GenerationChunk]:
        for char in self._call(prompt, stop):
            yield GenerationChunk(text=char)

    async def _astream(self, prompt: str, stop: Optional[List[str]] = None,
                       run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any) -> AsyncIterator[GenerationChunk]:
        for chunk in self._stream(prompt, stop):
            yield chunk

    @property
    def _llm_type(self) -> str:
        return "echo-llm"

    @property
    def _identifying_params(self) -> Dict[str, Any]:
        return {"model_name": self.model_name, "n": self.n}
