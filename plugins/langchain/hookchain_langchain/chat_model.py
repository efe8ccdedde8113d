"""LangChain chat models as hookchain models: the ``langchain`` model.

``from_langchain(chat_model)`` wraps a ``langchain_core`` ``BaseChatModel``
instance; ``langchain_model(**options)`` (what ``hookchain.get_model("langchain",
class_=..., ...)`` and a ``[models.langchain]`` table call) builds the class its
``class`` option names with the other options. The wrapper is a hookchain
``BaseChatModel``: hookchain runs ``invoke``/``stream``/``batch`` and their async
forms, fires the callbacks and the chat-model hooks (cache, redact); only the
model's own work is LangChain's: its ``_generate``/``_agenerate``/``_stream``/
``_astream``, called with the messages converted to LangChain's and their
answers converted back (``hookchain_langchain.convert``). LangChain's callbacks,
cache and tracing of the wrapped model are therefore not involved.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Optional, Sequence

from hookchain.language_models import BaseChatModel
from hookchain.messages import BaseMessage
from hookchain.outputs import ChatGenerationChunk, ChatResult
from langchain_core.language_models import BaseChatModel as LCBaseChatModel
from pydantic import Field

from hookchain_langchain.convert import to_hookchain, to_langchain
from hookchain_langchain.options import check_options, load_class

__all__ = ["LangChainChatModel", "LangChainStreamingChatModel", "LangChainAsyncStreamingChatModel", "from_langchain", "langchain_model"]

#: Options of ``langchain_model`` that configure the hookchain wrapper (its
#: runs), not the LangChain model.
_WRAPPER_OPTIONS = ("callbacks", "tags", "metadata", "name")
_WHAT = "model 'langchain'"
_GATEWAY_KEY = "_gateway_metadata"  # LangChain's generation_info key kept out of response_metadata


def _with_metadata(generation: Any) -> Any:
    """As LangChain's ``BaseChatModel`` does after ``_generate``/``_stream``: the
    generation's ``generation_info`` goes into its message's ``response_metadata``."""
    info = generation.generation_info
    if info:
        generation.message.response_metadata = {
            **{k: v for k, v in info.items() if k != _GATEWAY_KEY}, **generation.message.response_metadata}
    return generation


def _result(result: Any) -> ChatResult:
    """A LangChain ``ChatResult`` as hookchain's, with LangChain's metadata merge
    (``generation_info``, and ``llm_output`` for a single generation)."""
    for generation in result.generations:
        _with_metadata(generation)
    if len(result.generations) == 1 and result.llm_output is not None:
        message = result.generations[0].message
        message.response_metadata = {**result.llm_output, **message.response_metadata}
    return to_hookchain(result)


class LangChainChatModel(BaseChatModel):
    """A ``langchain_core`` chat model run by hookchain.

    Fields:
        chat_model: the ``langchain_core.language_models.BaseChatModel`` instance.
        streaming, disable_streaming: default to the wrapped model's own
            (``ChatOpenAI(streaming=True)`` streams inside ``invoke`` here too).

    Build it with ``from_langchain(chat_model)`` (which picks the subclass
    matching the streaming methods the model implements) or
    ``hookchain.get_model("langchain", class_="module:Class", ...)``.
    """

    chat_model: Any = Field(description="the wrapped langchain_core BaseChatModel")

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        if not isinstance(self.chat_model, LCBaseChatModel):
            raise TypeError(f"chat_model must be a langchain_core BaseChatModel, got {type(self.chat_model).__name__}")
        fields = self.model_fields_set
        if "streaming" not in fields and getattr(self.chat_model, "streaming", False) is True:
            self.streaming = True
        if "disable_streaming" not in fields:
            self.disable_streaming = self.chat_model.disable_streaming

    def _generate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return _result(self.chat_model._generate(to_langchain(messages), stop=stop, **kwargs))

    async def _agenerate(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                         run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return _result(await self.chat_model._agenerate(to_langchain(messages), stop=stop, **kwargs))

    @property
    def _llm_type(self) -> str:
        return self.chat_model._llm_type

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return dict(self.chat_model._identifying_params)

    def get_name(self, suffix: Optional[str] = None, *, name: Optional[str] = None) -> str:
        """The run name: ``name``, else this wrapper's ``name``, else the wrapped model's (its class name)."""
        return super().get_name(suffix, name=name or self.name or self.chat_model.get_name())

    @property
    def _serialized(self) -> dict[str, Any]:
        cls = type(self.chat_model)
        return {"id": [*cls.__module__.split("."), cls.__name__], "name": self.get_name()}

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Optional[Any] = None, **kwargs: Any) -> Any:
        """This model with ``tools`` bound as the wrapped model's own ``bind_tools``
        binds them (its provider's tool format and ``tool_choice`` values).

        Args:
            tools: hookchain or LangChain tools, functions, pydantic models or
                OpenAI tool dicts (hookchain ones are converted with
                ``hookchain.utils.function_calling.convert_to_openai_tool``).
            tool_choice: passed on when given.
            **kwargs: further options of the wrapped ``bind_tools``.

        Raises ``NotImplementedError`` when the wrapped model has no tool calling.
        """
        from hookchain.utils.function_calling import convert_to_openai_tool
        from langchain_core.tools import BaseTool as LCBaseTool

        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        lc_tools = [t if isinstance(t, (dict, LCBaseTool)) else convert_to_openai_tool(t) for t in tools]
        return self.bind(**self.chat_model.bind_tools(lc_tools, **kwargs).kwargs)


class LangChainStreamingChatModel(LangChainChatModel):
    """A wrapped model implementing ``_stream`` (its ``_astream`` is LangChain's
    own, or LangChain's default over ``_stream``)."""

    def _stream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for chunk in self.chat_model._stream(to_langchain(messages), stop=stop, **kwargs):
            yield to_hookchain(_with_metadata(chunk))

    async def _astream(self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
                       run_manager: Any = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        async for chunk in self.chat_model._astream(to_langchain(messages), stop=stop, **kwargs):
            yield to_hookchain(_with_metadata(chunk))


class LangChainAsyncStreamingChatModel(LangChainChatModel):
    """A wrapped model implementing only ``_astream``."""

    _astream = LangChainStreamingChatModel._astream


def stream_kind(cls: type, base: type) -> str:
    """How model class ``cls`` (a subclass of ``base``, LangChain's or hookchain's
    ``BaseChatModel``) streams: ``"sync"`` (it implements ``_stream``; async
    streaming then works too), ``"async"`` (only ``_astream``) or ``""`` (no streaming)."""
    if cls._stream is not base._stream:
        return "sync"
    return "async" if cls._astream is not base._astream else ""


def from_langchain(chat_model: Any, **fields: Any) -> LangChainChatModel:
    """``chat_model`` (a ``langchain_core`` ``BaseChatModel`` instance) as a
    hookchain chat model; ``fields`` are the wrapper's (``callbacks``, ``tags``,
    ``metadata``, ``name``, ``streaming``...). It streams when the wrapped model
    implements ``_stream`` (sync and async) or ``_astream`` (async only), as in
    LangChain. Raises ``TypeError`` for anything else than a LangChain chat model."""
    if not isinstance(chat_model, LCBaseChatModel):
        raise TypeError(f"from_langchain expects a langchain_core BaseChatModel, got {type(chat_model).__name__}")
    wrapper = {"sync": LangChainStreamingChatModel, "async": LangChainAsyncStreamingChatModel}.get(
        stream_kind(type(chat_model), LCBaseChatModel), LangChainChatModel)
    return wrapper(chat_model=chat_model, **fields)


def langchain_model(**options: Any) -> LangChainChatModel:
    """The ``langchain`` model's factory: ``class`` (or ``class_``; ``"module:Class"``)
    names a LangChain chat model class, built with the other options
    (``callbacks``, ``tags``, ``metadata`` and ``name`` go to the hookchain wrapper).

    Raises ``hookchain.errors.OptionError`` for a missing or unimportable class
    (naming the package to install), an option the class has no field for, and
    (through hookchain) pydantic's validation errors of the class.
    """
    spec = options.pop("class", None)
    spec = options.pop("class_", spec)
    own = {k: options.pop(k) for k in _WRAPPER_OPTIONS if k in options}
    cls = load_class(_WHAT, spec, LCBaseChatModel, "langchain_openai:ChatOpenAI")
    check_options(_WHAT, cls, options)
    return from_langchain(cls(**options), **own)
