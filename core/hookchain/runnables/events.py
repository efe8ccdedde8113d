"""``astream_events``: a run's callback events as a stream of dicts, in
LangChain's v2 schema (``event``, ``name``, ``run_id``, ``parent_ids``,
``tags``, ``metadata``, ``data``).

It is built on the callback system itself: an ``AsyncCallbackHandler`` that
runs inline is added to the run's callbacks and turns every event into a dict
on a queue, while the run proceeds in its own task; chain runs also pass their
output stream through ``tap_output_aiter`` to produce ``on_chain_stream``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, AsyncIterator, Iterator, Optional, Sequence
from uuid import UUID

from hookchain.callbacks.base import AsyncCallbackHandler
from hookchain.outputs import GenerationChunk
from hookchain.runnables.utils import _aclosing, _closing
from hookchain.runnables.config import RunnableConfig, ensure_config

_DONE = object()


class _RunInfo:
    __slots__ = ("name", "tags", "metadata", "kind", "inputs", "parent_ids")

    def __init__(self, name: str, tags: list[str], metadata: dict[str, Any], kind: str, inputs: Any, parent_ids: list[str]):
        self.name, self.tags, self.metadata, self.kind = name, tags, metadata, kind
        self.inputs, self.parent_ids = inputs, parent_ids


class _EventStreamHandler(AsyncCallbackHandler):
    run_inline = True
    #: Chat models stream when this handler is attached (as LangChain's
    #: ``_StreamingCallbackHandler``), so on_chat_model_stream events appear.
    _hc_consumes_stream = True

    def __init__(self, queue: asyncio.Queue, filters: dict[str, Optional[Sequence[str]]], root_input: Any = None) -> None:
        self.queue = queue
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._deferred = 0  # events handed to the loop thread, not yet queued
        self._deferred_lock = threading.Lock()
        self.root_input = root_input
        self.runs: dict[UUID, _RunInfo] = {}
        self.filters = filters
        self.root: Optional[UUID] = None

    # -- bookkeeping --------------------------------------------------------- #
    def _keep(self, info: _RunInfo) -> bool:
        f = self.filters
        if f["include_names"] is None and f["include_types"] is None and f["include_tags"] is None:
            keep = True
        else:
            keep = (
                (f["include_names"] is not None and info.name in f["include_names"])
                or (f["include_types"] is not None and info.kind in f["include_types"])
                or (f["include_tags"] is not None and any(t in f["include_tags"] for t in info.tags))
            )
        if f["exclude_names"] is not None and info.name in f["exclude_names"]:
            return False
        if f["exclude_types"] is not None and info.kind in f["exclude_types"]:
            return False
        if f["exclude_tags"] is not None and any(t in f["exclude_tags"] for t in info.tags):
            return False
        return keep

    def _put(self, event: Any) -> None:
        # Sync code in a worker thread (a lambda calling dispatch_custom_event)
        # must hand events to the loop thread: asyncio.Queue is not thread-safe.
        # While such a hand-over is pending, the loop thread's own events queue
        # up behind it, so that events keep their order. (A sync dispatch on
        # the loop thread, e.g. a chat-model hook's custom event in an async
        # run, reaches this handler on a helper thread while the loop waits;
        # the run may then finish in the same loop step.)
        if threading.get_ident() == self._thread and not self._deferred:
            self.queue.put_nowait(event)
        else:
            with self._deferred_lock:
                self._deferred += 1
            self._loop.call_soon_threadsafe(self._put_deferred, event)

    def _put_deferred(self, event: Any) -> None:
        with self._deferred_lock:
            self._deferred -= 1
        self.queue.put_nowait(event)

    def _send(self, event: str, run_id: UUID, info: _RunInfo, data: dict[str, Any]) -> None:
        if self._keep(info):
            self._put({
                "event": event, "name": info.name, "run_id": str(run_id), "parent_ids": info.parent_ids,
                "tags": list(info.tags), "metadata": dict(info.metadata), "data": data,
            })

    def _open(self, run_id: UUID, parent_run_id: Optional[UUID], name: str, tags: Any, metadata: Any, kind: str, inputs: Any) -> _RunInfo:
        if parent_run_id is None or parent_run_id not in self.runs:
            parent_ids: list[str] = []
            if self.root is None:
                self.root = run_id
                # As LangChain: the root run's start event carries the input
                # given to astream_events ("cat", not {"messages": [[...]]}).
                inputs = self.root_input
        else:
            parent = self.runs[parent_run_id]
            parent_ids = [*parent.parent_ids, str(parent_run_id)]
        info = _RunInfo(name, list(tags or []), dict(metadata or {}), kind, inputs, parent_ids)
        self.runs[run_id] = info
        return info

    def _end_data(self, run_id: UUID, info: _RunInfo, output: Any) -> dict[str, Any]:
        return {"output": output} if run_id == self.root else {"output": output, "input": info.inputs}

    # -- events ---------------------------------------------------------------- #
    async def on_chat_model_start(self, serialized: dict[str, Any], messages: list, *, run_id: UUID, parent_run_id: Optional[UUID] = None, tags: Any = None, metadata: Any = None, name: Optional[str] = None, **kwargs: Any) -> None:
        info = self._open(run_id, parent_run_id, name or serialized.get("name", "chat_model"), tags, metadata, "chat_model", {"messages": messages})
        self._send("on_chat_model_start", run_id, info, {"input": info.inputs})

    async def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID, parent_run_id: Optional[UUID] = None, tags: Any = None, metadata: Any = None, name: Optional[str] = None, **kwargs: Any) -> None:
        info = self._open(run_id, parent_run_id, name or serialized.get("name", "llm"), tags, metadata, "llm", {"prompts": prompts})
        self._send("on_llm_start", run_id, info, {"input": info.inputs})

    async def on_llm_new_token(self, token: str, *, chunk: Any = None, run_id: UUID, **kwargs: Any) -> None:
        info = self.runs.get(run_id)
        if info is None:
            return
        if info.kind == "llm":  # as LangChain: a text chunk, made from the token when none is given
            if run_id != self.root:  # the root's stream comes from its output (tap_root)
                self._send("on_llm_stream", run_id, info, {"chunk": GenerationChunk(text=token) if chunk is None else chunk})
        elif chunk is not None:
            self._send("on_chat_model_stream", run_id, info, {"chunk": chunk.message})

    async def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        info = self.runs.pop(run_id, None)
        if info is None:
            return
        if info.kind == "llm":  # as LangChain v2: the LLMResult as plain dicts
            output: Any = {
                "generations": [[{"text": g.text, "generation_info": g.generation_info, "type": g.type} for g in gens] for gens in response.generations],
                "llm_output": response.llm_output,
            }
            self._send("on_llm_end", run_id, info, self._end_data(run_id, info, output))
        else:
            generations = response.generations[0] if response.generations else []
            output = generations[0].message if generations else None
            self._send("on_chat_model_end", run_id, info, self._end_data(run_id, info, output))

    async def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.runs.pop(run_id, None)

    async def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, parent_run_id: Optional[UUID] = None, tags: Any = None, metadata: Any = None, name: Optional[str] = None, run_type: Optional[str] = None, **kwargs: Any) -> None:
        kind = run_type or "chain"  # "prompt", "parser": on_prompt_start, on_parser_start
        info = self._open(run_id, parent_run_id, name or (serialized or {}).get("name", "chain"), tags, metadata, kind, inputs)
        # A run whose input is a stream (an output parser's transform) starts
        # without it and reports it at the end, as LangChain; only those pass
        # ``defers_inputs`` (False, as LangChain's parsers).
        # The root's start always has the input given to astream_events (as LangChain).
        deferred = "defers_inputs" in kwargs and run_id != self.root
        self._send(f"on_{kind}_start", run_id, info, {} if deferred else {"input": info.inputs})

    async def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        info = self.runs.pop(run_id, None)
        if info is not None:
            if "inputs" in kwargs:
                info.inputs = kwargs["inputs"]
            self._send(f"on_{info.kind}_end", run_id, info, self._end_data(run_id, info, outputs))

    async def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.runs.pop(run_id, None)

    async def on_tool_start(self, serialized: Any, input_str: str, *, run_id: UUID, parent_run_id: Optional[UUID] = None, tags: Any = None, metadata: Any = None, name: Optional[str] = None, inputs: Any = None, **kwargs: Any) -> None:
        # As LangChain: a tool run's input is its (filtered) argument dict, {}
        # for a string input (the root run's: what astream_events was given).
        info = self._open(run_id, parent_run_id, name or (serialized or {}).get("name", "tool"), tags, metadata, "tool", inputs or {})
        self._send("on_tool_start", run_id, info, {"input": info.inputs})

    async def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        info = self.runs.pop(run_id, None)
        if info is not None:
            self._send("on_tool_end", run_id, info, self._end_data(run_id, info, output))

    async def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        info = self.runs.pop(run_id, None)
        if info is not None:
            self._send("on_tool_error", run_id, info, {"error": error, "input": info.inputs, "tool_call_id": kwargs.get("tool_call_id")})

    async def on_custom_event(self, name: str, data: Any, *, run_id: UUID, tags: Any = None, metadata: Any = None, **kwargs: Any) -> None:
        info = self.runs.get(run_id)
        parent_ids = [*info.parent_ids] if info else []
        custom = _RunInfo(name, list(tags or []), dict(metadata or {}), "custom", None, parent_ids)
        self._send("on_custom_event", run_id, custom, data)

    def tap_root(self, chunk: Any) -> None:
        """As LangChain, astream_events taps the root run's output stream: a
        root text-completion run, still open, streams the ``str`` chunks it
        yields (chain roots are tapped by ``Runnable.astream`` itself)."""
        info = self.runs.get(self.root) if self.root is not None else None
        if info is not None and info.kind == "llm":
            self._send("on_llm_stream", self.root, info, {"chunk": chunk})

    async def tap_output_aiter(self, run_id: UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async with _aclosing(output):
            async for chunk in output:
                info = self.runs.get(run_id)
                if info is not None and info.kind in ("chain", "parser"):
                    self._send(f"on_{info.kind}_stream", run_id, info, {"chunk": chunk})
                yield chunk

    def tap_output_iter(self, run_id: UUID, output: Iterator[Any]) -> Iterator[Any]:
        """``tap_output_aiter`` for a sync stream run inside the async run (a
        nested ``stream()``), as LangChain's ``tap_output_iter``."""
        with _closing(output):
            for chunk in output:
                info = self.runs.get(run_id)
                if info is not None and info.kind in ("chain", "parser"):
                    self._send(f"on_{info.kind}_stream", run_id, info, {"chunk": chunk})
                yield chunk


async def astream_events(
    runnable: Any,
    input: Any,
    config: Optional[RunnableConfig] = None,
    *,
    version: str = "v2",
    include_names: Optional[Sequence[str]] = None,
    include_types: Optional[Sequence[str]] = None,
    include_tags: Optional[Sequence[str]] = None,
    exclude_names: Optional[Sequence[str]] = None,
    exclude_types: Optional[Sequence[str]] = None,
    exclude_tags: Optional[Sequence[str]] = None,
    **kwargs: Any,
) -> AsyncIterator[dict[str, Any]]:
    """See ``Runnable.astream_events``. The run executes in its own task; closing
    this iterator early cancels it, which ends its open runs with error events."""
    if version not in ("v1", "v2"):
        raise ValueError(f"astream_events supports version='v2' (and 'v1', answered as v2), got {version!r}")
    queue: asyncio.Queue = asyncio.Queue()
    handler = _EventStreamHandler(queue, {
        "include_names": include_names, "include_types": include_types, "include_tags": include_tags,
        "exclude_names": exclude_names, "exclude_types": exclude_types, "exclude_tags": exclude_tags,
    }, root_input=input)
    config = ensure_config(config)
    callbacks = config.get("callbacks")
    if callbacks is None:
        config["callbacks"] = [handler]
    elif isinstance(callbacks, list):
        config["callbacks"] = [*callbacks, handler]
    else:
        callbacks = callbacks.copy()
        callbacks.add_handler(handler, inherit=True)
        config["callbacks"] = callbacks

    async def drive() -> None:
        try:
            async with _aclosing(runnable.astream(input, config, **kwargs)) as stream:
                async for chunk in stream:
                    handler.tap_root(chunk)
        finally:
            handler._put(_DONE)  # after any event still being handed over

    task = asyncio.ensure_future(drive())
    try:
        while True:
            event = await queue.get()
            if event is _DONE:
                break
            yield event
        await task  # re-raise the run's error, if any
    finally:
        if not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
