"""Under load: exactly one start and one end per run, every child under its own
parent, no event crossing runs, and no state kept per finished run."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter, defaultdict

import hookchain
from hookchain.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from hookchain.prompts import ChatPromptTemplate


class Tally(BaseCallbackHandler):
    """Thread-safe per-run bookkeeping of starts, ends, parents and inputs."""

    run_inline = True

    def __init__(self):
        self.lock = threading.Lock()
        self.starts, self.ends = Counter(), Counter()
        self.parent = {}
        self.root_input = {}
        self.model_text = {}

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kwargs):
        with self.lock:
            self.starts[run_id] += 1
            self.parent[run_id] = parent_run_id
            if parent_run_id is None:
                self.root_input[run_id] = inputs["i"]

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kwargs):
        with self.lock:
            self.starts[run_id] += 1
            self.parent[run_id] = parent_run_id
            self.model_text[run_id] = messages[0][-1].text

    def on_chain_end(self, outputs, *, run_id, **kwargs):
        with self.lock:
            self.ends[run_id] += 1

    def on_llm_end(self, response, *, run_id, **kwargs):
        with self.lock:
            self.ends[run_id] += 1

    def check(self, n_roots: int, runs_per_root: int) -> None:
        assert set(self.starts) == set(self.ends)
        assert set(self.starts.values()) == {1} and set(self.ends.values()) == {1}
        roots = [r for r, p in self.parent.items() if p is None]
        assert len(roots) == n_roots and len(self.starts) == n_roots * runs_per_root
        children = defaultdict(list)
        for run, parent in self.parent.items():
            if parent is not None:
                children[parent].append(run)
        for root in roots:  # the model under each root saw that root's input: no crossing
            kids = children[root]
            assert len(kids) == runs_per_root - 1
            model = [k for k in kids if k in self.model_text]
            assert self.model_text[model[0]] == f"item {self.root_input[root]}"


def chain():
    return ChatPromptTemplate.from_template("item {i}") | hookchain.get_model("echo")


def test_ten_thousand_concurrent_ainvoke_runs():
    tally = Tally()

    class AsyncToo(AsyncCallbackHandler):
        def __init__(self):
            self.tokens = 0

        async def on_llm_end(self, response, **kwargs):
            self.tokens += 1

    also = AsyncToo()
    c = chain()

    async def main():
        return await asyncio.gather(*(c.ainvoke({"i": i}, config={"callbacks": [tally, also]}) for i in range(10_000)))

    outs = asyncio.run(main())
    assert [o.content for o in outs] == [f"item {i}" for i in range(10_000)]
    tally.check(10_000, 3)
    assert also.tokens == 10_000


def test_batch_over_eight_threads():
    tally = Tally()
    outs = chain().batch([{"i": i} for i in range(2_000)], config={"callbacks": [tally], "max_concurrency": 8})
    assert [o.content for o in outs] == [f"item {i}" for i in range(2_000)]
    tally.check(2_000, 3)


MEMORY_PROBE = """
import asyncio, gc, tracemalloc
import hookchain
from hookchain.callbacks import BaseCallbackHandler
from hookchain.prompts import ChatPromptTemplate

c = ChatPromptTemplate.from_template("item {i}") | hookchain.get_model("echo")


class Noop(BaseCallbackHandler):
    def on_llm_end(self, response, **kwargs):
        pass


handler = Noop()


def burst():
    async def main():
        await asyncio.gather(*(c.ainvoke({"i": i}, config={"callbacks": [handler]}) for i in range(2_000)))

    asyncio.run(main())
    c.batch([{"i": i} for i in range(500)], config={"callbacks": [handler]})


burst()  # warm caches, pools and interned objects first
gc.collect()
tracemalloc.start()
for _ in range(3):
    burst()
gc.collect()
print(tracemalloc.get_traced_memory()[0])
"""


def test_memory_returns_to_baseline_after_runs():
    # In a fresh interpreter: the test session's own machinery (log capture,
    # fixtures of other test modules) must not be measured.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "HOOKCHAIN_CONFIG": ""})
    assert done.returncode == 0, done.stderr
    retained = int(done.stdout.strip().splitlines()[-1])
    # 7,500 finished runs: anything kept per run (even 30 bytes) would exceed this.
    assert retained < 200_000, f"{retained} bytes retained after 7,500 runs"
