"""Several processes, each with several threads, writing one run log file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from hookchain_runlog import RunStore

WORKER = textwrap.dedent("""
    import sys
    from hookchain.callbacks import enable_handler
    from hookchain.prompts import ChatPromptTemplate
    from hookchain.runnables import RunnableLambda
    from hookchain.testing.models import ConformanceChatModel
    from hookchain_runlog import RunLogHandler

    enable_handler(RunLogHandler(path=sys.argv[1]))
    chain = (ChatPromptTemplate.from_messages([("human", "worker {w} item {i}")]) | ConformanceChatModel()
             | RunnableLambda(lambda m: m.content))
    w = sys.argv[2]
    for i in range(20):
        chain.invoke({"w": w, "i": i})
    for b in range(5):  # batch: the runs of 4 trees at once, on threads
        chain.batch([{"w": w, "i": f"b{b}x{k}"} for k in range(4)])
    # no flush: the handler's exit hook writes what is still queued
""")
WORKERS, TREES_PER_WORKER, RUNS_PER_TREE = 4, 40, 4


def test_processes_writing_one_file_lose_nothing(tmp_path):
    path = tmp_path / "shared.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKCHAIN_")}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), str(w)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(WORKERS)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "failed" not in err, err
    store = RunStore(path)
    try:
        assert store.integrity() == "ok"
        assert store.counts() == (WORKERS * TREES_PER_WORKER, WORKERS * TREES_PER_WORKER * RUNS_PER_TREE)
        conn = store.connect()
        # every tree whole: four runs under one root, each model run with its prompt
        assert conn.execute("SELECT count(*) FROM (SELECT root_id FROM runs GROUP BY root_id HAVING count(*) = 4)").fetchone()[0] == 160
        prompts = {r[0] for r in conn.execute("SELECT prompt FROM runs WHERE run_type = 'chat_model'")}
        assert prompts == {f"human: worker {w} item {i}" for w in range(WORKERS)
                           for i in [*range(20), *(f"b{b}x{k}" for b in range(5) for k in range(4))]}
        assert conn.execute("SELECT count(*) FROM traces WHERE runs = 4").fetchone()[0] == 160
        assert len(store.search("worker 3", limit=1000)) == TREES_PER_WORKER
    finally:
        store.close()
