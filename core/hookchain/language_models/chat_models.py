"""Chat models (as ``langchain_core.language_models.chat_models``).

Subclass ``BaseChatModel`` and implement ``_generate`` and ``_llm_type``;
optionally ``_stream``, ``_agenerate``, ``_astream`` and ``_identifying_params``.
Model options are pydantic fields (validated at construction; an unknown
option is an error naming the allowed ones).

A model whose provider calls tools overrides ``bind_tools`` (the base raises
``NotImplementedError``); ``with_structured_output`` then works through it,
as LangChain's base implementation.

How each entry point reaches your code, as LangChain 1.x:

* ``invoke``: ``_generate``; with ``streaming=True`` and a ``_stream``, the
  stream is consumed instead, so ``on_llm_new_token`` fires per chunk.
* ``stream``: ``_stream``, else one chunk from ``_generate``.
* ``ainvoke``: ``_agenerate``, else ``_generate`` in a worker thread.
* ``astream``: ``_astream``, else ``_stream`` in a worker thread, else ``_agenerate``.
* ``disable_streaming=True`` (or ``"tool_calling"`` with ``tools`` in the call):
  ``stream``/``astream`` yield one message from ``invoke``/``ainvoke``, and
  ``invoke`` never streams internally.
* A chunk the model marks ``chunk_position="last"`` is passed on as is;
  nothing is added after it.

The framework fires ``on_llm_new_token`` for every streamed chunk itself.
``_stream``/``_astream`` get a ``run_manager`` whose ``on_llm_new_token`` does
nothing (so a model's own calls, as in the seeds, cannot double tokens) but
whose ``on_retry``/``on_text`` work; LangChain 1.x passes no run manager there. Unlike LangChain 1.x, ``stream`` does not append
an extra empty chunk at the end (the seeds' ``c|a|t||`` holds).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, AsyncIterator, Iterator, Literal, Optional, Sequence, Union

from pydantic import ConfigDict, Field

from hookchain.callbacks.manager import (
    AsyncCallbackManager,
    AsyncCallbackManagerForLLMRun,
    CallbackManager,
    CallbackManagerForLLMRun,
    for_stream,
    token_sink,
)
from hookchain import model_hooks
from hookchain.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, convert_to_messages, message_chunk_to_message
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, LLMResult
from hookchain.prompt_values import PromptValue
from hookchain.runnables.base import Runnable, RunnableSerializable, _aclose, _close, _merge_all, _Total
from hookchain.runnables.config import RunnableConfig, ensure_config, run_in_executor
from hookchain.runnables.utils import iterate_in_thread

__all__ = ["BaseChatModel", "SimpleChatModel", "LanguageModelInput"]

LanguageModelInput = Any  # PromptValue | str | Sequence[message-like]


def _to_messages(input: Any) -> list[BaseMessage]:
    if isinstance(input, PromptValue):
        return input.to_messages()
    if isinstance(input, str):
        return [HumanMessage(input)]
    if isinstance(input, Sequence):
        return convert_to_messages(input)
    raise TypeError(
        f"a chat model takes a str, a list of messages or a PromptValue, got {type(input).__name__}"
    )


def _to_chunk(generation: ChatGeneration) -> ChatGenerationChunk:
    if isinstance(generation, ChatGenerationChunk):
        return generation
    message = generation.message
    return ChatGenerationChunk(
        AIMessageChunk(**{f: getattr(message, f) for f, _ in AIMessage._fields}), generation.generation_info
    )


def _cached_chunks(cached: Any) -> list[ChatGenerationChunk]:
    """A cache answer (``ChatResult`` or chunk list) as the chunks to replay."""
    if isinstance(cached, ChatResult):
        return [_to_chunk(cached.generations[0])]
    return list(cached)


def _is_pydantic_class(schema: Any) -> bool:
    """A pydantic (v2 or v1) model class, as LangChain's ``is_basemodel_subclass``."""
    if not isinstance(schema, type):
        return False
    from pydantic import BaseModel
    from pydantic.v1 import BaseModel as BaseModelV1

    return issubclass(schema, (BaseModel, BaseModelV1))


def _structured_output_option(kwargs: dict[str, Any]) -> Optional[dict[str, Any]]:
    """Pops ``ls_structured_output_format`` (or its old name
    ``structured_output_format``) from a call's ``kwargs`` and returns it as
    LangChain's ``on_chat_model_start`` option: ``{"kwargs": ..., "schema":
    <JSON schema>}`` (nothing when the schema cannot be converted)."""
    fmt = kwargs.pop("ls_structured_output_format", None) or kwargs.pop("structured_output_format", None)
    if not fmt:
        return None
    from hookchain.utils.function_calling import convert_to_json_schema

    try:
        return {"ls_structured_output_format": {"kwargs": fmt.get("kwargs", {}), "schema": convert_to_json_schema(fmt["schema"])}}
    except ValueError:
        return None


def _overrides(model: "BaseChatModel", name: str) -> bool:
    return getattr(type(model), name) is not getattr(BaseChatModel, name)


class BaseChatModel(RunnableSerializable[LanguageModelInput, AIMessage]):
    """Base class of chat models; also the type every model plugin registers.

    Fields:
        callbacks: constructor callbacks (list of handlers); fire for this
            model's own runs only.
        tags, metadata: added to this model's runs (not inherited further).
        streaming: when true, ``invoke`` streams internally through ``_stream``
            so ``on_llm_new_token`` fires (as ``ChatOpenAI(streaming=True)``).
        name: the run name (default: the class name).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", protected_namespaces=())

    callbacks: Optional[Any] = Field(default=None, exclude=True)
    tags: Optional[list[str]] = Field(default=None, exclude=True)
    metadata: Optional[dict[str, Any]] = Field(default=None, exclude=True)
    streaming: bool = False
    name: Optional[str] = None
    disable_streaming: Union[bool, Literal["tool_calling"]] = False
    """As LangChain's: ``True`` makes ``stream``/``astream`` answer with one
    message from ``invoke``/``ainvoke`` (and ``invoke`` never stream
    internally); ``"tool_calling"`` does so only for calls given ``tools``."""

    @property
    def InputType(self) -> Any:  # noqa: N802 - LangChain's name
        """What a chat model takes: a str, a list of message-likes or a ``PromptValue``."""
        return LanguageModelInput

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return AIMessage

    # -- what a subclass provides ---------------------------------------- #
    @abstractmethod
    def _generate(
        self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
        run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> ChatResult:
        """Answer ``messages``. If generation stops at a stop sequence, the
        sequence should be included in the output (as the seeds ask)."""

    def _stream(
        self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
        run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        raise NotImplementedError

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
        run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> ChatResult:
        sync_rm = run_manager.get_sync() if run_manager else None
        return await run_in_executor(None, self._generate, messages, stop, sync_rm, **kwargs)

    async def _astream(
        self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
        run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        if _overrides(self, "_stream"):  # the sync stream, pumped by one worker thread
            async for chunk in iterate_in_thread(
                self._stream(messages, stop, run_manager.get_sync() if run_manager else None, **kwargs)
            ):
                yield chunk
        else:
            result = await self._agenerate(messages, stop, **kwargs)
            yield _to_chunk(result.generations[0])

    @property
    @abstractmethod
    def _llm_type(self) -> str:
        """A short string naming the kind of model, for logs and tracing."""

    @property
    def _identifying_params(self) -> dict[str, Any]:
        """Parameters that identify this model configuration (include ``model_name``)."""
        return {}

    # -- internals ---------------------------------------------------------- #
    def _hc_invocation_params(self, stop: Optional[list[str]], kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**self._identifying_params, "_type": self._llm_type, "stop": stop, **kwargs}

    def _streaming_disabled(self, kwargs: dict[str, Any]) -> bool:
        disabled = self.disable_streaming
        return disabled is True or (disabled == "tool_calling" and bool(kwargs.get("tools")))

    def _should_stream(self, async_api: bool, handlers: Sequence[Any] = (), kwargs: Optional[dict[str, Any]] = None) -> bool:
        # As LangChain: stream when ``streaming`` is set or when a handler
        # consumes the stream (astream_events' handler), unless disabled.
        if not self.streaming:
            for h in handlers:
                if getattr(h, "_hc_consumes_stream", False):
                    break
            else:
                return False
        if self.disable_streaming and self._streaming_disabled(kwargs or {}):
            return False
        return _overrides(self, "_astream" if async_api else "_stream") or _overrides(self, "_stream")

    def _hc_configure(self, config: RunnableConfig, cls: type) -> Any:
        return cls.configure(config.get("callbacks"), self.callbacks, False, config.get("tags"), self.tags, config.get("metadata"), self.metadata)

    def _hc_start_kwargs(self, config: RunnableConfig, stop: Optional[list[str]], kwargs: dict[str, Any],
                         streamed: bool = False) -> dict[str, Any]:
        """``on_chat_model_start``'s keywords, as LangChain's: ``options`` is
        ``{"stop": stop}``, plus the call's ``kwargs`` for a streamed call,
        plus ``ls_structured_output_format`` (popped from ``kwargs``: it
        never reaches the model) with its schema as JSON schema."""
        structured = _structured_output_option(kwargs) if kwargs else None
        options = {"stop": stop, **kwargs} if streamed else {"stop": stop}
        if structured:
            options.update(structured)
        return {
            "invocation_params": self._hc_invocation_params(stop, kwargs),
            "options": options,
            "name": config.get("run_name"),
            "run_id": config.pop("run_id", None),
            "batch_size": 1,
        }

    @staticmethod
    def _hc_finish(result: ChatResult, run_id: Any) -> LLMResult:
        for i, generation in enumerate(result.generations):
            if generation.message.id is None:
                generation.message.id = f"run-{run_id}-{i}"
        return LLMResult(generations=[result.generations], llm_output=result.llm_output)

    @staticmethod
    def _hc_token(chunk: ChatGenerationChunk, chunk_id: str) -> str:
        """The chunk's text; a chunk without id gets ``chunk_id`` (``run-<run id>``)."""
        if chunk.message.id is None:
            chunk.message.id = chunk_id
        content = chunk.message.content
        return content if isinstance(content, str) else chunk.text

    @staticmethod
    def _hc_from_chunks(total: Optional[ChatGenerationChunk]) -> ChatResult:
        """The result of a stream whose chunks add up to ``total`` (``None``: no chunk)."""
        if total is None:
            return ChatResult(generations=[ChatGeneration(AIMessage(""))])
        return ChatResult(generations=[ChatGeneration(message_chunk_to_message(total.message), total.generation_info)])

    def _hc_streamed(self, total: Optional[ChatGenerationChunk], run_id: Any) -> LLMResult:
        # As LangChain: stream()/astream() end with the merged chunk itself
        # (an AIMessageChunk, also what astream_events reports as output).
        if total is None:
            return self._hc_finish(self._hc_from_chunks(total), run_id)
        return LLMResult(generations=[[total]])

    @staticmethod
    def _hc_partial(total: Optional[ChatGenerationChunk]) -> LLMResult:
        return LLMResult(generations=[[total]] if total is not None else [])

    def _hc_hooked(self, messages: list[BaseMessage], stop: Optional[list[str]], kwargs: dict[str, Any],
                rm: Any, streaming: bool, is_async: bool) -> Optional[model_hooks.ModelCall]:
        """The ``ModelCall`` for the enabled chat-model hooks, after
        ``chat_model_start`` ran; ``None`` (no cost) when no plugin is enabled."""
        if not model_hooks.active:
            return None
        call = model_hooks.ModelCall(self, messages, stop, dict(kwargs), rm, streaming, is_async)
        call.start()
        return call

    def _hc_chunks(self, call: Optional[model_hooks.ModelCall], messages: list[BaseMessage], stop: Optional[list[str]],
                   kwargs: dict[str, Any], rm: Any) -> Iterator[ChatGenerationChunk]:
        cached = call.cached() if call is not None else None
        if cached is not None:
            return iter(_cached_chunks(cached))
        return self._stream(messages, stop, for_stream(rm), **kwargs)

    def _hc_achunks(self, call: Optional[model_hooks.ModelCall], messages: list[BaseMessage], stop: Optional[list[str]],
                    kwargs: dict[str, Any], rm: Any) -> AsyncIterator[ChatGenerationChunk]:
        cached = call.cached() if call is not None else None
        if cached is None:
            return self._astream(messages, stop, for_stream(rm), **kwargs)

        async def replay() -> AsyncIterator[ChatGenerationChunk]:
            for chunk in _cached_chunks(cached):
                yield chunk

        return replay()

    # -- Runnable API ------------------------------------------------------- #
    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, *, stop: Optional[list[str]] = None, **kwargs: Any) -> AIMessage:
        """Answer ``input`` (a str, message list or prompt value) with one message.

        Fires ``on_chat_model_start``, ``on_llm_new_token`` per chunk when
        ``streaming``, then ``on_llm_end`` (or ``on_llm_error`` and re-raises).
        The message gets id ``run-<run_id>-0`` if the model set none.
        """
        config = ensure_config(config)
        messages = _to_messages(input)
        rm = self._hc_configure(config, CallbackManager).on_chat_model_start(
            self._serialized, [messages], **self._hc_start_kwargs(config, stop, kwargs))[0]
        streaming = self._should_stream(async_api=False, handlers=rm.handlers, kwargs=kwargs)
        call = None
        try:
            call = self._hc_hooked(messages, stop, kwargs, rm, streaming, is_async=False)
            if call is not None:
                messages, stop, kwargs = call.messages, call.stop, call.kwargs
            cached = call.cached() if call is not None and not streaming else None
            if streaming:
                total = _Total()
                chunk_id, sink = f"run-{rm.run_id}", token_sink(rm)
                for chunk in self._hc_chunks(call, messages, stop, kwargs, rm):
                    if call is not None:
                        call.chunk(chunk)
                    text = self._hc_token(chunk, chunk_id)
                    if sink is not None:
                        sink(text, chunk)
                    total.add(chunk)
                result = self._hc_from_chunks(total.value())
            elif cached is not None:
                result = cached if isinstance(cached, ChatResult) else self._hc_from_chunks(_merge_all(list(cached)))
            else:
                result = self._generate(messages, stop, rm, **kwargs)
            if call is not None:
                call.end(result)
            response = self._hc_finish(result, rm.run_id)
        except BaseException as e:
            if call is not None:
                call.error(e)
            rm.on_llm_error(e, response=LLMResult(generations=[]))
            raise
        rm.on_llm_end(response)
        return result.generations[0].message

    async def ainvoke(self, input: Any, config: Optional[RunnableConfig] = None, *, stop: Optional[list[str]] = None, **kwargs: Any) -> AIMessage:
        """Async ``invoke``: ``_agenerate`` (or ``_astream`` when ``streaming``)."""
        config = ensure_config(config)
        messages = _to_messages(input)
        rm = (await self._hc_configure(config, AsyncCallbackManager).on_chat_model_start(
            self._serialized, [messages], **self._hc_start_kwargs(config, stop, kwargs)))[0]
        streaming = self._should_stream(async_api=True, handlers=rm.handlers, kwargs=kwargs)
        call = None
        try:
            call = self._hc_hooked(messages, stop, kwargs, rm, streaming, is_async=True)
            if call is not None:
                messages, stop, kwargs = call.messages, call.stop, call.kwargs
            cached = call.cached() if call is not None and not streaming else None
            if streaming:
                total = _Total()
                chunk_id, sink = f"run-{rm.run_id}", token_sink(rm)
                async for chunk in self._hc_achunks(call, messages, stop, kwargs, rm):
                    if call is not None:
                        call.chunk(chunk)
                    text = self._hc_token(chunk, chunk_id)
                    if sink is not None:
                        await sink(text, chunk)
                    total.add(chunk)
                result = self._hc_from_chunks(total.value())
            elif cached is not None:
                result = cached if isinstance(cached, ChatResult) else self._hc_from_chunks(_merge_all(list(cached)))
            else:
                result = await self._agenerate(messages, stop, rm, **kwargs)
            if call is not None:
                call.end(result)
            response = self._hc_finish(result, rm.run_id)
        except BaseException as e:
            if call is not None:
                call.error(e)
            await rm.on_llm_error(e, response=LLMResult(generations=[]))
            raise
        await rm.on_llm_end(response)
        return result.generations[0].message

    def stream(self, input: Any, config: Optional[RunnableConfig] = None, *, stop: Optional[list[str]] = None, **kwargs: Any) -> Iterator[AIMessageChunk]:
        """Yield ``AIMessageChunk``s as ``_stream`` produces them, firing
        ``on_llm_new_token`` for each; without ``_stream``, one chunk from
        ``invoke``. Closing the stream early fires ``on_llm_error(GeneratorExit)``."""
        if not _overrides(self, "_stream") or (self.disable_streaming and self._streaming_disabled(kwargs)):
            yield self.invoke(input, config, stop=stop, **kwargs)
            return
        config = ensure_config(config)
        messages = _to_messages(input)
        rm = self._hc_configure(config, CallbackManager).on_chat_model_start(
            self._serialized, [messages], **self._hc_start_kwargs(config, stop, kwargs, streamed=True))[0]
        total = _Total()
        call, it = None, None
        try:
            call = self._hc_hooked(messages, stop, kwargs, rm, streaming=True, is_async=False)
            if call is not None:
                messages, stop, kwargs = call.messages, call.stop, call.kwargs
            keep = call is not None or bool(rm.handlers)  # else nobody sees the merged output
            it = self._hc_chunks(call, messages, stop, kwargs, rm)
            chunk_id, sink = f"run-{rm.run_id}", token_sink(rm)
            chunks, batch = total.chunks, total.BATCH
            for chunk in it:  # _hc_token and total.add, inline: once per chunk
                if call is not None:
                    call.chunk(chunk)
                message = chunk.message
                if message.id is None:
                    message.id = chunk_id
                if sink is not None:
                    content = message.content
                    sink(content if isinstance(content, str) else chunk.text, chunk)
                if keep:
                    chunks.append(chunk)
                    if len(chunks) > batch:
                        total.compact()
                yield chunk.message
            if keep:
                response = self._hc_streamed(total.value(), rm.run_id)
                if call is not None:
                    call.end(ChatResult(generations=response.generations[0]))
                rm.on_llm_end(response)
        except BaseException as e:
            try:
                _close(it)  # the model's own stream ends first
            finally:
                if call is not None:
                    call.error(e)
                rm.on_llm_error(e, response=self._hc_partial(total.value()))
            raise

    async def astream(self, input: Any, config: Optional[RunnableConfig] = None, *, stop: Optional[list[str]] = None, **kwargs: Any) -> AsyncIterator[AIMessageChunk]:
        """Async ``stream``: ``_astream`` (native, else ``_stream`` in a thread, else
        one chunk from ``_agenerate``)."""
        if not (_overrides(self, "_astream") or _overrides(self, "_stream")) or (
            self.disable_streaming and self._streaming_disabled(kwargs)
        ):
            yield await self.ainvoke(input, config, stop=stop, **kwargs)
            return
        config = ensure_config(config)
        messages = _to_messages(input)
        rm = (await self._hc_configure(config, AsyncCallbackManager).on_chat_model_start(
            self._serialized, [messages], **self._hc_start_kwargs(config, stop, kwargs, streamed=True)))[0]
        total = _Total()
        call, it = None, None
        try:
            call = self._hc_hooked(messages, stop, kwargs, rm, streaming=True, is_async=True)
            if call is not None:
                messages, stop, kwargs = call.messages, call.stop, call.kwargs
            keep = call is not None or bool(rm.handlers)  # else nobody sees the merged output
            it = self._hc_achunks(call, messages, stop, kwargs, rm)
            chunk_id, sink = f"run-{rm.run_id}", token_sink(rm)
            chunks, batch = total.chunks, total.BATCH
            async for chunk in it:  # as stream's loop
                if call is not None:
                    call.chunk(chunk)
                message = chunk.message
                if message.id is None:
                    message.id = chunk_id
                if sink is not None:
                    content = message.content
                    await sink(content if isinstance(content, str) else chunk.text, chunk)
                if keep:
                    chunks.append(chunk)
                    if len(chunks) > batch:
                        total.compact()
                yield chunk.message
            if keep:
                response = self._hc_streamed(total.value(), rm.run_id)
                if call is not None:
                    call.end(ChatResult(generations=response.generations[0]))
                await rm.on_llm_end(response)
        except BaseException as e:
            try:
                await _aclose(it)  # the model's own stream ends first (even if cancelled meanwhile)
            finally:
                if call is not None:
                    call.error(e)
                await rm.on_llm_error(e, response=self._hc_partial(total.value()))
            raise

    # -- tools and structured output --------------------------------------- #
    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Optional[str] = None, **kwargs: Any) -> Runnable:
        """This model with ``tools`` bound, as LangChain's ``bind_tools``.

        Args:
            tools: tools to offer the model: ``@tool``s / ``BaseTool``s, Python
                functions, pydantic models, ``TypedDict`` classes, JSON schemas
                or OpenAI tool dicts (anything
                ``hookchain.utils.function_calling.convert_to_openai_tool`` takes).
            tool_choice: which tool the model must call: a tool name,
                ``"auto"``, ``"any"``/``"required"`` (some tool) or ``"none"``;
                ``None`` leaves it to the model.
            **kwargs: further call options to bind.

        Returns:
            A runnable (usually ``self.bind(tools=..., tool_choice=...)``) whose
            ``AIMessage`` answers carry ``tool_calls`` (and ``tool_call_chunks``
            while streaming, ``invalid_tool_calls`` for arguments that are not
            JSON).

        Raises:
            NotImplementedError: always, here: a model that supports tool
                calling overrides this method (as LangChain's base class).
        """
        name = type(self).__name__
        raise NotImplementedError(
            f"{name} does not support tool calling: {name}.bind_tools is not implemented. A model plugin implements "
            f"it by converting each tool with hookchain.utils.function_calling.convert_to_openai_tool, returning "
            f"self.bind(tools=[...], tool_choice=tool_choice, **kwargs) and sending those tools with each request"
        )

    def with_structured_output(
        self, schema: Union[dict[str, Any], type], *, include_raw: bool = False,
        method: Optional[str] = None, strict: Optional[bool] = None, **kwargs: Any,
    ) -> Runnable:
        """A runnable answering with ``schema``-shaped objects, as LangChain's
        base ``with_structured_output``: ``bind_tools([schema],
        tool_choice="any")`` piped into a tool-call parser reading the first
        tool call (``PydanticToolsParser`` for a pydantic model, else
        ``JsonOutputKeyToolsParser`` keyed by the schema's name). Streams
        partial objects as the tool call's arguments grow.

        Args:
            schema: a pydantic model class (answers are validated instances), a
                ``TypedDict`` class, a JSON schema (a dict with a ``title``) or
                an OpenAI tool/function dict (answers are plain dicts, not
                validated).
            include_raw: when true, answer ``{"raw": AIMessage, "parsed":
                object or None, "parsing_error": exception or None}`` and never
                raise a parse error (``parsing_error`` holds it).
            method, strict: accepted and ignored here (the base class always
                uses tool calling, as LangChain's); a model overriding this
                method may honour ``"json_schema"`` / ``"json_mode"``.

        Raises:
            ValueError: an argument other than these is given.
            NotImplementedError: the model does not implement ``bind_tools``.

        Errors of the answer (without ``include_raw``): ``OutputParserException``
        when the tool called is not ``schema``'s, ``pydantic.ValidationError``
        when its arguments do not validate (as LangChain's parsers); ``None``
        when the model called no tool.
        """
        from operator import itemgetter

        from hookchain.output_parsers.openai_tools import JsonOutputKeyToolsParser, PydanticToolsParser
        from hookchain.runnables.base import RunnableParallel, RunnablePassthrough
        from hookchain.utils.function_calling import convert_to_openai_tool

        if kwargs:
            raise ValueError(
                f"Received unsupported arguments {kwargs}: with_structured_output takes schema, include_raw, method and strict"
            )
        if not _overrides(self, "bind_tools"):
            raise NotImplementedError(
                f"with_structured_output is not implemented for {type(self).__name__}: implement bind_tools (the base "
                f"with_structured_output binds the schema as a tool with tool_choice='any') or override with_structured_output"
            )
        llm = self.bind_tools([schema], tool_choice="any", ls_structured_output_format={
            "kwargs": {"method": "function_calling"}, "schema": schema})
        if _is_pydantic_class(schema):
            parser: Runnable = PydanticToolsParser(tools=[schema], first_tool_only=True)
        else:
            key_name = convert_to_openai_tool(schema)["function"]["name"]
            parser = JsonOutputKeyToolsParser(key_name=key_name, first_tool_only=True)
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
        no_parse = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableParallel(raw=llm) | parse.with_fallbacks([no_parse], exception_key="parsing_error")

    def __repr__(self) -> str:
        # pydantic's repr would show every field; keep it short and secret-free.
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__repr_args__() if k not in ("callbacks",))
        return f"{type(self).__name__}({fields})"


class SimpleChatModel(BaseChatModel):
    """A chat model that implements ``_call(messages, stop, run_manager) -> str``
    instead of ``_generate``."""

    def _generate(
        self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
        run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(AIMessage(self._call(messages, stop, run_manager, **kwargs)))])

    @abstractmethod
    def _call(
        self, messages: list[BaseMessage], stop: Optional[list[str]] = None,
        run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> str:
        """Answer ``messages`` with a string."""
