"""A small chat model for driving handlers in tests (not registered as a plugin)."""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Optional

from hookchain.language_models import BaseChatModel
from hookchain.messages import AIMessage, AIMessageChunk, BaseMessage
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

__all__ = ["ConformanceChatModel", "ConformanceFailure"]


class ConformanceFailure(RuntimeError):
    """The error the suites plant (in a failing model or a raising handler)."""


class ConformanceChatModel(BaseChatModel):
    """Answers with the last message's words, one chunk per word; sync and
    native async paths; honours stop sequences (kept in the output); reports
    usage. With ``fail=True`` every call raises ``ConformanceFailure``.
    """

    model_name: str = "conformance"
    fail: bool = False

    def _answer(self, messages: list[BaseMessage], stop: Optional[list[str]]) -> list[str]:
        if self.fail:
            raise ConformanceFailure("the conformance model was asked to fail")
        text = messages[-1].text if messages else ""
        for s in stop or ():
            i = text.find(s) if s else -1
            if i >= 0:
                text = text[: i + len(s)]
        words = text.split(" ")
        return [w + " " for w in words[:-1]] + [words[-1]]

    def _usage(self, messages: list[BaseMessage], parts: list[str]) -> dict[str, int]:
        n_in = sum(len(m.text.split()) for m in messages)
        return {"input_tokens": n_in, "output_tokens": len(parts), "total_tokens": n_in + len(parts)}

    def _generate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        parts = self._answer(messages, stop)
        message = AIMessage(
            content="".join(parts), usage_metadata=self._usage(messages, parts),
            response_metadata={"model_name": self.model_name, "finish_reason": "stop"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return self._generate(messages, stop, **kwargs)

    def _stream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None, run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        parts = self._answer(messages, stop)
        for part in parts:
            yield ChatGenerationChunk(message=AIMessageChunk(content=part))
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="", usage_metadata=self._usage(messages, parts),
            response_metadata={"model_name": self.model_name, "finish_reason": "stop"},
        ))

    async def _astream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None, run_manager: Any = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._stream(messages, stop, **kwargs):
            yield chunk

    @property
    def _llm_type(self) -> str:
        return "conformance"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}
