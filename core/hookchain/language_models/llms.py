"""Text-completion models (as ``langchain_core.language_models.llms``).

A text-completion model takes a prompt string and returns a string. Subclass
``LLM`` and implement ``_call`` and ``_llm_type`` (optionally ``_acall``,
``_stream``, ``_astream``, ``_identifying_params``), or subclass ``BaseLLM``
and implement ``_generate`` (many prompts at once, ``LLMResult`` out).

Input, as LangChain: a str, a list of message-likes (joined with
``get_buffer_string``: ``"Human: hi\\nAI: hello"``) or a ``PromptValue``
(its ``to_string()``).

How each entry point reaches your code, as LangChain 1.x:

* ``invoke``/``generate``/``batch``: ``_generate`` (``LLM``: ``_call`` per
  prompt). ``batch`` sends all prompts to one ``_generate`` call and opens one
  run per prompt (``on_llm_start`` for each, then ``on_llm_end`` for each); if
  it raises, every run gets ``on_llm_error``.
* ``ainvoke``/``agenerate``/``abatch``: ``_agenerate`` (``LLM``: ``_acall``,
  else ``_call`` in a worker thread).
* ``stream``: ``_stream``, else one string from ``invoke``.
* ``astream``: ``_astream``, else ``_stream`` in a worker thread, else one
  string from ``ainvoke``.

Callback events: ``on_llm_start(serialized, [prompt], invocation_params=...,
options={"stop": stop}, name=run_name, batch_size=n)``, then ``on_llm_end``
with an ``LLMResult`` of ``Generation``s (``GenerationChunk`` when streamed),
or ``on_llm_error(error, response=LLMResult(...))`` and the error is re-raised.
``invocation_params`` is ``{**_identifying_params, "_type": _llm_type,
"stop": stop}`` (``stream``/``astream`` also add the call's keyword
arguments, as LangChain).

Difference from LangChain 1.x: ``stream``/``astream`` fire
``on_llm_new_token`` for every chunk themselves (as hookchain's chat models);
``_stream``/``_astream`` get a run manager whose ``on_llm_new_token`` does
nothing, so a model written for LangChain that reports its own tokens gives
the same events in both. ``on_llm_start`` gets ``{"id": [...], "name": ...}``
as ``serialized`` (LangChain: ``dumpd(self)``). No LLM cache.
"""

from __future__ import annotations

import inspect
from abc import abstractmethod
from typing import Any, AsyncIterator, Callable, Iterator, Optional, Sequence

from pydantic import ConfigDict, Field

from hookchain.callbacks.manager import (
    AsyncCallbackManager,
    AsyncCallbackManagerForLLMRun,
    BaseCallbackManager,
    CallbackManager,
    CallbackManagerForLLMRun,
    for_stream,
)
from hookchain.messages import convert_to_messages, get_buffer_string
from hookchain.outputs import Generation, GenerationChunk, LLMResult
from hookchain.prompt_values import PromptValue
from hookchain.runnables.base import RunnableSerializable, _aclose, _close, _Total
from hookchain.runnables.config import RunnableConfig, ensure_config, get_config_list, run_in_executor
from hookchain.runnables.utils import iterate_in_thread

__all__ = ["BaseLLM", "LLM"]


def _prompt_string(input: Any) -> str:
    if isinstance(input, PromptValue):
        return input.to_string()
    if isinstance(input, str):
        return input
    if isinstance(input, Sequence):
        return get_buffer_string(convert_to_messages(input))
    raise ValueError(f"Invalid input type {type(input)}. Must be a PromptValue, str, or list of BaseMessages.")


def _overrides(model: "BaseLLM", name: str) -> bool:
    return getattr(type(model), name) is not getattr(BaseLLM, name)


_TAKES_RUN_MANAGER: dict[Any, bool] = {}


def _takes_run_manager(method: Callable[..., Any]) -> bool:
    """Whether ``_call``/``_acall``/``_generate`` accepts ``run_manager`` (old
    models may not; LangChain then calls them without it). Cached per function."""
    func = getattr(method, "__func__", method)
    found = _TAKES_RUN_MANAGER.get(func)
    if found is None:
        found = _TAKES_RUN_MANAGER[func] = "run_manager" in inspect.signature(func).parameters
    return found


def _flatten(result: LLMResult) -> list[LLMResult]:
    """One ``LLMResult`` per prompt, as LangChain's ``LLMResult.flatten``: only the
    first keeps ``llm_output["token_usage"]`` (no double counting)."""
    out = []
    for i, generations in enumerate(result.generations):
        llm_output = result.llm_output
        if i and llm_output is not None:
            llm_output = {**llm_output, "token_usage": {}}
        out.append(LLMResult(generations=[generations], llm_output=llm_output))
    return out


def _per_prompt(value: Any, n: int, what: str) -> list[Any]:
    if value is None:
        return [None] * n
    if not (isinstance(value, list) and len(value) == n):
        raise ValueError(f"{what} must be a list of the same length as prompts")
    return value


class BaseLLM(RunnableSerializable[Any, str]):
    """Base class of text-completion models (prompt string in, string out).

    Fields:
        callbacks: constructor callbacks (list of handlers); fire for this
            model's own runs only.
        tags, metadata: added to this model's runs.
        name: the run name (default: the class name).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", protected_namespaces=())

    callbacks: Optional[Any] = Field(default=None, exclude=True)
    tags: Optional[list[str]] = Field(default=None, exclude=True)
    metadata: Optional[dict[str, Any]] = Field(default=None, exclude=True)
    name: Optional[str] = None

    @property
    def InputType(self) -> Any:  # noqa: N802 - LangChain's name
        """What a text model takes: a str, a list of message-likes or a ``PromptValue``."""
        return Any

    @property
    def OutputType(self) -> Any:  # noqa: N802
        return str

    # -- what a subclass provides ---------------------------------------- #
    @abstractmethod
    def _generate(
        self, prompts: list[str], stop: Optional[list[str]] = None,
        run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> LLMResult:
        """Complete every prompt: an ``LLMResult`` whose ``generations[i]`` is
        the list of ``Generation``s for ``prompts[i]``."""

    async def _agenerate(
        self, prompts: list[str], stop: Optional[list[str]] = None,
        run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> LLMResult:
        sync_rm = run_manager.get_sync() if run_manager else None
        return await run_in_executor(None, self._generate, prompts, stop, sync_rm, **kwargs)

    def _stream(
        self, prompt: str, stop: Optional[list[str]] = None,
        run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        """Yield ``GenerationChunk``s for ``prompt`` (optional)."""
        raise NotImplementedError

    async def _astream(
        self, prompt: str, stop: Optional[list[str]] = None,
        run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        """Async ``_stream``; by default ``_stream`` pumped by one worker thread."""
        async for chunk in iterate_in_thread(
            self._stream(prompt, stop, run_manager.get_sync() if run_manager else None, **kwargs)
        ):
            yield chunk

    @property
    @abstractmethod
    def _llm_type(self) -> str:
        """A short string naming the kind of model, for logs and tracing."""

    @property
    def _identifying_params(self) -> dict[str, Any]:
        """Parameters that identify this model configuration (include ``model_name``)."""
        return {}

    def asdict(self) -> dict[str, Any]:
        """``_identifying_params`` plus ``"_type": _llm_type``, as LangChain's ``BaseLLM.asdict``."""
        return {**self._identifying_params, "_type": self._llm_type}

    def __str__(self) -> str:
        return f"\033[1m{type(self).__name__}\033[0m\nParams: {self._identifying_params}"

    # -- internals ---------------------------------------------------------- #
    def _hc_manager(self, cls: type, callbacks: Any, tags: Any, metadata: Any) -> Any:
        return cls.configure(callbacks, self.callbacks, False, tags, self.tags, metadata, self.metadata)

    def _hc_start(self, managers: list[Any], prompts: list[str], stop: Optional[list[str]],
                  names: list[Optional[str]], run_ids: list[Any]) -> list[Any]:
        """``on_llm_start`` per prompt: the run managers (sync managers) or
        awaitables of them (async managers)."""
        params = {**self.asdict(), "stop": stop}
        return [
            cm.on_llm_start(self._serialized, [prompt], invocation_params=params, options={"stop": stop},
                            name=name, batch_size=len(prompts), run_id=run_id)
            for cm, prompt, name, run_id in zip(managers, prompts, names, run_ids)
        ]

    def _hc_call_generate(self, prompts: list[str], stop: Optional[list[str]], rm: Any, kwargs: dict[str, Any]) -> Any:
        if _takes_run_manager(self._generate):
            return self._generate(prompts, stop=stop, run_manager=rm, **kwargs)
        return self._generate(prompts, stop=stop)

    def _hc_call_agenerate(self, prompts: list[str], stop: Optional[list[str]], rm: Any, kwargs: dict[str, Any]) -> Any:
        if _takes_run_manager(self._agenerate):
            return self._agenerate(prompts, stop=stop, run_manager=rm, **kwargs)
        return self._agenerate(prompts, stop=stop)

    def _hc_managers(self, cls: type, n: int, callbacks: Any, tags: Any, metadata: Any, run_name: Any) -> tuple[list[Any], list[Any]]:
        """One callback manager and run name per prompt (``callbacks``, ``tags``,
        ``metadata``, ``run_name`` given once for all or as per-prompt lists)."""
        if isinstance(callbacks, list) and callbacks and (callbacks[0] is None or isinstance(callbacks[0], (list, BaseCallbackManager))):
            if len(callbacks) != n:
                raise ValueError("callbacks must be the same length as prompts")
            tags_list, meta_list = _per_prompt(tags, n, "tags"), _per_prompt(metadata, n, "metadata")
            managers = [self._hc_manager(cls, c, t, m) for c, t, m in zip(callbacks, tags_list, meta_list)]
            return managers, _per_prompt(run_name, n, "run_name")
        return [self._hc_manager(cls, callbacks, tags, metadata)] * n, [run_name] * n

    @staticmethod
    def _hc_run_ids(run_id: Any, n: int) -> list[Any]:
        if isinstance(run_id, list):
            if len(run_id) != n:
                raise ValueError(f"run_id has {len(run_id)} ids for {n} prompts: give one per prompt")
            return run_id
        return [run_id] + [None] * (n - 1)

    # -- generate ------------------------------------------------------------- #
    def generate(
        self, prompts: list[str], stop: Optional[list[str]] = None, callbacks: Any = None, *,
        tags: Any = None, metadata: Any = None, run_name: Any = None, run_id: Any = None, **kwargs: Any,
    ) -> LLMResult:
        """Complete ``prompts`` (list of str) in one ``_generate`` call, one run
        per prompt, as LangChain's ``BaseLLM.generate``. ``callbacks``, ``tags``,
        ``metadata``, ``run_name``, ``run_id`` apply to all prompts or, given as
        lists, one per prompt. Raises ``ValueError`` if ``prompts`` is not a list
        or a per-prompt list has the wrong length; the model's error (after
        ``on_llm_error`` for every run)."""
        if not isinstance(prompts, list):
            raise ValueError(f"Argument 'prompts' is expected to be of type list[str], received argument of type {type(prompts)}.")
        managers, names = self._hc_managers(CallbackManager, len(prompts), callbacks, tags, metadata, run_name)
        rms = [r[0] for r in self._hc_start(managers, prompts, stop, names, self._hc_run_ids(run_id, len(prompts)))]
        return self._hc_generate(prompts, stop, rms, kwargs)

    def _hc_generate(self, prompts: list[str], stop: Optional[list[str]], rms: list[Any], kwargs: dict[str, Any]) -> LLMResult:
        try:
            output = self._hc_call_generate(prompts, stop, rms[0] if rms else None, kwargs)
        except BaseException as e:
            for rm in rms:
                rm.on_llm_error(e, response=LLMResult(generations=[]))
            raise
        for rm, flat in zip(rms, _flatten(output)):
            rm.on_llm_end(flat)
        return output

    async def agenerate(
        self, prompts: list[str], stop: Optional[list[str]] = None, callbacks: Any = None, *,
        tags: Any = None, metadata: Any = None, run_name: Any = None, run_id: Any = None, **kwargs: Any,
    ) -> LLMResult:
        """Async ``generate`` (``_agenerate``)."""
        if not isinstance(prompts, list):
            raise ValueError(f"Argument 'prompts' is expected to be of type list[str], received argument of type {type(prompts)}.")
        managers, names = self._hc_managers(AsyncCallbackManager, len(prompts), callbacks, tags, metadata, run_name)
        rms = await self._hc_astart(managers, prompts, stop, names, self._hc_run_ids(run_id, len(prompts)))
        return await self._hc_agenerate(prompts, stop, rms, kwargs)

    async def _hc_astart(self, managers: list[Any], prompts: list[str], stop: Optional[list[str]],
                         names: list[Optional[str]], run_ids: list[Any]) -> list[Any]:
        return [(await started)[0] for started in self._hc_start(managers, prompts, stop, names, run_ids)]

    async def _hc_agenerate(self, prompts: list[str], stop: Optional[list[str]], rms: list[Any], kwargs: dict[str, Any]) -> LLMResult:
        try:
            output = await self._hc_call_agenerate(prompts, stop, rms[0] if rms else None, kwargs)
        except BaseException as e:
            for rm in rms:
                await rm.on_llm_error(e, response=LLMResult(generations=[]))
            raise
        for rm, flat in zip(rms, _flatten(output)):
            await rm.on_llm_end(flat)
        return output

    def generate_prompt(self, prompts: list[PromptValue], stop: Optional[list[str]] = None, callbacks: Any = None, **kwargs: Any) -> LLMResult:
        """``generate`` for prompt values (their ``to_string()``)."""
        return self.generate([p.to_string() for p in prompts], stop=stop, callbacks=callbacks, **kwargs)

    async def agenerate_prompt(self, prompts: list[PromptValue], stop: Optional[list[str]] = None, callbacks: Any = None, **kwargs: Any) -> LLMResult:
        """Async ``generate_prompt``."""
        return await self.agenerate([p.to_string() for p in prompts], stop=stop, callbacks=callbacks, **kwargs)

    # -- Runnable API ------------------------------------------------------- #
    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, *, stop: Optional[list[str]] = None, **kwargs: Any) -> str:
        """Complete ``input`` (str, message list or prompt value); returns the
        first generation's text. Fires ``on_llm_start``, then ``on_llm_end``
        (or ``on_llm_error`` and re-raises)."""
        config = ensure_config(config)
        prompt = _prompt_string(input)
        cm = self._hc_manager(CallbackManager, config.get("callbacks"), config.get("tags"), config.get("metadata"))
        rm = self._hc_start([cm], [prompt], stop, [config.get("run_name")], [config.pop("run_id", None)])[0][0]
        return self._hc_generate([prompt], stop, [rm], kwargs).generations[0][0].text

    async def ainvoke(self, input: Any, config: Optional[RunnableConfig] = None, *, stop: Optional[list[str]] = None, **kwargs: Any) -> str:
        """Async ``invoke`` (``_agenerate``)."""
        config = ensure_config(config)
        prompt = _prompt_string(input)
        cm = self._hc_manager(AsyncCallbackManager, config.get("callbacks"), config.get("tags"), config.get("metadata"))
        rms = await self._hc_astart([cm], [prompt], stop, [config.get("run_name")], [config.pop("run_id", None)])
        return (await self._hc_agenerate([prompt], stop, rms, kwargs)).generations[0][0].text

    def _hc_batch_args(self, inputs: list[Any], configs: list[RunnableConfig]) -> dict[str, Any]:
        return {
            "prompts": [_prompt_string(i) for i in inputs],
            "callbacks": [c.get("callbacks") for c in configs], "tags": [c.get("tags") for c in configs],
            "metadata": [c.get("metadata") for c in configs], "run_name": [c.get("run_name") for c in configs],
        }

    def batch(self, inputs: list[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[str]:
        """Complete every input in one ``generate`` call, as LangChain's
        ``BaseLLM.batch``; with ``max_concurrency`` in the config, in
        successive groups of that size. With ``return_exceptions``, an error
        is returned for every input (the prompts share one model call)."""
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        limit = configs[0].get("max_concurrency")
        if limit:
            configs = [{**c, "max_concurrency": None} for c in configs]
            return [out for i in range(0, len(inputs), limit)
                    for out in self.batch(inputs[i:i + limit], configs[i:i + limit], return_exceptions=return_exceptions, **kwargs)]
        try:
            result = self.generate(**self._hc_batch_args(inputs, configs), **kwargs)
        except Exception as e:
            if return_exceptions:
                return [e for _ in inputs]  # type: ignore[misc]
            raise
        return [g[0].text for g in result.generations]

    async def abatch(self, inputs: list[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[str]:
        """Async ``batch`` (one ``agenerate`` call per group)."""
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        limit = configs[0].get("max_concurrency")
        if limit:
            configs = [{**c, "max_concurrency": None} for c in configs]
            return [out for i in range(0, len(inputs), limit)
                    for out in await self.abatch(inputs[i:i + limit], configs[i:i + limit], return_exceptions=return_exceptions, **kwargs)]
        try:
            result = await self.agenerate(**self._hc_batch_args(inputs, configs), **kwargs)
        except Exception as e:
            if return_exceptions:
                return [e for _ in inputs]  # type: ignore[misc]
            raise
        return [g[0].text for g in result.generations]

    def _hc_stream_start(self, config: RunnableConfig, stop: Optional[list[str]], kwargs: dict[str, Any]) -> dict[str, Any]:
        return {
            "invocation_params": {**self.asdict(), "stop": stop, **kwargs}, "options": {"stop": stop},
            "name": config.get("run_name"), "run_id": config.pop("run_id", None), "batch_size": 1,
        }

    def stream(self, input: Any, config: Optional[RunnableConfig] = None, *, stop: Optional[list[str]] = None, **kwargs: Any) -> Iterator[str]:
        """Yield the text of each chunk ``_stream`` produces, firing
        ``on_llm_new_token`` for each, then ``on_llm_end`` with the merged
        ``GenerationChunk``; without ``_stream``, one string from ``invoke``.
        Raises ``ValueError("No generation chunks were returned")`` (after
        ``on_llm_error``) when ``_stream`` yields nothing, as LangChain."""
        if not _overrides(self, "_stream"):
            yield self.invoke(input, config, stop=stop, **kwargs)
            return
        prompt = _prompt_string(input)
        config = ensure_config(config)
        cm = self._hc_manager(CallbackManager, config.get("callbacks"), config.get("tags"), config.get("metadata"))
        rm = cm.on_llm_start(self._serialized, [prompt], **self._hc_stream_start(config, stop, kwargs))[0]
        total = _Total()  # the chunks added up as they arrive (in batches: linear time)
        it = None
        try:
            it = self._stream(prompt, stop, for_stream(rm), **kwargs)
            for chunk in it:
                rm.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk.text  # before merging, as LangChain: a stream closed here ends with no generation
                total.add(chunk)
            generation = total.value()
            if generation is None:
                raise ValueError("No generation chunks were returned")
        except BaseException as e:
            try:
                _close(it)  # the model's own stream ends first
            finally:
                partial = total.value()
                rm.on_llm_error(e, response=LLMResult(generations=[[partial]] if partial else []))
            raise
        rm.on_llm_end(LLMResult(generations=[[generation]]))

    async def astream(self, input: Any, config: Optional[RunnableConfig] = None, *, stop: Optional[list[str]] = None, **kwargs: Any) -> AsyncIterator[str]:
        """Async ``stream``: ``_astream`` (native, else ``_stream`` in a thread,
        else one string from ``ainvoke``)."""
        if not (_overrides(self, "_astream") or _overrides(self, "_stream")):
            yield await self.ainvoke(input, config, stop=stop, **kwargs)
            return
        prompt = _prompt_string(input)
        config = ensure_config(config)
        cm = self._hc_manager(AsyncCallbackManager, config.get("callbacks"), config.get("tags"), config.get("metadata"))
        rm = (await cm.on_llm_start(self._serialized, [prompt], **self._hc_stream_start(config, stop, kwargs)))[0]
        total = _Total()  # the chunks added up as they arrive (in batches: linear time)
        it = None
        try:
            it = self._astream(prompt, stop, for_stream(rm), **kwargs)
            async for chunk in it:
                await rm.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk.text  # before merging, as LangChain: a stream closed here ends with no generation
                total.add(chunk)
            generation = total.value()
            if generation is None:
                raise ValueError("No generation chunks were returned")
        except BaseException as e:
            try:
                await _aclose(it)  # the model's own stream ends first (even if cancelled meanwhile)
            finally:
                partial = total.value()
                await rm.on_llm_error(e, response=LLMResult(generations=[[partial]] if partial else []))
            raise
        await rm.on_llm_end(LLMResult(generations=[[generation]]))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__repr_args__() if k not in ("callbacks",))
        return f"{type(self).__name__}({fields})"


class LLM(BaseLLM):
    """A text-completion model that implements ``_call(prompt, stop,
    run_manager, **kwargs) -> str`` (and optionally ``_acall``, ``_stream``,
    ``_astream``), as LangChain's ``LLM``."""

    @abstractmethod
    def _call(
        self, prompt: str, stop: Optional[list[str]] = None,
        run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> str:
        """Complete ``prompt``; return the completion only (not the prompt)."""

    async def _acall(
        self, prompt: str, stop: Optional[list[str]] = None,
        run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> str:
        """Async ``_call``; by default ``_call`` in a worker thread."""
        return await run_in_executor(None, self._call, prompt, stop, run_manager.get_sync() if run_manager else None, **kwargs)

    def _generate(
        self, prompts: list[str], stop: Optional[list[str]] = None,
        run_manager: Optional[CallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> LLMResult:
        with_rm = _takes_run_manager(self._call)
        return LLMResult(generations=[
            [Generation(self._call(p, stop=stop, run_manager=run_manager, **kwargs) if with_rm else self._call(p, stop=stop, **kwargs))]
            for p in prompts
        ])

    async def _agenerate(
        self, prompts: list[str], stop: Optional[list[str]] = None,
        run_manager: Optional[AsyncCallbackManagerForLLMRun] = None, **kwargs: Any,
    ) -> LLMResult:
        with_rm = _takes_run_manager(self._acall)
        generations = []
        for p in prompts:
            text = await (self._acall(p, stop=stop, run_manager=run_manager, **kwargs) if with_rm else self._acall(p, stop=stop, **kwargs))
            generations.append([Generation(text)])
        return LLMResult(generations=generations)
