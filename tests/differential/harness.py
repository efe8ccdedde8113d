"""One API, two frameworks: the adapter the differential tests run against.

``LC`` and ``HC`` are namespaces with the same names taken from langchain-core
and from hookchain (``BaseCallbackHandler``, ``BaseChatModel``,
``ChatPromptTemplate``, ``RunnableLambda``... ``dispatch_custom_event``), plus
classes built here *from the same source* for both: the echo chat models
(``EchoModel``, ``AsyncEchoModel``, ``SeedModel``) and the recording handlers
(``Recorder``, ``AsyncRecorder``). A scenario is a function of one namespace;
the tests run it once per framework and compare the normalised results.

Normalisation (what "the same" means here):

* values: messages become ``(class name, content)``, prompt values, generations
  and ``LLMResult`` their class name and normalised parts, exceptions
  ``(type name, str)``; containers recurse; anything else stays as is.
* callback events (``events``): ``(event, run, parent, tags, metadata, name,
  data, keyword names)`` where ``run``/``parent`` are small integers in order
  of first appearance, ``metadata`` has LangChain's ``ls_*`` / ``lc_versions``
  keys removed (hookchain adds no tracing metadata, on purpose) and ``data`` is
  the normalised positional arguments (plus ``chunk`` for ``on_llm_new_token``
  and ``response`` for ``on_llm_error``). ``serialized`` is left out: hookchain
  always passes ``{"id": [...], "name": ...}``, LangChain ``None`` for
  sequences (asserted in test_callbacks.py). Concurrent runs (batch, parallel
  branches) are compared as trees with sorted siblings (``trees``).
* ``astream_events`` (``stream_events``, ``stream_event_trees``): event, name,
  run, parent_ids (as integers), tags, metadata, data.
* LangChain 1.x ends every model stream with an extra empty chunk
  (``chunk_position="last"``) that hookchain does not produce, on purpose (the
  seeds' ``c|a|t||``). Those chunks, the ``on_llm_new_token`` events they cause
  and their stream events are removed; hookchain is asserted to have none.
* LangChain defers the input of streamed runs, hookchain does not, on purpose:
  see ``undefer_inputs`` / ``undefer_stream_events`` (both defer it for an
  output parser's streamed run, whose input is a stream: normalised alike).

Every difference normalised here is also asserted on its own in
test_differences.py.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import types
from typing import Any, Callable, Iterable, Optional

import langchain_core.callbacks as lc_callbacks
import langchain_core.language_models as lc_language_models
import langchain_core.messages as lc_messages
import langchain_core.outputs as lc_outputs
import langchain_core.prompts as lc_prompts
import langchain_core.runnables as lc_runnables

import hookchain.callbacks as hc_callbacks
import hookchain.language_models as hc_language_models
import hookchain.messages as hc_messages
import hookchain.outputs as hc_outputs
import hookchain.prompts as hc_prompts
import hookchain.runnables as hc_runnables

#: The callback events both frameworks define (hookchain's hookspecs; LangChain
#: also has ``on_stream_event``, which fires only for ``stream_events(v3)``).
EVENTS = (
    "on_llm_start", "on_chat_model_start", "on_llm_new_token", "on_llm_end", "on_llm_error",
    "on_chain_start", "on_chain_end", "on_chain_error",
    "on_tool_start", "on_tool_end", "on_tool_error",
    "on_retriever_start", "on_retriever_end", "on_retriever_error",
    "on_text", "on_retry", "on_agent_action", "on_agent_finish", "on_custom_event",
)

#: Each event's positional parameters, by name (as both frameworks spell them).
POSITIONAL = {
    event: tuple(
        p.name for p in inspect.signature(getattr(lc_callbacks.BaseCallbackHandler, event)).parameters.values()
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name != "self"
    )
    for event in EVENTS
}

_NAMES = {
    "callbacks": ("BaseCallbackHandler", "AsyncCallbackHandler", "CallbackManager",
                  "AsyncCallbackManager", "CallbackManagerForLLMRun", "AsyncCallbackManagerForLLMRun",
                  "dispatch_custom_event", "adispatch_custom_event"),
    "language_models": ("BaseChatModel", "SimpleChatModel"),
    "messages": ("BaseMessage", "AIMessage", "AIMessageChunk", "HumanMessage", "SystemMessage"),
    "outputs": ("ChatGeneration", "ChatGenerationChunk", "ChatResult", "LLMResult"),
    "prompts": ("ChatPromptTemplate", "PromptTemplate"),
    "runnables": ("Runnable", "RunnableLambda", "RunnableParallel", "RunnablePassthrough", "RunnableSequence"),
}


def _namespace(name: str, **modules: types.ModuleType) -> types.SimpleNamespace:
    ns = types.SimpleNamespace(name=name)
    for module_key, names in _NAMES.items():
        module = modules[module_key]
        for attr in names:
            setattr(ns, attr, getattr(module, attr))
    ns.EchoModel, ns.AsyncEchoModel = build_echo_models(ns)
    ns.SeedModel = build_seed_model(ns)
    ns.Recorder = build_recorder(ns, asynchronous=False)
    ns.AsyncRecorder = build_recorder(ns, asynchronous=True)
    return ns


# --------------------------------------------------------------------------- #
# Classes defined once, built per framework
# --------------------------------------------------------------------------- #


class EchoFailure(ValueError):
    """What the echo models raise when told to fail (same type in both runs)."""


def build_echo_models(fw: types.SimpleNamespace) -> tuple[type, type]:
    """The echo chat model of ``fw``: echoes the first ``n`` characters of the
    last message; streams one character per chunk then an empty chunk carrying
    ``response_metadata``; cuts after the first stop sequence (included).
    ``fail_after=k`` raises ``EchoFailure`` after ``k`` chunks (``_generate``
    raises for any ``k``). ``AsyncEchoModel`` adds native async paths."""

    class EchoModel(fw.BaseChatModel):
        # Declared here as provider models do (ChatOpenAI...): LangChain's
        # BaseChatModel has no ``streaming`` field, hookchain's has.
        streaming: bool = False
        n: int = 200
        fail_after: Optional[int] = None

        def _answer(self, messages: list, stop: Optional[list[str]]) -> str:
            text = messages[-1].content[: self.n]
            for s in stop or ():
                i = text.find(s)
                if i >= 0:
                    text = text[: i + len(s)]
            return text

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            if self.fail_after is not None:
                raise EchoFailure("echo model failed")
            message = fw.AIMessage(content=self._answer(messages, stop), response_metadata={"model_name": "echo"})
            return fw.ChatResult(generations=[fw.ChatGeneration(message=message)])

        def _chunks(self, messages, stop):
            for i, char in enumerate(self._answer(messages, stop)):
                if self.fail_after is not None and i >= self.fail_after:
                    raise EchoFailure("echo model failed")
                yield fw.ChatGenerationChunk(message=fw.AIMessageChunk(content=char))
            yield fw.ChatGenerationChunk(message=fw.AIMessageChunk(content="", response_metadata={"model_name": "echo"}))

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            yield from self._chunks(messages, stop)

        @property
        def _llm_type(self) -> str:
            return "echo"

        @property
        def _identifying_params(self) -> dict[str, Any]:
            return {"model_name": "echo", "n": self.n}

    class AsyncEchoModel(EchoModel):
        async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
            return self._generate(messages, stop, **kwargs)

        async def _astream(self, messages, stop=None, run_manager=None, **kwargs):
            for chunk in self._chunks(messages, stop):
                yield chunk

    return EchoModel, AsyncEchoModel


def build_seed_model(fw: types.SimpleNamespace) -> type:
    """The seeds' ``CustomChatModelAdvanced``, verbatim but for the imports
    (it calls ``run_manager.on_llm_new_token`` itself when given a run manager,
    which neither framework does for ``_stream``)."""

    class CustomChatModelAdvanced(fw.BaseChatModel):
        model_name: str
        n: int

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            last_message = messages[-1]
            tokens = last_message.content[: self.n]
            message = fw.AIMessage(content=tokens, additional_kwargs={}, response_metadata={"time_in_seconds": 3})
            return fw.ChatResult(generations=[fw.ChatGeneration(message=message)])

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            last_message = messages[-1]
            tokens = last_message.content[: self.n]
            for token in tokens:
                chunk = fw.ChatGenerationChunk(message=fw.AIMessageChunk(content=token))
                if run_manager:
                    run_manager.on_llm_new_token(token, chunk=chunk)
                yield chunk
            chunk = fw.ChatGenerationChunk(message=fw.AIMessageChunk(content="", response_metadata={"time_in_sec": 3}))
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk

        @property
        def _llm_type(self) -> str:
            return "echoing-chat-model-advanced"

        @property
        def _identifying_params(self) -> dict[str, Any]:
            return {"model_name": self.model_name}

    return CustomChatModelAdvanced


def build_recorder(fw: types.SimpleNamespace, *, asynchronous: bool) -> type:
    """A handler of ``fw`` that records every event as a raw dict (normalised
    later by ``events``). ``fail_on={"on_chain_start", ...}`` makes those events
    raise ``HandlerFailure`` after being recorded."""

    base = fw.AsyncCallbackHandler if asynchronous else fw.BaseCallbackHandler

    def __init__(self, fail_on: Iterable[str] = ()) -> None:
        self.log: list[dict[str, Any]] = []
        self.fail_on = frozenset(fail_on)
        self._lock = threading.Lock()

    def record(self, event: str, args: tuple, kwargs: dict[str, Any]) -> None:
        kwargs = dict(kwargs)
        # Positional parameters passed by keyword (LangChain's sync
        # on_llm_new_token passes token=...; its async one and hookchain pass
        # it positionally) are read back by name.
        args = (*args, *(kwargs.pop(n) for n in POSITIONAL[event][len(args):] if n in kwargs))
        if event == "on_llm_new_token":
            args = (*args, kwargs.get("chunk"))
        elif event == "on_llm_error":
            args = (*args, _error_response(kwargs.get("response")))
        entry = {
            "event": event,
            "run_id": kwargs.get("run_id"),
            "parent_run_id": kwargs.get("parent_run_id"),
            "tags": kwargs.get("tags"),
            "metadata": kwargs.get("metadata"),
            "name": kwargs.get("name"),
            # Normalised now: messages and chunks are mutated later (ids).
            "data": norm(args[1:] if event.endswith("_start") and event != "on_custom_event" else args),
            # LangChain passes run_type=None from the runnables built on
            # _call_with_config (lambdas, passthrough); hookchain passes
            # run_type only when it has one ("prompt"). Not compared.
            "kwargs": sorted(k for k, v in kwargs.items() if not (k == "run_type" and v is None)),
        }
        if "inputs" in kwargs:  # LangChain's deferred input of a streamed run
            entry["inputs"] = norm(kwargs["inputs"])
        with self._lock:
            self.log.append(entry)
        if event in self.fail_on:
            raise HandlerFailure(f"handler failed in {event}")

    namespace: dict[str, Any] = {"__init__": __init__, "_record": record}
    for event in EVENTS:
        if asynchronous:
            async def method(self, *args, __event=event, **kwargs):
                self._record(__event, args, kwargs)
        else:
            def method(self, *args, __event=event, **kwargs):
                self._record(__event, args, kwargs)
        method.__name__ = event
        namespace[event] = method
    return type("AsyncRecorder" if asynchronous else "Recorder", (base,), namespace)


def _error_response(response: Any) -> Any:
    # on_llm_error's response: LangChain appends a list of generations built
    # from the error's HTTP response (``error.response``), empty for any other
    # error; hookchain has no such list. Empty generation lists are dropped.
    if response is None:
        return None
    return ("LLMResult", [norm(g) for g in response.generations if g])


class HandlerFailure(RuntimeError):
    """What a recorder raises from the events listed in ``fail_on``."""


def handler_class(fw: types.SimpleNamespace, *, asynchronous: bool = False, **flags: Any) -> type:
    """A recorder subclass with class-level flags (``ignore_chain=True``,
    ``raise_error=True``...): LangChain's flags are read-only properties, so
    a subclass is how both frameworks accept them."""
    base = fw.AsyncRecorder if asynchronous else fw.Recorder
    return type(base.__name__ + "WithFlags", (base,), dict(flags))


LC = _namespace(
    "langchain", callbacks=lc_callbacks, language_models=lc_language_models, messages=lc_messages,
    outputs=lc_outputs, prompts=lc_prompts, runnables=lc_runnables,
)
HC = _namespace(
    "hookchain", callbacks=hc_callbacks, language_models=hc_language_models, messages=hc_messages,
    outputs=hc_outputs, prompts=hc_prompts, runnables=hc_runnables,
)
FRAMEWORKS = (LC, HC)


# --------------------------------------------------------------------------- #
# Normalisation
# --------------------------------------------------------------------------- #

_DROPPED_METADATA = ("ls_", "lc_versions")


def clean_metadata(metadata: Optional[dict[str, Any]]) -> dict[str, Any]:
    """``metadata`` without LangChain's tracing keys (``ls_*``, ``lc_versions``)."""
    return {k: norm(v) for k, v in (metadata or {}).items() if not k.startswith(_DROPPED_METADATA)}


def _is_last_chunk(message: Any) -> bool:
    # LangChain's extra final chunk: empty, chunk_position="last". (A merged
    # chunk that includes it also has chunk_position="last", but content or
    # tool-call chunks.)
    return (getattr(message, "chunk_position", None) == "last" and not message.content
            and not getattr(message, "tool_call_chunks", None))


def norm(value: Any) -> Any:
    """A framework-neutral, comparable form of ``value`` (see module docstring)."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    cls = type(value).__name__
    if isinstance(value, (lc_messages.BaseMessage, hc_messages.BaseMessage)):
        if _is_last_chunk(value):
            return ("LAST_CHUNK", cls, norm(value.content))
        return (cls, norm(value.content))
    if isinstance(value, BaseException):
        return ("error", cls, str(value))
    if cls in ("ChatPromptValue",):
        return (cls, norm(value.messages))
    if cls in ("StringPromptValue",):
        return (cls, value.text)
    if cls in ("ChatGeneration", "ChatGenerationChunk"):
        return (cls, norm(value.message))
    if cls in ("Generation", "GenerationChunk"):
        return (cls, value.text, norm(value.generation_info))
    if cls == "LLMResult":
        return (cls, norm(value.generations))
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [norm(v) for v in value]
    return ("object", cls)


def _has_last(value: Any) -> bool:
    if isinstance(value, tuple) and value and value[0] == "LAST_CHUNK":
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_last(v) for v in value)
    if isinstance(value, dict):
        return any(_has_last(v) for v in value.values())
    return False


def drop_last_chunks(fw: types.SimpleNamespace, items: list[Any]) -> list[Any]:
    """``items`` (normalised events or values) without LangChain's final empty
    ``chunk_position="last"`` chunks; asserts hookchain never produces one."""
    kept = [item for item in items if not _has_last(item)]
    if fw is HC:
        assert kept == items, "hookchain produced a chunk_position='last' chunk"
    return kept


class Ids:
    """Maps run ids to 0, 1, 2... in order of first appearance."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}

    def __call__(self, run_id: Any) -> Optional[int]:
        if run_id is None:
            return None
        return self.ids.setdefault(str(run_id), len(self.ids))


def event_tuple(entry: dict[str, Any], ids: Ids) -> tuple:
    return (
        entry["event"], ids(entry["run_id"]), ids(entry["parent_run_id"]),
        list(entry["tags"] or []), clean_metadata(entry["metadata"]), entry["name"], entry["data"],
        entry["kwargs"],
    )


_DEFERRED = [{"input": ""}]


def undefer_inputs(fw: types.SimpleNamespace, log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deliberate difference: a run that LangChain streams through
    ``_transform_stream_with_config`` (a streamed sequence, a generator lambda)
    starts with ``inputs={"input": ""}`` and ``defers_inputs=True`` and reports
    the real input later, as ``inputs=`` of ``on_chain_end`` /
    ``on_chain_error``; hookchain gives the real input at start.

    A consequence: a streamed step after another step (``... | model |
    generator_lambda``) starts in LangChain as soon as it is asked for output,
    before its input is complete, and in hookchain once its input is complete
    (after the previous step ended). This moves LangChain's late input back to
    the start event (dropping the ``inputs`` / ``defers_inputs`` keywords), and
    moves the start event of a non-root deferred run down to just before the
    first event of that run's own subtree, so the rest can be compared."""
    late = {str(e["run_id"]): e["inputs"] for e in log if "inputs" in e}
    if fw is HC and not late:
        assert not any("defers_inputs" in e["kwargs"] for e in log)
        return log
    # hookchain defers too where the input is itself a stream (an output
    # parser's transform, as LangChain): normalised the same way.
    parents = {str(e["run_id"]): str(e["parent_run_id"]) for e in log if e["parent_run_id"] is not None}

    def within(run: str, ancestor: str) -> bool:
        while run != ancestor and run in parents:
            run = parents[run]
        return run == ancestor

    out: list[dict[str, Any]] = []
    pending: dict[str, dict[str, Any]] = {}  # moved start events, by run
    for e in log:
        run = str(e["run_id"])
        for waiting in [r for r in pending if within(run, r)]:
            out.append(pending.pop(waiting))
        if run in late:
            e = dict(e)
            e["kwargs"] = [k for k in e["kwargs"] if k not in ("inputs", "defers_inputs")]
            e.pop("inputs", None)
            if e["event"] == "on_chain_start":
                assert e["data"] == _DEFERRED, e
                e["data"] = [late[run]]
                if e["parent_run_id"] is not None:
                    pending[run] = e
                    continue
        out.append(e)
    assert not pending
    return out


def events(fw: types.SimpleNamespace, log: list[dict[str, Any]]) -> list[tuple]:
    """The recorded events, in order, as tuples
    ``(event, run, parent, tags, metadata, name, data, kwarg names)``."""
    ids = Ids()
    return drop_last_chunks(fw, [event_tuple(e, ids) for e in undefer_inputs(fw, log)])


def trees(fw: types.SimpleNamespace, log: list[dict[str, Any]]) -> list[Any]:
    """The recorded events as a forest, for runs whose interleaving is not
    deterministic (batch, parallel branches): one node per run holding its own
    events (without ids) and its child runs; siblings (and roots) sorted."""
    nodes: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for entry in undefer_inputs(fw, log):
        if _has_last(entry["data"]):
            assert fw is LC, "hookchain produced a chunk_position='last' chunk"
            continue
        run = str(entry["run_id"])
        if run not in nodes:
            nodes[run] = {"events": [], "children": []}
            parent = entry["parent_run_id"]
            if parent is not None and str(parent) in nodes:
                nodes[str(parent)]["children"].append(nodes[run])
            else:
                roots.append(nodes[run])
        nodes[run]["events"].append((
            entry["event"], list(entry["tags"] or []), clean_metadata(entry["metadata"]), entry["name"], entry["data"],
            entry["kwargs"],
        ))

    def canon(node: dict[str, Any]) -> Any:
        return {"events": node["events"], "children": sorted((canon(c) for c in node["children"]), key=repr)}

    return sorted((canon(r) for r in roots), key=repr)


def undefer_stream_events(fw: types.SimpleNamespace, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The deferred-input difference (see ``undefer_inputs``) as
    ``astream_events`` shows it: LangChain's start event of a deferred run has
    no ``input`` (``data == {}``) and comes early; its end event has the input.
    This fills the start event's input from the end event and moves it down to
    just before the first event of the run's own subtree."""
    if fw is HC and all(e["data"] for e in items if e["event"].endswith("_start")):
        return items  # else an output parser's streamed run: deferred as LangChain's
    inputs = {e["run_id"]: e["data"]["input"] for e in items if e["event"].endswith("_end") and "input" in e["data"]}
    out: list[dict[str, Any]] = []
    pending: dict[str, dict[str, Any]] = {}
    for e in items:
        for run in [r for r in pending if r == e["run_id"] or r in e.get("parent_ids", ())]:
            out.append(pending.pop(run))
        if e["event"].endswith("_start") and not e["data"]:
            e = {**e, "data": {"input": inputs[e["run_id"]]} if e["run_id"] in inputs else {}}
            pending[e["run_id"]] = e
            continue
        out.append(e)
    return out + list(pending.values())


def stream_events(fw: types.SimpleNamespace, items: list[dict[str, Any]]) -> list[tuple]:
    """``astream_events`` dicts as ``(event, name, run, parent_ids, tags,
    metadata, data)`` with run ids mapped to small integers."""
    ids = Ids()
    out = [
        (
            e["event"], e["name"], ids(e["run_id"]), [ids(p) for p in e.get("parent_ids", [])],
            list(e.get("tags") or []), clean_metadata(e.get("metadata")), norm(e.get("data")),
        )
        for e in undefer_stream_events(fw, items)
    ]
    return drop_last_chunks(fw, out)


def stream_event_trees(fw: types.SimpleNamespace, items: list[dict[str, Any]]) -> list[Any]:
    """``astream_events`` dicts as a forest (see ``trees``), siblings sorted:
    for concurrent branches, whose interleaving is not deterministic."""
    nodes: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for e in undefer_stream_events(fw, items):
        data = norm(e.get("data"))
        if _has_last(data):
            assert fw is LC, "hookchain produced a chunk_position='last' chunk"
            continue
        key = str(e["run_id"])  # a custom event joins the run that sent it
        node = nodes.get(key)
        if node is None:
            node = nodes[key] = {"events": [], "children": []}
            parents = e.get("parent_ids") or []
            if parents and parents[-1] in nodes:
                nodes[parents[-1]]["children"].append(node)
            else:
                roots.append(node)
        node["events"].append((
            e["event"], e["name"], len(e.get("parent_ids") or []), list(e.get("tags") or []),
            clean_metadata(e.get("metadata")), data,
        ))

    def canon(node: dict[str, Any]) -> Any:
        return {"events": node["events"], "children": sorted((canon(c) for c in node["children"]), key=repr)}

    return sorted((canon(r) for r in roots), key=repr)


def both(scenario: Callable[[types.SimpleNamespace], Any]) -> tuple[Any, Any]:
    """``scenario(LC)`` and ``scenario(HC)``; an ``async def`` scenario is run
    with ``asyncio.run`` (a fresh loop per framework)."""
    results = []
    for fw in FRAMEWORKS:
        result = scenario(fw)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        results.append(result)
    return results[0], results[1]


async def collect(aiter: Any) -> list[Any]:
    return [item async for item in aiter]


async def event_stream(fw: types.SimpleNamespace, runnable: Any, input: Any, config: Any = None, **kwargs: Any) -> list[tuple]:
    """``runnable.astream_events(input, config, version="v2")``, normalised."""
    return stream_events(fw, await collect(runnable.astream_events(input, config, version="v2", **kwargs)))


def raised(call: Callable[[], Any]) -> Any:
    """``("raised", type name, str)`` for the exception ``call()`` raises."""
    try:
        call()
    except Exception as e:  # noqa: BLE001
        return ("raised", type(e).__name__, str(e))
    raise AssertionError("no exception raised")


async def araised(awaitable: Any) -> Any:
    try:
        await awaitable
    except Exception as e:  # noqa: BLE001
        return ("raised", type(e).__name__, str(e))
    raise AssertionError("no exception raised")
