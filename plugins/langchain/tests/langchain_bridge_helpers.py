"""Shared by the bridge's tests: a LangChain handler recording every event, a
LangChain echo chat model (written against langchain_core only, as a
third-party integration would be), and the normalisation the event
comparisons use."""

from __future__ import annotations

from typing import Any, Iterator, Optional

from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

EVENTS = (
    "on_chat_model_start", "on_llm_start", "on_llm_new_token", "on_llm_end", "on_llm_error",
    "on_chain_start", "on_chain_end", "on_chain_error", "on_tool_start", "on_tool_end", "on_tool_error",
    "on_text", "on_retry", "on_custom_event",
)


def _recording(event: str, asynchronous: bool) -> Any:
    if asynchronous:
        async def method(self: Any, *args: Any, **kwargs: Any) -> None:
            self.log.append((event, args, kwargs))
    else:
        def method(self: Any, *args: Any, **kwargs: Any) -> None:
            self.log.append((event, args, kwargs))
    method.__name__ = event
    return method


class LCRecorder(BaseCallbackHandler):
    """A langchain_core handler keeping ``(event, args, kwargs)`` of every event."""

    def __init__(self) -> None:
        self.log: list[tuple[str, tuple, dict]] = []


class LCAsyncRecorder(AsyncCallbackHandler):
    """The async form of ``LCRecorder``."""

    def __init__(self) -> None:
        self.log: list[tuple[str, tuple, dict]] = []


for _event in EVENTS:
    setattr(LCRecorder, _event, _recording(_event, False))
    setattr(LCAsyncRecorder, _event, _recording(_event, True))


def norm(value: Any) -> Any:
    """Messages as ``(class, content, tool_calls, usage)``, generations and
    results by their parts, containers recursively; the library a class comes
    from is left out (both have the same names)."""
    if hasattr(value, "tool_call_id") or hasattr(value, "response_metadata"):
        parts = (type(value).__name__, value.content)
        if getattr(value, "tool_calls", None):
            parts += (tuple((c["name"], repr(c["args"])) for c in value.tool_calls),)
        if getattr(value, "usage_metadata", None):
            parts += (tuple(sorted(value.usage_metadata.items())),)
        return parts
    if hasattr(value, "generations"):
        return (type(value).__name__, norm(value.generations), value.llm_output)
    if hasattr(value, "message") and hasattr(value, "generation_info"):
        return (type(value).__name__, norm(value.message))
    if type(value).__name__ in ("ChatPromptValue",):
        return ("ChatPromptValue", norm(value.messages))
    if isinstance(value, (list, tuple)):
        return [norm(v) for v in value]
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    return value


def events(log: list[tuple[str, tuple, dict]], data: bool = True) -> list[tuple]:
    """Each event as ``(event, run, parent, name, data)``: run ids as small
    integers in order of first appearance, ``data`` the normalised positional
    arguments after ``serialized`` (and the ``chunk`` of a token)."""
    ids: dict[Any, int] = {}

    def number(run_id: Any) -> Optional[int]:
        return None if run_id is None else ids.setdefault(run_id, len(ids))

    out = []
    for event, args, kwargs in log:
        positional = args[1:] if event.endswith("_start") and event != "on_custom_event" else args
        if event == "on_llm_new_token" and not args:  # LangChain passes the token by keyword
            positional = (kwargs["token"],)
        item = (event, number(kwargs.get("run_id")), number(kwargs.get("parent_run_id")), kwargs.get("name"))
        if data:
            item += (norm(list(positional)), norm(kwargs.get("chunk")))
        out.append(item)
    return out


class LCEchoChatModel(BaseChatModel):
    """Echoes the last message (cut after the first stop sequence), one chunk
    per word; reports usage (words in, words out) and a model name."""

    model_name: str = "lc-echo"
    streaming: bool = False  # as ChatOpenAI's: invoke streams internally (the bridge follows it)

    def _answer(self, messages: list[Any], stop: Optional[list[str]]) -> str:
        if not messages:
            raise ValueError("LCEchoChatModel needs at least one message")
        text = messages[-1].text
        for s in stop or ():
            if s and s in text:
                text = text[: text.index(s) + len(s)]
        return text

    def _usage(self, messages: list[Any], text: str) -> dict[str, int]:
        words_in = sum(len(m.text.split()) for m in messages)
        words_out = len(text.split())
        return {"input_tokens": words_in, "output_tokens": words_out, "total_tokens": words_in + words_out}

    def _generate(self, messages: list[Any], stop: Optional[list[str]] = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        text = self._answer(messages, stop)
        message = AIMessage(content=text, usage_metadata=self._usage(messages, text),
                            response_metadata={"model_name": self.model_name})
        return ChatResult(generations=[ChatGeneration(message=message, generation_info={"finish_reason": "stop"})],
                          llm_output={"model_name": self.model_name})

    def _stream(self, messages: list[Any], stop: Optional[list[str]] = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        text = self._answer(messages, stop)
        words = text.split(" ")
        for i, word in enumerate(words):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word if i == 0 else " " + word))
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=self._usage(messages, text),
                                   response_metadata={"model_name": self.model_name}),
            generation_info={"finish_reason": "stop"})

    @property
    def _llm_type(self) -> str:
        return "lc-echo"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}
