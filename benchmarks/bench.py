#!/usr/bin/env python
"""hookchain benchmarks: hookchain vs langchain-core vs a plain-Python floor.

One command, from the repository root, in an environment where

    pip install -e . -e plugins/echo_model -e plugins/stdout_handler -r benchmarks/requirements.txt

was run (langchain-core is only a benchmark/test dependency, never hookchain's):

    python benchmarks/bench.py             # full run, about 3-4 minutes on 2 cores
    python benchmarks/bench.py --quick     # smoke run, seconds (tests/test_benchmark_smoke.py)
    python benchmarks/bench.py --write     # full run, then regenerate benchmarks/RESULTS.md
    python benchmarks/bench.py --only invoke,stream     # a subset (keys below)
    python benchmarks/bench.py --profile invoke         # cProfile hookchain's side of one workload

Workload keys (one table row each):

    invoke          (prompt | model).invoke with one runtime handler, per call
    stream          chain.stream of a 200-char echo with a runtime handler, per token
    astream_events  chain.astream_events(version="v2") of a 200-char echo, per event
    astream_events_sync  the same with a model that only implements the sync _generate/_stream
    batch           chain.batch of 1000 inputs with a runtime handler, per input
    abatch          chain.abatch of 1000 inputs with a runtime handler, per input
    import          importing the public names in a fresh interpreter, ms
    plugin_discovery  hookchain.plugins.list_plugins() with 100 entry-point plugins, ms
    cold_start_cli  `hookchain run "hi" -m echo` in a subprocess, to first token, ms
    cold_start_lib  a fresh `python -c` script: import, build prompt | model, stream; to first token, ms
    startup         `hookchain --version`, `--help`, `import hookchain`, `run hi -m echo` (repo plugins;
                    and with 100 generated plugins), process start to exit, ms over bare Python / the
                    pydantic floor
    import_breakdown  each main module (and pluggy, pydantic, asyncio) imported alone, fresh interpreter, ms
    stream_cli      `hookchain run` of a 1,000,000-char echo, one char per chunk, vs --no-stream: ms, peak RSS
    memory          traced Python memory per run, 10,000 concurrent ainvoke runs, KiB
    memory_rss      resident set size per run for the same, KiB
    chain_length=K  K-step chain (K-1 RunnableLambda identities + model).invoke, 1 handler, per call
    handlers=H      (prompt | model).invoke with H runtime handlers, per call
    model_hooks=M   the invoke workload with M enabled no-op plugins implementing every
                    chat-model hook (M=0: none enabled, the hooks are skipped entirely)
    handler_plugins=H  the invoke workload with the installed plugin handler H (otel: its own
                    BatchSpanProcessor, spans discarded by a no-op exporter; runlog: a temporary
                    file) as the only runtime handler; its overhead per run is this row minus
                    handlers=0 (hookchain only; the other columns repeat invoke; not in --quick
                    unless named with --only)

Every per-call workload runs the same work three ways, interleaved in one
process: hookchain, langchain-core, and a plain-Python "floor" (the same work
written directly: format the prompt string, build a message object, slice the
echo, call the handler's methods for the same events). Each round runs one
timed sample per side, the order rotating from round to round; a sample is
enough iterations to last a fixed time, reported as microseconds per unit.
The table gives median (min-max) over the samples, hookchain / langchain-core
(below 1 means hookchain is faster) and hookchain / floor.

The echo model and the counting handler are defined once, as source text
(``FRAMEWORK_SRC``), and executed against each framework's modules, so both
sides run literally the same class bodies.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import functools
import gc
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

# hookchain reads a config file on the first run of a process and its handlers
# would join every run: read none. LangSmith tracing would add network I/O.
os.environ["HOOKCHAIN_CONFIG"] = ""
# Start-up is measured as a user's Python runs: with bytecode caches. A
# PYTHONDONTWRITEBYTECODE=1 in the environment (some CI images and sandboxes
# set it) would make every fresh interpreter compile hookchain from source and
# add ~100 ms to each start-up row; the warm-up runs write the caches.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
for _var in ("LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING", "LANGSMITH_TRACING", "LANGSMITH_TRACING_V2"):
    os.environ.pop(_var, None)

HERE = Path(__file__).resolve().parent
FRAMEWORKS = ("hookchain", "langchain-core", "floor")
PACKAGES = {"hookchain": "hookchain", "langchain-core": "langchain_core"}
ECHO_CHARS = 200
WORKLOAD_KEYS = (
    "invoke", "stream", "astream_events", "astream_events_sync", "batch", "abatch", "import", "plugin_discovery",
    "cold_start_cli", "cold_start_lib", "memory", "memory_rss", "chain_length", "handlers",
    "model_hooks", "startup", "handler_plugins", "import_breakdown", "stream_cli",
)

# --------------------------------------------------------------------------- #
# The model and handler, identical on both sides
# --------------------------------------------------------------------------- #

FRAMEWORK_SRC = '''
from {pkg}.prompts import ChatPromptTemplate
from {pkg}.language_models import BaseChatModel
from {pkg}.callbacks import BaseCallbackHandler
from {pkg}.messages import AIMessage, AIMessageChunk
from {pkg}.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from {pkg}.runnables import RunnableLambda

GATE = None  # the memory workload parks every run here until all have arrived


class EchoChatModel(BaseChatModel):
    """Echoes the first n characters of the last message, one character per chunk."""

    n: int = 200

    def _text(self, messages):
        return messages[-1].content[: self.n]

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._text(messages)))])

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        if GATE is not None:
            await GATE.arrive()
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._text(messages)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        for char in self._text(messages):
            yield ChatGenerationChunk(message=AIMessageChunk(content=char))

    async def _astream(self, messages, stop=None, run_manager=None, **kwargs):
        for char in self._text(messages):
            yield ChatGenerationChunk(message=AIMessageChunk(content=char))

    @property
    def _llm_type(self):
        return "echo"


class SyncEchoChatModel(EchoChatModel):
    """The echo model without its async methods: async calls run the sync ones in threads."""

    _agenerate = BaseChatModel._agenerate
    _astream = BaseChatModel._astream


class CountingHandler(BaseCallbackHandler):
    """Counts run events and streamed tokens."""

    def __init__(self):
        self.events = 0
        self.tokens = 0

    def on_chain_start(self, serialized, inputs, **kwargs):
        self.events += 1

    def on_chain_end(self, outputs, **kwargs):
        self.events += 1

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.events += 1

    def on_llm_end(self, response, **kwargs):
        self.events += 1

    def on_llm_new_token(self, token, **kwargs):
        self.tokens += 1


def identity(x):
    return x


prompt = ChatPromptTemplate.from_messages([("human", "{{text}}")])
model = EchoChatModel()
chain = prompt | model
sync_chain = prompt | SyncEchoChatModel()
'''


def framework_namespace(name: str) -> dict[str, Any]:
    """Execute ``FRAMEWORK_SRC`` against hookchain or langchain_core."""
    ns: dict[str, Any] = {"__name__": f"bench_{PACKAGES[name]}"}
    exec(compile(FRAMEWORK_SRC.format(pkg=PACKAGES[name]), f"<bench {name}>", "exec"), ns)
    return ns


# --------------------------------------------------------------------------- #
# The plain-Python floor: the same observable work, no framework
# --------------------------------------------------------------------------- #


class FloorMessage:
    __slots__ = ("content", "type")

    def __init__(self, content: str, type: str) -> None:
        self.content, self.type = content, type


class FloorHandler:
    """Same methods as CountingHandler, no base class."""

    def __init__(self) -> None:
        self.events = 0
        self.tokens = 0

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self.events += 1

    def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        self.events += 1

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.events += 1

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.events += 1

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens += 1


FLOOR_TEMPLATE = "{text}"


def floor_invoke(variables: dict, handlers: list, n: int = ECHO_CHARS) -> FloorMessage:
    """Sequence start, prompt start/end, model start/end, sequence end."""
    for h in handlers:
        h.on_chain_start(None, variables)
    for h in handlers:
        h.on_chain_start(None, variables)
    message = FloorMessage(FLOOR_TEMPLATE.format(**variables), "human")
    for h in handlers:
        h.on_chain_end(message)
    for h in handlers:
        h.on_chat_model_start(None, [[message]])
    out = FloorMessage(message.content[:n], "ai")
    for h in handlers:
        h.on_llm_end(out)
    for h in handlers:
        h.on_chain_end(out)
    return out


def floor_invoke_str(text: str, handlers: list, steps: int) -> FloorMessage:
    """The chain_length floor: K-1 identity steps then the model on a string."""
    for h in handlers:
        h.on_chain_start(None, text)
    value: Any = text
    for _ in range(steps):
        for h in handlers:
            h.on_chain_start(None, value)
        value = identity_floor(value)
        for h in handlers:
            h.on_chain_end(value)
    message = FloorMessage(value, "human")
    for h in handlers:
        h.on_chat_model_start(None, [[message]])
    out = FloorMessage(message.content[:ECHO_CHARS], "ai")
    for h in handlers:
        h.on_llm_end(out)
    for h in handlers:
        h.on_chain_end(out)
    return out


def identity_floor(x: Any) -> Any:
    return x


def floor_stream(variables: dict, handler: FloorHandler):
    handler.on_chain_start(None, variables)
    handler.on_chain_start(None, variables)
    message = FloorMessage(FLOOR_TEMPLATE.format(**variables), "human")
    handler.on_chain_end(message)
    handler.on_chat_model_start(None, [[message]])
    parts = []
    for char in message.content[:ECHO_CHARS]:
        chunk = FloorMessage(char, "ai")
        handler.on_llm_new_token(char, chunk=chunk)
        parts.append(char)
        yield chunk
    out = FloorMessage("".join(parts), "ai")
    handler.on_llm_end(out)
    handler.on_chain_end(out)


async def floor_astream_events(variables: dict):
    import uuid

    seq, prm, mdl = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())

    def event(kind: str, name: str, run_id: str, parents: list, data: dict) -> dict:
        return {"event": kind, "name": name, "run_id": run_id, "parent_ids": parents,
                "tags": [], "metadata": {}, "data": data}

    yield event("on_chain_start", "RunnableSequence", seq, [], {"input": variables})
    yield event("on_prompt_start", "ChatPromptTemplate", prm, [seq], {"input": variables})
    message = FloorMessage(FLOOR_TEMPLATE.format(**variables), "human")
    yield event("on_prompt_end", "ChatPromptTemplate", prm, [seq], {"output": message, "input": variables})
    yield event("on_chat_model_start", "EchoChatModel", mdl, [seq], {"input": {"messages": [[message]]}})
    parts = []
    for char in message.content[:ECHO_CHARS]:
        chunk = FloorMessage(char, "ai")
        parts.append(char)
        yield event("on_chat_model_stream", "EchoChatModel", mdl, [seq], {"chunk": chunk})
        yield event("on_chain_stream", "RunnableSequence", seq, [], {"chunk": chunk})
    out = FloorMessage("".join(parts), "ai")
    yield event("on_chat_model_end", "EchoChatModel", mdl, [seq], {"output": out, "input": {"messages": [[message]]}})
    yield event("on_chain_end", "RunnableSequence", seq, [], {"output": out})


# --------------------------------------------------------------------------- #
# Measurement helpers
# --------------------------------------------------------------------------- #


class Samples:
    """Per-side samples of one row (already in the row's unit)."""

    def __init__(self) -> None:
        self.by_side: dict[str, list[float]] = {fw: [] for fw in FRAMEWORKS}

    def add(self, side: str, value: float) -> None:
        self.by_side[side].append(value)


class Row:
    def __init__(self, key: str, label: str, unit: str, samples: Samples, note: str = "") -> None:
        self.key, self.label, self.unit, self.samples, self.note = key, label, unit, samples, note

    def stats(self, side: str) -> Optional[tuple[float, float, float]]:
        values = self.samples.by_side.get(side) or []
        if not values:
            return None
        return statistics.median(values), min(values), max(values)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rotations(round_no: int, sides: tuple[str, ...] = FRAMEWORKS) -> tuple[str, ...]:
    k = round_no % len(sides)
    return sides[k:] + sides[:k]


def calibrate(fn: Callable[[], int], target_s: float) -> int:
    """Iterations of ``fn`` (one warm-up call first) lasting about ``target_s``."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    return max(1, int(target_s / one))


def timed_sample(fn: Callable[[], int], iterations: int) -> float:
    """Microseconds per unit: ``fn`` returns how many units one call did."""
    gc.collect()
    units = 0
    t0 = time.perf_counter()
    for _ in range(iterations):
        units += fn()
    return (time.perf_counter() - t0) * 1e6 / units


def interleave(key: str, label: str, unit: str, makers: dict[str, Callable[[], int]], rounds: int,
               target_s: float, note: str = "") -> Row:
    samples = Samples()
    iterations = {side: calibrate(fn, target_s) for side, fn in makers.items()}
    sides = tuple(s for s in FRAMEWORKS if s in makers)
    for r in range(rounds):
        for side in rotations(r, sides):
            samples.add(side, timed_sample(makers[side], iterations[side]))
    row = Row(key, label, unit, samples, note)
    log(f"  {label}: " + ", ".join(f"{s} {fmt(row.stats(s)[0])}" for s in sides))  # type: ignore[index]
    return row


def fmt(x: float) -> str:
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


# --------------------------------------------------------------------------- #
# In-process workloads
# --------------------------------------------------------------------------- #


class Bench:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.ns = {fw: framework_namespace(fw) for fw in ("hookchain", "langchain-core")}
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.rounds = 3 if quick else 15
        self.target = 0.005 if quick else 0.06
        self.batch_size = 50 if quick else 1000
        self.long_input = {"text": "".join(chr(ord("a") + i % 26) for i in range(ECHO_CHARS))}
        self.short_input = {"text": "hello"}

    def run_async(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def check(self) -> None:
        """Both frameworks must do the same work: same output, same event counts."""
        seen = {}
        for fw, ns in self.ns.items():
            h = ns["CountingHandler"]()
            out = ns["chain"].invoke(self.short_input, {"callbacks": [h]})
            text = "".join(c.content for c in ns["chain"].stream(self.long_input, {"callbacks": [h]}))
            seen[fw] = (out.content, text, h.events, h.tokens)
        fh = FloorHandler()
        out = floor_invoke(self.short_input, [fh])
        text = "".join(c.content for c in floor_stream(self.long_input, fh))
        seen["floor"] = (out.content, text, fh.events, fh.tokens)
        log(f"  sanity (output, stream text length, events, tokens): "
            + "; ".join(f"{k}: {v[0]!r}, {len(v[1])}, {v[2]}, {v[3]}" for k, v in seen.items()))
        outs = {(v[0], v[1]) for v in seen.values()}
        if len(outs) != 1:
            raise SystemExit(f"frameworks disagree on the output: {seen}")

    # (1) invoke
    def invoke(self) -> Row:
        makers: dict[str, Callable[[], int]] = {}
        for fw, ns in self.ns.items():
            chain, cfg = ns["chain"], {"callbacks": [ns["CountingHandler"]()]}
            makers[fw] = lambda chain=chain, cfg=cfg: (chain.invoke(self.short_input, cfg), 1)[1]
        fh = [FloorHandler()]
        makers["floor"] = lambda: (floor_invoke(self.short_input, fh), 1)[1]
        return interleave("invoke", "invoke", "µs/call", makers, self.rounds, self.target,
                          "`(prompt | model).invoke(..., config={'callbacks': [handler]})`")

    # (2) stream
    def stream(self) -> Row:
        makers: dict[str, Callable[[], int]] = {}
        for fw, ns in self.ns.items():
            chain, cfg = ns["chain"], {"callbacks": [ns["CountingHandler"]()]}

            def run(chain: Any = chain, cfg: Any = cfg) -> int:
                for _ in chain.stream(self.long_input, cfg):
                    pass
                return ECHO_CHARS
            makers[fw] = run
        fh = FloorHandler()

        def floor() -> int:
            for _ in floor_stream(self.long_input, fh):
                pass
            return ECHO_CHARS
        makers["floor"] = floor
        return interleave("stream", "stream", "µs/token", makers, self.rounds, self.target,
                          f"`chain.stream` of a {ECHO_CHARS}-char echo, handler counting `on_llm_new_token`; "
                          f"per token = per echoed character")

    # (3) astream_events
    def astream_events(self) -> Row:
        return self._events("astream_events", "chain", "")

    def astream_events_sync(self) -> Row:
        return self._events("astream_events_sync", "sync_chain",
                            " with a model that only implements the sync `_generate`/`_stream`")

    def _events(self, key: str, chain_name: str, what: str) -> Row:
        counts: dict[str, int] = {}
        makers: dict[str, Callable[[], int]] = {}
        for fw, ns in self.ns.items():
            chain = ns[chain_name]

            async def consume(chain: Any = chain) -> int:
                n = 0
                async for _ in chain.astream_events(self.long_input, version="v2"):
                    n += 1
                return n

            def run(consume: Any = consume, fw: str = fw) -> int:
                counts[fw] = self.run_async(consume())
                return counts[fw]
            makers[fw] = run

        async def floor_consume() -> int:
            n = 0
            async for _ in floor_astream_events(self.long_input):
                n += 1
            return n

        def floor() -> int:
            counts["floor"] = self.run_async(floor_consume())
            return counts["floor"]
        makers["floor"] = floor
        row = interleave(key, key, "µs/event", makers, max(3, self.rounds * 2 // 3), self.target, "")
        row.note = (f"`chain.astream_events(..., version='v2')` of a {ECHO_CHARS}-char echo{what}; events per run: "
                    + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return row

    # (4) batch / (5) abatch
    def batch(self) -> Row:
        inputs = [{"text": f"hello {i}"} for i in range(self.batch_size)]
        makers: dict[str, Callable[[], int]] = {}
        for fw, ns in self.ns.items():
            chain, cfg = ns["chain"], {"callbacks": [ns["CountingHandler"]()]}
            makers[fw] = lambda chain=chain, cfg=cfg: len(chain.batch(inputs, cfg))
        fh = [FloorHandler()]
        makers["floor"] = lambda: len([floor_invoke(v, fh) for v in inputs])
        return self._batch_rows("batch", makers, f"`chain.batch` of {self.batch_size} inputs, one runtime handler; "
                                "floor is a sequential loop")

    def abatch(self) -> Row:
        inputs = [{"text": f"hello {i}"} for i in range(self.batch_size)]
        makers: dict[str, Callable[[], int]] = {}
        for fw, ns in self.ns.items():
            chain, cfg = ns["chain"], {"callbacks": [ns["CountingHandler"]()]}
            makers[fw] = lambda chain=chain, cfg=cfg: len(self.run_async(chain.abatch(inputs, cfg)))
        fh = [FloorHandler()]

        async def one(v: dict) -> FloorMessage:
            return floor_invoke(v, fh)

        async def floor_all() -> list:
            return await asyncio.gather(*(one(v) for v in inputs))
        makers["floor"] = lambda: len(self.run_async(floor_all()))
        return self._batch_rows("abatch", makers, f"`await chain.abatch` of {self.batch_size} inputs, one runtime "
                                "(sync) handler; floor is `asyncio.gather` of coroutines")

    def _batch_rows(self, key: str, makers: dict[str, Callable[[], int]], note: str) -> Row:
        samples = Samples()
        for fn in makers.values():  # warm-up (thread pools, caches)
            fn()
        rounds = 3 if self.quick else 9
        for r in range(rounds):
            for side in rotations(r):
                samples.add(side, timed_sample(makers[side], 1))
        row = Row(key, key, "µs/input", samples, note)
        log(f"  {key}: " + ", ".join(f"{s} {fmt(row.stats(s)[0])}" for s in FRAMEWORKS))  # type: ignore[index]
        return row

    # scaling
    def chain_length(self) -> list[Row]:
        rows = []
        for k in (2, 8, 32):
            makers: dict[str, Callable[[], int]] = {}
            for fw, ns in self.ns.items():
                steps = [ns["RunnableLambda"](ns["identity"]) for _ in range(k - 1)] + [ns["EchoChatModel"]()]
                chain = functools.reduce(lambda a, b: a | b, steps)
                cfg = {"callbacks": [ns["CountingHandler"]()]}
                makers[fw] = lambda chain=chain, cfg=cfg: (chain.invoke("hello", cfg), 1)[1]
            fh = [FloorHandler()]
            makers["floor"] = lambda k=k: (floor_invoke_str("hello", fh, k - 1), 1)[1]
            rows.append(interleave(f"chain_length={k}", f"chain_length={k}", "µs/call", makers,
                                   3 if self.quick else 9, self.target / 2,
                                   f"{k - 1} × `RunnableLambda(identity)` then the model, one runtime handler"))
        return rows

    def handlers(self) -> list[Row]:
        rows = []
        for n in (0, 1, 8, 32):
            makers: dict[str, Callable[[], int]] = {}
            for fw, ns in self.ns.items():
                chain = ns["chain"]
                cfg = {"callbacks": [ns["CountingHandler"]() for _ in range(n)]}
                makers[fw] = lambda chain=chain, cfg=cfg: (chain.invoke(self.short_input, cfg), 1)[1]
            fh = [FloorHandler() for _ in range(n)]
            makers["floor"] = lambda fh=fh: (floor_invoke(self.short_input, fh), 1)[1]
            rows.append(interleave(f"handlers={n}", f"handlers={n}", "µs/call", makers,
                                   3 if self.quick else 9, self.target / 2,
                                   f"`(prompt | model).invoke` with {n} runtime handler(s)"))
        return rows

    def handler_plugins(self) -> list[Row]:
        """The invoke workload with each installed plugin handler (hookchain only;
        the other sides repeat invoke)."""
        rows = []
        for name, make in _plugin_handlers().items():
            handler, done = make()
            makers = {fw: (lambda chain=ns["chain"], cfg={"callbacks": [ns["CountingHandler"]()]}: (chain.invoke(self.short_input, cfg), 1)[1])
                      for fw, ns in self.ns.items()}
            cfg = {"callbacks": [handler]}
            makers["hookchain"] = lambda chain=self.ns["hookchain"]["chain"], cfg=cfg: (chain.invoke(self.short_input, cfg), 1)[1]
            fh = [FloorHandler()]
            makers["floor"] = lambda: (floor_invoke(self.short_input, fh), 1)[1]
            try:
                rows.append(interleave(f"handler_plugins={name}", f"handler_plugins={name}", "µs/call", makers,
                                       3 if self.quick else 9, self.target / 2,
                                       f"`(prompt | model).invoke` with the `{name}` plugin handler only; minus handlers=0: its overhead per run"))
            finally:
                done()
        return rows

    def model_hooks(self) -> list[Row]:
        """The invoke workload with 0 and 1 enabled no-op chat-model hook plugins
        (hookchain only has them; the other sides repeat the invoke work)."""
        from hookchain import hookimpl
        from hookchain.callbacks import BaseCallbackHandler, disable_handler, enable_handler

        class NoopHooks(BaseCallbackHandler):
            @hookimpl
            def chat_model_start(self, call: Any) -> None: ...

            @hookimpl
            def chat_model_cached(self, call: Any) -> None: ...

            @hookimpl
            def chat_model_chunk(self, call: Any, chunk: Any) -> None: ...

            @hookimpl
            def chat_model_end(self, call: Any, result: Any) -> None: ...

            @hookimpl
            def chat_model_error(self, call: Any, error: BaseException) -> None: ...

        rows = []
        for m in (0, 1):
            plugins = [NoopHooks() for _ in range(m)]
            for plugin in plugins:
                enable_handler(plugin)
            try:
                row = self.invoke()
            finally:
                for plugin in plugins:
                    disable_handler(plugin)
            rows.append(Row(f"model_hooks={m}", f"model_hooks={m}", row.unit, row.samples,
                            f"the invoke workload with {m} enabled no-op chat-model hook plugin(s)"))
        return rows


def _plugin_handlers() -> dict[str, Callable[[], tuple[Any, Callable[[], None]]]]:
    """``{name: make}`` for the plugin handlers installed here; ``make()`` gives
    ``(handler, cleanup)``."""
    import importlib.util

    out: dict[str, Callable[[], tuple[Any, Callable[[], None]]]] = {}
    if importlib.util.find_spec("hookchain_otel") is not None:
        def otel() -> tuple[Any, Callable[[], None]]:
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
            from hookchain_otel import OtelHandler

            class Discard(SpanExporter):
                def export(self, spans: Any) -> Any:
                    return SpanExportResult.SUCCESS

            provider = TracerProvider()
            provider.add_span_processor(BatchSpanProcessor(Discard()))
            return OtelHandler(tracer_provider=provider), provider.shutdown
        out["otel"] = otel
    if importlib.util.find_spec("hookchain_runlog") is not None:
        def runlog() -> tuple[Any, Callable[[], None]]:
            from hookchain_runlog import RunLogHandler

            folder = tempfile.mkdtemp(prefix="hookchain-bench-runlog-")
            handler = RunLogHandler(path=os.path.join(folder, "runs.sqlite"))

            def done() -> None:
                handler.flush(60)
                handler.store.close()
                shutil.rmtree(folder, ignore_errors=True)
            return handler, done
        out["runlog"] = runlog
    return out


# --------------------------------------------------------------------------- #
# Subprocess workloads
# --------------------------------------------------------------------------- #

IMPORTS = {
    "hookchain": (
        "from hookchain.prompts import ChatPromptTemplate; "
        "from hookchain.language_models import BaseChatModel; "
        "from hookchain.callbacks import BaseCallbackHandler; "
        "from hookchain.messages import AIMessage, AIMessageChunk, HumanMessage; "
        "from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult; "
        "from hookchain.runnables import RunnableLambda"
    ),
    "langchain-core": (
        "from langchain_core.prompts import ChatPromptTemplate; "
        "from langchain_core.language_models import BaseChatModel; "
        "from langchain_core.callbacks import BaseCallbackHandler; "
        "from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage; "
        "from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult; "
        "from langchain_core.runnables import RunnableLambda"
    ),
    # What the plain-Python floor code itself imports.
    "floor": "import asyncio, uuid",
}


def run_python(code: str, **kwargs: Any) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, **kwargs)
    if out.returncode != 0:
        raise RuntimeError(f"subprocess failed ({out.returncode}): {out.stderr[-2000:]}")
    return out.stdout


def bench_import(quick: bool) -> Row:
    samples = Samples()
    rounds = 2 if quick else 15
    for side in FRAMEWORKS:  # warm the OS file cache and .pyc files
        run_python(IMPORTS[side])
    for r in range(rounds):
        for side in rotations(r):
            code = ("import time; t0 = time.perf_counter(); " + IMPORTS[side]
                    + "; print((time.perf_counter() - t0) * 1e3)")
            samples.add(side, float(run_python(code).strip()))
    row = Row("import", "import", "ms", samples,
              "fresh interpreter, in-process `perf_counter` around the `from ... import ...` lines (interpreter "
              "start-up excluded); floor imports what the floor code needs (`asyncio`, `uuid`)")
    log("  import: " + ", ".join(f"{s} {fmt(row.stats(s)[0])}" for s in FRAMEWORKS))  # type: ignore[index]
    return row


def make_plugins(root: Path, count: int) -> None:
    """``count`` tiny plugin distributions: a ``*.dist-info`` with an entry point
    in group ``hookchain`` plus a module registering one model name."""
    for i in range(count):
        mod = f"hcbench_plugin_{i:03d}"
        dist = root / f"{mod}-0.1.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {mod.replace('_', '-')}\nVersion: 0.1\n")
        (dist / "entry_points.txt").write_text(f"[hookchain]\nbench{i:03d} = {mod}\n")
        (root / f"{mod}.py").write_text(textwrap.dedent(f"""\
            import hookchain


            def _factory(**options):
                return None


            @hookchain.hookimpl
            def register_models(register):
                register("bench_model_{i:03d}", _factory)
            """))


PLUGIN_CHILD = {
    # hookchain's discovery, first call in the process: from the plugin index
    # (plugin_index.py), which imports no plugin while it is up to date.
    "hookchain": """
import sys, time
sys.path.insert(0, {path!r})
import hookchain.callbacks, hookchain.language_models, hookchain.prompts  # what any user program has loaded
import hookchain.plugins as P
t0 = time.perf_counter()
plugins = P.list_plugins()
t1 = time.perf_counter()
assert len(plugins) >= {count}, len(plugins)
for _ in range(5):
    P.reset()
    P.list_plugins()
t2 = time.perf_counter()
print((t1 - t0) * 1e3, (t2 - t1) * 1e3 / 5)
""",
    # The floor: the same entry-point scan and module imports, nothing else.
    "floor": """
import sys, time
sys.path.insert(0, {path!r})
import hookchain.callbacks, hookchain.language_models, hookchain.prompts
t0 = time.perf_counter()
try:
    from importlib_metadata import entry_points
except ImportError:
    from importlib.metadata import entry_points
loaded = [ep.load() for ep in entry_points(group="hookchain")]
t1 = time.perf_counter()
assert len(loaded) >= {count}, len(loaded)
print((t1 - t0) * 1e3, 0.0)
""",
}


def bench_plugin_discovery(quick: bool) -> list[Row]:
    count = 10 if quick else 100
    rounds = 2 if quick else 7
    first, warm, base = Samples(), Samples(), Samples()
    with tempfile.TemporaryDirectory(prefix="hcbench-plugins-") as tmp:
        root = Path(tmp) / "site"
        make_plugins(root, count)
        empty = Path(tmp) / "empty"
        empty.mkdir()
        for side in ("hookchain", "floor"):
            run_python(PLUGIN_CHILD[side].format(path=str(root), count=count))
        for r in range(rounds):
            for side in rotations(r, ("hookchain", "floor")):
                cold, again = map(float, run_python(PLUGIN_CHILD[side].format(path=str(root), count=count)).split())
                first.add(side, cold)
                if side == "hookchain":
                    warm.add(side, again)
            cold, _ = map(float, run_python(PLUGIN_CHILD["hookchain"].format(path=str(empty), count=0)).split())
            base.add("hookchain", cold)
    rows = [
        Row("plugin_discovery", f"plugin_discovery ({count} plugins)", "ms", first,
            f"first `hookchain.plugins.list_plugins()` in a fresh process (hookchain's public modules already "
            f"imported) with {count} generated entry-point plugins on `sys.path` plus the installed ones; "
            f"answered from the plugin index (warm: no plugin module imported, no distribution's metadata read while `sys.path` is unchanged); "
            f"floor: `entry_points(group='hookchain')` + `ep.load()` of the same"),
        Row("plugin_discovery", "plugin_discovery (installed only)", "ms", base,
            "the same with only the installed plugins (echo, stdout)"),
        Row("plugin_discovery", f"plugin_discovery (again after reset(), {count} plugins)", "ms", warm,
            "`reset()` then `list_plugins()` in the same process (modules already imported)"),
    ]
    log(f"  plugin_discovery: first {fmt(rows[0].stats('hookchain')[0])} ms, floor "  # type: ignore[index]
        f"{fmt(rows[0].stats('floor')[0])} ms, installed-only {fmt(rows[1].stats('hookchain')[0])} ms")  # type: ignore[index]
    return rows


COLD_LIB = FRAMEWORK_SRC + '''
import sys
for chunk in chain.stream({{"text": "hi"}}):
    sys.stdout.write(chunk.content)
    sys.stdout.flush()
'''


def finish(proc: subprocess.Popen, timeout: float = 120.0) -> tuple[Any, Any]:
    """``proc.communicate()`` with a hang guard: a timer kills ``proc`` after
    ``timeout`` seconds. (``communicate(timeout=...)`` and ``run(timeout=...)``
    notice the exit by polling with sleeps of up to 50 ms, which rounded every
    start-up figure up to the next ~50 ms step.)"""
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        return proc.communicate()
    finally:
        timer.cancel()


def first_byte(cmd: list[str], cwd: Optional[str] = None) -> tuple[float, float]:
    """(ms to the first byte on stdout, ms to exit) of ``cmd``; for ``python -c
    pass``, which prints nothing, both are the exit time."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    assert proc.stdout is not None
    data = proc.stdout.read(1)
    t1 = time.perf_counter()
    rest, err = finish(proc)
    t2 = time.perf_counter()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {err.decode(errors='replace')[-2000:]}")
    if data and not (data + rest).startswith(b"h"):
        raise RuntimeError(f"{cmd[:3]} printed {(data + rest)[:80]!r}, expected the echo 'hi'")
    return (t1 - t0) * 1e3, (t2 - t0) * 1e3


def hookchain_cli() -> list[str]:
    exe = shutil.which("hookchain", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "hookchain.cli"]


def bench_cold_start(quick: bool) -> list[Row]:
    rounds = 2 if quick else 10
    cli_first, cli_exit, lib_first = Samples(), Samples(), Samples()
    with tempfile.TemporaryDirectory(prefix="hcbench-cold-") as tmp:
        cfg = Path(tmp) / "hookchain.toml"
        cfg.write_text('model = "echo"\n')  # no handlers: the first byte on stdout is the first token
        cli = [*hookchain_cli(), "run", "hi", "-m", "echo", "--config", str(cfg)]
        cmds = {
            "cli": cli,
            "pass": [sys.executable, "-c", "pass"],
            "hookchain": [sys.executable, "-c", COLD_LIB.format(pkg="hookchain")],
            "langchain-core": [sys.executable, "-c", COLD_LIB.format(pkg="langchain_core")],
        }
        for cmd in cmds.values():
            first_byte(cmd, cwd=tmp)
        time.sleep(2.1)  # past the plugin index's racy window for the new directory (see bench_startup)
        for which in ("cli", "hookchain"):
            first_byte(cmds[which], cwd=tmp)
        order = ("cli", "pass", "hookchain", "langchain-core")
        for r in range(rounds):
            for which in rotations(r, order):
                first, exit_ = first_byte(cmds[which], cwd=tmp)
                if which == "cli":
                    cli_first.add("hookchain", first)
                    cli_exit.add("hookchain", exit_)
                elif which == "pass":
                    for s in (cli_first, cli_exit, lib_first):
                        s.add("floor", exit_)
                else:
                    lib_first.add(which, first)
    rows = [
        Row("cold_start_cli", "cold_start_cli (to first token)", "ms", cli_first,
            "`hookchain run \"hi\" -m echo --config <no handlers>` (console script, streaming): process start to "
            "the first byte on stdout; floor: `python -c pass` to exit"),
        Row("cold_start_cli", "cold_start_cli (to exit)", "ms", cli_exit, "the same, to process exit"),
        Row("cold_start_lib", "cold_start_lib (to first token)", "ms", lib_first,
            "`python -c` script: import, define the echo model, `(prompt | model).stream`, first token written"),
    ]
    log(f"  cold_start: cli first token {fmt(rows[0].stats('hookchain')[0])} ms, python -c pass "  # type: ignore[index]
        f"{fmt(rows[0].stats('floor')[0])} ms, lib hookchain {fmt(rows[2].stats('hookchain')[0])} ms, "  # type: ignore[index]
        f"langchain-core {fmt(rows[2].stats('langchain-core')[0])} ms")  # type: ignore[index]
    return rows


LIBRARY_RUN = ("from hookchain.prompts import ChatPromptTemplate\nfrom hookchain.plugins import get_model\n"
               "(ChatPromptTemplate.from_template('{x}') | get_model('echo')).invoke({'x': 'hi'})\n")
PYDANTIC_FLOOR = "from pydantic import BaseModel\nclass Probe(BaseModel):\n    name: str = 'x'\n    n: int = 0\nProbe(name='y', n=1)\n"


def bench_startup(quick: bool) -> list[Row]:
    """Process start to exit of short commands, interleaved with two floors: bare
    ``python -c pass`` and the pydantic floor (import pydantic, define and build
    one small model: what any pydantic chat model pays). The plugin index is
    built by the warm-up runs (in a private cache directory)."""
    rounds = 1 if quick else 15
    count = 10 if quick else 100
    with tempfile.TemporaryDirectory(prefix="hcbench-startup-") as tmp:
        many = Path(tmp) / "site"
        make_plugins(many, count)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOOKCHAIN_PLUGINS", "HOOKCHAIN_DISABLE"))}
        env.update(HOOKCHAIN_CACHE_DIR=str(Path(tmp) / "cache"), HOOKCHAIN_CONFIG="")  # the embedded default config
        env_many = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(many), env.get("PYTHONPATH")]))}
        cli = hookchain_cli()
        cmds = {
            "python": ([sys.executable, "-c", "pass"], env),
            "pydantic": ([sys.executable, "-c", PYDANTIC_FLOOR], env),
            "--version": ([*cli, "--version"], env),
            "--help": ([*cli, "--help"], env),
            "import hookchain": ([sys.executable, "-c", "import hookchain"], env),
            "run hi -m echo": ([*cli, "run", "hi", "-m", "echo"], env),
            f"run hi -m echo, {count} more plugins": ([*cli, "run", "hi", "-m", "echo"], env_many),
            "library: get_model('echo') chain invoke": ([sys.executable, "-c", LIBRARY_RUN], env),
            # pydantic's own plugin loader reads every distribution on sys.path: the floor of the row above
            "pydantic, more plugins": ([sys.executable, "-c", PYDANTIC_FLOOR], env_many),
        }

        def once(cmd: list[str], environ: dict[str, str]) -> float:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, env=environ, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            finish(proc)
            elapsed = (time.perf_counter() - t0) * 1e3
            if proc.returncode:
                raise RuntimeError(f"{cmd[:4]} exited with {proc.returncode}")
            return elapsed

        for key, (cmd, environ) in cmds.items():  # warm: bytecode caches, the plugin index
            if not quick or key.startswith(("run", "library")):
                once(cmd, environ)
        # The plugin index remembers a sys.path state only once its directories are
        # 2 s old (hookchain.plugin_index._RACY_NS): as a user's, installed earlier.
        time.sleep(2.1)
        for key, (cmd, environ) in cmds.items():
            if key.startswith(("run", "library", "--help")):
                once(cmd, environ)
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for r in range(rounds):
            for key in rotations(r, tuple(cmds)):
                times[key].append(once(*cmds[key]))
    rows = []
    for key, values in times.items():
        if key.startswith(("python", "pydantic")):
            continue
        floor = "python" if key.startswith(("--", "import")) else \
            "pydantic, more plugins" if key.endswith("more plugins") else "pydantic"
        samples = Samples()
        for v in values:
            samples.add("hookchain", v)
        for v in times[floor]:
            samples.add("floor", v)
        over = statistics.median(values) - statistics.median(times[floor])
        floor_name = "bare `python -c pass`" if floor == "python" else \
            "the pydantic floor (import pydantic, define and build one BaseModel)" + (
                f", with the {count} plugins on sys.path too" if floor != "pydantic" else "")
        rows.append(Row("startup", f"startup `{key}`", "ms", samples,
                        f"process start to exit, plugin index warm; {over:+.0f} ms over {floor_name}, the floor column"))
        log(f"  startup {key}: {fmt(statistics.median(values))} ms, {over:+.0f} ms over {floor}")
    return rows


BREAKDOWN_MODULES = (
    "hookchain", "hookchain.messages", "hookchain.outputs", "hookchain.callbacks", "hookchain.runnables",
    "hookchain.prompts", "hookchain.language_models", "hookchain.plugins", "hookchain.config", "hookchain.cli",
    "pluggy", "pydantic", "asyncio",
)


def bench_import_breakdown(quick: bool) -> list[Row]:
    """Each module's import, alone, in a fresh interpreter: its cumulative time
    in ``python -X importtime -c "import X"`` (what importing it costs,
    dependencies included; bare Python's own start-up imports excluded)."""
    rounds = 1 if quick else 7
    times: dict[str, list[float]] = {m: [] for m in BREAKDOWN_MODULES}
    if not quick:
        for m in BREAKDOWN_MODULES:  # warm: bytecode caches
            run_python(f"import {m}")
    for r in range(rounds):
        for m in rotations(r, BREAKDOWN_MODULES):
            done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {m}"], capture_output=True,
                                  text=True, check=True, timeout=120)
            for line in done.stderr.splitlines():
                parts = [p.strip() for p in line.split("|")]
                if len(parts) == 3 and parts[2] == m:
                    times[m].append(int(parts[1]) / 1e3)
    rows = []
    for m, values in times.items():
        samples = Samples()
        for v in values:
            samples.add("hookchain", v)
        rows.append(Row("import_breakdown", f"import_breakdown `{m}`", "ms", samples,
                        "fresh interpreter, `python -X importtime -c 'import MODULE'`: the module's cumulative "
                        "import time, its dependencies included"))
        log(f"  import {m}: {fmt(statistics.median(values))} ms")
    return rows


def _run_measured(cmd: list[str], stdin_path: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time (ms) and peak resident set size (MiB) of one child process."""
    with open(stdin_path, "rb") as stdin:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = (time.perf_counter() - t0) * 1e3
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd} exited with {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def bench_stream_cli(quick: bool) -> list[Row]:
    """``hookchain run - -m echo`` answering a long text one character per chunk
    (1,000,000 characters; 20,000 with --quick), streamed and with
    ``--no-stream``, interleaved: process start to exit and peak RSS, default
    config (the stdout handler's run lines on stderr)."""
    chars = 20_000 if quick else 1_000_000
    rounds = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="hcbench-stream-") as tmp:
        answer = Path(tmp) / "answer.txt"
        answer.write_text("x" * chars)
        env = {**os.environ, "HOOKCHAIN_CACHE_DIR": str(Path(tmp) / "cache"), "HOOKCHAIN_CONFIG": ""}
        cmds = {"stream": [*hookchain_cli(), "run", "-", "-m", "echo", "-o", f"n={chars}"]}
        cmds["no-stream"] = [*cmds["stream"], "--no-stream"]
        _run_measured(cmds["no-stream"], answer, env)  # warm: plugin index, bytecode
        got: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
        for r in range(rounds):
            for key in rotations(r, tuple(cmds)):
                got[key].append(_run_measured(cmds[key], answer, env))
    label = f"{chars // 1000:,} k" if chars < 1_000_000 else "1 M"
    rows = []
    for what, index, unit in (("time", 0, "ms"), ("peak RSS", 1, "MiB")):
        samples = Samples()
        for v in got["stream"]:
            samples.add("hookchain", v[index])
        for v in got["no-stream"]:
            samples.add("floor", v[index])
        streamed, whole = (statistics.median(v[index] for v in got[k]) for k in ("stream", "no-stream"))
        extra = (f"{streamed / whole:.2f}x the `--no-stream` time" if index == 0 else
                 f"{(streamed - whole) / (chars / 2**20):+.1f}x the answer's size over `--no-stream`")
        rows.append(Row("stream_cli", f"stream_cli {what} ({label} chars, one per chunk)", unit, samples,
                        f"`hookchain run - -m echo -o n={chars}` reading a {chars:,}-character text on stdin, "
                        f"streamed (hookchain column) and `--no-stream` (floor column), process start to exit; "
                        f"{extra}"))
        log(f"  stream_cli {what}: streamed {fmt(streamed)}, --no-stream {fmt(whole)} {unit}")
    return rows


class Gate:
    """Parks each arriving run until ``n`` have arrived; records memory then."""

    def __init__(self, n: int, on_full: Callable[[], None]) -> None:
        self.n, self.count, self.on_full = n, 0, on_full
        self.event = asyncio.Event()

    async def arrive(self) -> None:
        self.count += 1
        if self.count == self.n:
            self.on_full()
            self.event.set()
        else:
            await self.event.wait()


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(side: str, n: int) -> None:
    """Run ``n`` concurrent ainvoke runs parked in the model; print the per-run
    RSS growth (first pass, no tracing) and traced Python memory (second pass)."""
    import tracemalloc

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    if side == "floor":
        ns: dict[str, Any] = {"GATE": None}

        async def one(v: dict) -> FloorMessage:
            message = FloorMessage(FLOOR_TEMPLATE.format(**v), "human")
            await ns["GATE"].arrive()
            return FloorMessage(message.content[:ECHO_CHARS], "ai")

        def start(inputs: list) -> Any:
            return asyncio.gather(*(one(v) for v in inputs))
    else:
        ns = framework_namespace(side)

        def start(inputs: list) -> Any:
            return asyncio.gather(*(ns["chain"].ainvoke(v) for v in inputs))

    inputs = [{"text": f"hello {i}"} for i in range(n)]
    results: dict[str, float] = {}

    def run(measure: Callable[[], float], name: str) -> None:
        gc.collect()
        base = measure()

        def full() -> None:
            results[name] = (measure() - base) / n
        ns["GATE"] = Gate(n, full)
        out = loop.run_until_complete(start(inputs))
        assert len(out) == n and out[-1].content == inputs[-1]["text"], out[-1]
        ns["GATE"] = None
        del out

    warm = [{"text": "warm"}] * 50
    ns["GATE"] = Gate(len(warm), lambda: None)
    loop.run_until_complete(start(warm))
    run(_rss, "rss")
    tracemalloc.start()
    run(lambda: tracemalloc.get_traced_memory()[0], "traced")
    tracemalloc.stop()
    print(results["traced"] / 1024, results["rss"] / 1024)


def bench_memory(quick: bool) -> list[Row]:
    n = 500 if quick else 10_000
    rounds = 1 if quick else 2
    traced, rss = Samples(), Samples()
    for r in range(rounds):
        for side in rotations(r):
            out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child-memory", side, str(n)],
                                 capture_output=True, text=True, timeout=600)
            if out.returncode != 0:
                raise RuntimeError(f"memory child {side} failed: {out.stderr[-2000:]}")
            t, m = map(float, out.stdout.split())
            traced.add(side, t)
            rss.add(side, m)
    rows = [
        Row("memory", f"memory ({n:,} concurrent ainvoke)", "KiB/run", traced,
            f"`asyncio.gather` of {n:,} `chain.ainvoke` (no callbacks), every run parked inside `_agenerate` "
            f"until all have arrived; tracemalloc's current traced memory then, minus before, per run"),
        Row("memory_rss", f"memory_rss ({n:,} concurrent ainvoke)", "KiB/run", rss,
            "the same, resident set size growth (`/proc/self/statm`, no tracing), per run"),
    ]
    log(f"  memory: " + ", ".join(f"{s} {fmt(rows[0].stats(s)[0])} KiB" for s in FRAMEWORKS))  # type: ignore[index]
    return rows


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #

HEADER = ("| workload | unit | hookchain | langchain-core | plain-Python floor | hookchain / langchain-core "
          "| hookchain / floor |\n|---|---|---|---|---|---|---|")


def cell(stats: Optional[tuple[float, float, float]]) -> str:
    if stats is None:
        return "n/a"
    med, lo, hi = stats
    return f"{fmt(med)} ({fmt(lo)}–{fmt(hi)})"


def ratio(a: Optional[tuple[float, float, float]], b: Optional[tuple[float, float, float]]) -> str:
    if a is None or b is None or b[0] <= 0:
        return "n/a"
    r = a[0] / b[0]
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def table(rows: list[Row]) -> str:
    lines = [HEADER]
    for row in rows:
        hc, lc, fl = (row.stats(s) for s in FRAMEWORKS)
        lines.append(f"| {row.label} | {row.unit} | {cell(hc)} | {cell(lc)} | {cell(fl)} | {ratio(hc, lc)} "
                     f"| {ratio(hc, fl)} |")
    return "\n".join(lines)


def notes(rows: list[Row]) -> str:
    return "\n".join(f"- **{row.label}**: {row.note}" for row in rows if row.note)


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    from importlib import metadata

    for dist in ("hookchain", "langchain-core", "pydantic", "pluggy"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    try:
        rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=HERE, capture_output=True,
                             text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        rev = "unknown"
    return {
        "revision": rev,
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "Python": f"{platform.python_version()} ({platform.python_implementation()}, {platform.system()} "
                  f"{platform.release()})",
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def render(sections: list[tuple[str, list[Row]]], quick: bool, wall: float, load: tuple[float, float]) -> str:
    out = []
    for title, rows in sections:
        if rows:
            out.append(f"### {title}\n\n{table(rows)}\n\n{notes(rows)}\n")
    body = "\n".join(out)
    mode = "QUICK smoke run: figures are not representative" if quick else "full run"
    return (f"{body}\n({mode}; wall time {wall:.0f} s; 1-minute load average {load[0]:.2f} at the start, "
            f"{load[1]:.2f} at the end: other work on the machine shows up as wide min–max ranges)\n")


def write_results(report: str, argv: list[str]) -> Path:
    m = machine()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "python benchmarks/bench.py " + " ".join(argv)
    text = f"""# hookchain benchmark results

Generated by `benchmarks/bench.py`; regenerate with `{command.strip()}`
(see `benchmarks/README.md`). Do not edit by hand.

- date: {now}
- hookchain revision: `{m['revision']}` (`-dirty`: uncommitted changes in the work tree)
- command: `{command.strip()}`
- CPU: {m['CPU']}, {m['cores']} cores
- Python: {m['Python']}
- {m['packages']}

Median (min–max) over interleaved samples; hookchain / langchain-core below 1
means hookchain is faster; hookchain / floor is the multiple of the same work
written as plain Python (no framework).

{report}"""
    path = HERE / "RESULTS.md"
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- #
# Profiling (hookchain side only)
# --------------------------------------------------------------------------- #


def profile(workload: str, seconds: float) -> None:
    import cProfile
    import pstats

    bench = Bench(quick=True)
    bench.batch_size = 1000
    ns = bench.ns["hookchain"]
    chain, cfg = ns["chain"], {"callbacks": [ns["CountingHandler"]()]}
    inputs = [{"text": f"hello {i}"} for i in range(bench.batch_size)]

    async def events() -> None:
        async for _ in chain.astream_events(bench.long_input, version="v2"):
            pass

    calls: dict[str, Callable[[], Any]] = {
        "invoke": lambda: chain.invoke(bench.short_input, cfg),
        "stream": lambda: list(chain.stream(bench.long_input, cfg)),
        "astream_events": lambda: bench.run_async(events()),
        "batch": lambda: chain.batch(inputs, cfg),
        "abatch": lambda: bench.run_async(chain.abatch(inputs, cfg)),
    }
    fn = calls[workload]
    iterations = calibrate(fn, seconds)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(iterations):
        fn()
    prof.disable()
    stats = pstats.Stats(prof, stream=sys.stdout).strip_dirs()
    print(f"hookchain {workload}: {iterations} iterations under cProfile")
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(30)


# --------------------------------------------------------------------------- #
# Main
# --------------------------------------------------------------------------- #


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fast smoke run (few, short samples)")
    parser.add_argument("--write", action="store_true", help="regenerate benchmarks/RESULTS.md")
    parser.add_argument("--only", help=f"comma-separated workload keys: {', '.join(WORKLOAD_KEYS)}")
    parser.add_argument("--profile", choices=("invoke", "stream", "astream_events", "batch", "abatch"),
                        help="cProfile hookchain's side of one workload and print the top functions")
    parser.add_argument("--child-memory", nargs=2, metavar=("SIDE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_memory:
        memory_child(args.child_memory[0], int(args.child_memory[1]))
        return 0
    if args.profile:
        profile(args.profile, 3.0)
        return 0
    only = set(WORKLOAD_KEYS)
    if args.only:
        only = {k.strip() for k in args.only.split(",") if k.strip()}
        unknown = only - set(WORKLOAD_KEYS)
        if unknown:
            parser.error(f"unknown workload(s) {sorted(unknown)}; choose from {', '.join(WORKLOAD_KEYS)}")

    # Fresh interpreters must find bytecode caches on both sides: an editable
    # hookchain under PYTHONDONTWRITEBYTECODE=1 would be compiled from source on
    # every start while langchain-core's .pyc files came with its wheel. All
    # subprocesses share a private cache directory, filled by their warm-up runs.
    pycache = tempfile.mkdtemp(prefix="hcbench-pycache-")
    os.environ["PYTHONPYCACHEPREFIX"] = pycache
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        return _run(args, only, argv)
    finally:
        shutil.rmtree(pycache, ignore_errors=True)


def _run(args: argparse.Namespace, only: set[str], argv: Optional[list[str]]) -> int:
    started = time.perf_counter()
    load_before = os.getloadavg()
    log(f"hookchain benchmark ({'quick' if args.quick else 'full'} run); progress on stderr, tables on stdout")
    bench = Bench(args.quick)
    bench.check()
    per_call: list[Row] = []
    for key in ("invoke", "stream", "astream_events", "astream_events_sync", "batch", "abatch"):
        if key in only:
            per_call.append(getattr(bench, key)())
    startup: list[Row] = []
    if "import" in only:
        startup.append(bench_import(args.quick))
    if "plugin_discovery" in only:
        startup.extend(bench_plugin_discovery(args.quick))
    if only & {"cold_start_cli", "cold_start_lib"}:
        startup.extend(bench_cold_start(args.quick))
    if "startup" in only:
        startup.extend(bench_startup(args.quick))
    if "import_breakdown" in only:
        startup.extend(bench_import_breakdown(args.quick))
    if "stream_cli" in only:
        startup.extend(bench_stream_cli(args.quick))
    memory = bench_memory(args.quick) if only & {"memory", "memory_rss"} else []
    lengths = bench.chain_length() if "chain_length" in only else []
    handlers = bench.handlers() if "handlers" in only else []
    hooks = bench.model_hooks() if "model_hooks" in only else []
    # not in a --quick run without --only: the smoke test (tests/test_benchmark_smoke.py) stays as short as before
    plugin_handlers = bench.handler_plugins() if "handler_plugins" in only and not (args.quick and not args.only) else []
    bench.loop.close()

    sections = [
        ("Per-call workloads", per_call),
        ("Start-up, import and plugin discovery", startup),
        ("Memory", memory),
        ("Scaling with chain length", lengths),
        ("Scaling with the number of handlers", handlers),
        ("Chat-model hooks (hookchain only; other columns repeat invoke)", hooks),
        ("Plugin handlers (hookchain only; other columns repeat invoke)", plugin_handlers),
    ]
    load = (load_before[0], os.getloadavg()[0])
    report = render(sections, args.quick, time.perf_counter() - started, load)
    print(report)
    if args.write:
        path = write_results(report, [a for a in (argv if argv is not None else sys.argv[1:])])
        log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
