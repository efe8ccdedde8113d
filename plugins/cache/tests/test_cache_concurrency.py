"""One cache file shared by several processes (and threads in each) writing and
reading at once stays intact: every entry readable, integrity_check ok."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

import hookchain
from hookchain.callbacks import enable_handler
from hookchain_cache.store import decode

from .conftest import CountingEcho

WORKERS = 6
SHARED = 40
OWN = 40

WORKER = textwrap.dedent(
    """
    import asyncio, json, pathlib, sys, time
    import hookchain
    from hookchain.callbacks import enable_handler

    path, me, shared, own, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    cache = hookchain.get_handler("cache", path=path)
    enable_handler(cache)
    model = hookchain.get_model("echo")
    # a start barrier, so that the workers write at the same time
    here = pathlib.Path(path).parent
    (here / f"ready-{me}").touch()
    give_up = time.monotonic() + 120
    while len(list(here.glob("ready-*"))) < workers and time.monotonic() < give_up:
        time.sleep(0.005)
    prompts = [f"shared prompt {j}" for j in range(shared)] + [f"worker {me} prompt {j}" for j in range(own)]
    if me % 2:
        prompts.reverse()
    # threads within the process: batch over a pool, then streams, then async
    answers = [m.content for m in model.batch(prompts, config={"max_concurrency": 4})]
    assert answers == prompts, answers
    streamed = ["".join(c.content for c in model.stream(p)) for p in prompts[:5]]
    assert streamed == prompts[:5]
    assert [m.content for m in asyncio.run(model.abatch(prompts[-5:]))] == prompts[-5:]
    first_misses = cache.misses
    # everything this worker asked for is now stored (by it or by another worker)
    again = [m.content for m in model.batch(prompts, config={"max_concurrency": 4})]
    assert again == prompts
    print(json.dumps({"first_misses": first_misses, "second_misses": cache.misses - first_misses,
                      "errors": cache.errors, "writes": cache.writes}))
    """
)


def test_processes_share_one_file(tmp_path):
    path = tmp_path / "shared.sqlite"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKCHAIN_")}
    env["HOOKCHAIN_PLUGINS"] = "echo,cache"  # only what the workers use: quicker start-up
    procs = [
        subprocess.Popen([sys.executable, str(script), str(path), str(i), str(SHARED), str(OWN), str(WORKERS)],
                         cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(WORKERS)
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "Error in" not in err and "hookchain-cache" not in err, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["errors"] == 0 and r["second_misses"] == 0 for r in reports), reports
    assert sum(r["writes"] for r in reports) >= SHARED + WORKERS * OWN

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        entries = conn.execute("SELECT kind, value FROM entries").fetchall()
    assert len(entries) == SHARED + WORKERS * OWN
    answers = set()
    for kind, value in entries:
        answer = decode(kind, value)
        answers.add(answer.generations[0].message.content if kind == "result" else "".join(c.message.content for c in answer))
    assert {f"shared prompt {j}" for j in range(SHARED)} <= answers
    assert len(answers) == SHARED + WORKERS * OWN


def _child(handler, queue):
    enable_handler(handler)
    CountingEcho.seen = []
    model = CountingEcho(n=20)
    answers = [model.invoke("before fork").content, model.invoke("after fork").content]
    queue.put((answers, len(CountingEcho.seen), handler.errors))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_opens_its_own_connection(tmp_path, model):
    handler = hookchain.get_handler("cache", path=str(tmp_path / "fork.sqlite"))
    enable_handler(handler)
    model.invoke("before fork")  # the parent's connection is open now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(handler, queue))
    child.start()
    answers, model_calls, errors = queue.get(timeout=120)
    child.join(timeout=120)
    assert child.exitcode == 0
    assert answers == ["before fork", "after fork"] and model_calls == 1 and errors == 0
    assert model.invoke("after fork").content == "after fork"  # stored by the child
    assert len(CountingEcho.seen) == 1
    with sqlite3.connect(handler.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
