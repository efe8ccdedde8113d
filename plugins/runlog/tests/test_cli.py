"""``hookchain logs ...``: every command's output, on a 10,000-run database
(through click's CliRunner) and end to end through ``hookchain run`` (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hookchain_runlog import RunStore
from hookchain_runlog.cli import logs_group

TREES = 5_000  # two runs each: 10,000 runs


def tree(i: int, now: float) -> tuple[list[dict], dict]:
    """Tree ``i``: a chain and its chat model run, started ``TREES - i`` minutes before ``now``;
    models alternate m-a/m-b, every 100th fails, tree 4321 mentions zanzibar."""
    start = now - (TREES - i) * 60
    root, child = f"{i:08d}-root-0000-0000-000000000000", f"{i:08d}-chat-0000-0000-000000000000"
    model, error = ("m-a" if i % 2 else "m-b"), ("ValueError: boom" if i % 100 == 0 else None)
    words = "a trip to zanzibar" if i == 4321 else f"question number {i}"
    runs = [
        {"id": root, "root_id": root, "name": "RunnableSequence", "run_type": "chain", "start_time": start,
         "end_time": start + 0.5, "inputs": json.dumps({"q": words}), "error": error},
        {"id": child, "parent_id": root, "root_id": root, "name": "FakeChat", "run_type": "chat_model",
         "start_time": start + 0.1, "end_time": start + 0.1 + (i % 10) / 10, "model": model, "prompt": f"human: {words}",
         "response": f"answer {i}", "input_tokens": 3, "output_tokens": 2, "total_tokens": 5, "error": error},
    ]
    trace = {"root_id": root, "name": "RunnableSequence", "start_time": start, "end_time": start + 0.5, "model": model,
             "input_tokens": 3, "output_tokens": 2, "total_tokens": 5, "error": error, "preview": words, "runs": 2}
    return runs, trace


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("runlog") / "big.sqlite"
    store = RunStore(path)
    now = time.time()  # when the tests run (not when the module was collected): --since and prune are relative
    assert store.write([tree(i, now) for i in range(TREES)]) == 2 * TREES
    store.close()
    return path


def logs(path: Path, *args: str) -> str:
    result = CliRunner().invoke(logs_group, [*args, "--path", str(path)], env={"COLUMNS": "200"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def fails(path: Path, *args: str) -> str:
    result = CliRunner().invoke(logs_group, [*args, "--path", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code != 0
    return result.output


def test_list(big):
    rows = json.loads(logs(big, "list", "-n", "5", "--json"))
    assert [r["root_id"][:8] for r in rows] == [f"{i:08d}" for i in range(TREES - 1, TREES - 6, -1)]
    text = logs(big, "list", "-n", "3").splitlines()
    assert text[0].split() == ["id", "started", "name", "model", "duration", "tokens", "text"]
    assert len(text) == 4 and text[1].startswith("00004999 ") and "m-a" in text[1] and "500 ms" in text[1]
    assert text[1].rstrip().endswith("question number 4999") and "5 (3+2)" in text[1]
    assert {r["model"] for r in json.loads(logs(big, "list", "-n", "50", "--model", "m-b", "--json"))} == {"m-b"}
    failed = json.loads(logs(big, "list", "-n", "1000", "--errors", "--json"))
    assert len(failed) == TREES // 100 and all(r["error"] == "ValueError: boom" for r in failed)
    assert "✗" in logs(big, "list", "-n", "1", "--errors")
    recent = json.loads(logs(big, "list", "-n", "1000", "--since", "10.5m", "--json"))
    assert [r["root_id"][:8] for r in recent] == [f"{i:08d}" for i in range(TREES - 1, TREES - 11, -1)]
    assert "no runs match" in logs(big, "list", "--model", "nope")
    assert "is neither an age" in fails(big, "list", "--since", "yesterday")


def test_search(big):
    found = json.loads(logs(big, "search", "zanzibar", "--json"))
    assert [r["id"][:8] for r in found] == ["00004321"]
    assert "a trip to zanzibar" in logs(big, "search", "zanzibar")
    assert len(json.loads(logs(big, "search", "question", "-n", "7", "--json"))) == 7
    assert json.loads(logs(big, "search", "answer 4999", "--json"))[0]["id"].startswith("00004999")
    assert "no runs match" in logs(big, "search", "quokka")
    assert "bad search" in fails(big, "search", 'unbalanced "quote')


def test_show(big):
    out = logs(big, "show", "00004321-ro")  # a prefix of the id
    assert "2 run(s)" in out
    lines = out.splitlines()
    assert lines[1].startswith("RunnableSequence chain 00004321")
    assert "FakeChat chat_model 00004321" in out and "model m-a" in out and "tokens 5 (3+2)" in out
    assert "human: a trip to zanzibar" in out and "→ answer 4321" in out
    assert out.index("FakeChat") > out.index("RunnableSequence")
    assert [r["run_type"] for r in json.loads(logs(big, "show", "00004321-chat", "--json"))] == ["chain", "chat_model"]
    assert "error: ValueError: boom" in logs(big, "show", "00000100-root")
    assert "no run with id" in fails(big, "show", "ffff")
    assert "several run ids" in fails(big, "show", "0000432")


def test_stats(big):
    stats = json.loads(logs(big, "stats", "--json"))
    assert (stats["trees"], stats["runs"]) == (TREES, 2 * TREES)
    for model in ("m-a", "m-b"):
        entry = stats["models"][model]
        assert (entry["runs"], entry["errors"], entry["input_tokens"], entry["output_tokens"]) == (2500, 0 if model == "m-a" else 50, 7500, 5000)
    assert (stats["models"]["m-b"]["p50"], stats["models"]["m-b"]["p99"]) == (0.4, 0.8)  # even i: 0.0 .. 0.8 s
    out = logs(big, "stats")
    assert out.startswith(f"{TREES} run tree(s), {2 * TREES} run(s)")
    assert "m-a" in out and "0.900" in out  # m-a: odd i, up to 0.9 s


def test_prune(tmp_path):
    path = tmp_path / "p.sqlite"
    now = time.time()
    RunStore(path).write([tree(i, now) for i in range(TREES - 100, TREES)])  # the 100 newest: 1 to 100 minutes old
    assert logs(path, "prune", "--older-than", "60.5m").strip() == f"deleted 40 run trees older than 60.5m from {path}"
    store = RunStore(path)
    assert store.counts() == (60, 120) and store.integrity() == "ok"
    assert store.search(f"number {TREES - 99}") == []  # the index lost the pruned runs too
    assert "is not an age" in fails(path, "prune", "--older-than", "a while")


def test_path_and_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(logs_group, ["path"])
    assert result.output.strip() == str(tmp_path / "xdg-data" / "hookchain" / "runlog.sqlite")
    (tmp_path / "hookchain.toml").write_text('[handlers.runlog]\npath = "~/runs/x.sqlite"\n')
    for args in (["path", "--config", "hookchain.toml"], ["path"]):  # that file, named or found in the working directory
        assert CliRunner().invoke(logs_group, args).output.strip() == os.path.expanduser("~/runs/x.sqlite")
    result = CliRunner().invoke(logs_group, ["list", "--path", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 1 and "no run log at" in result.output


def test_end_to_end_through_hookchain_run(tmp_path):
    """``hookchain run`` with [handlers.runlog] in hookchain.toml writes the tree
    (flushed at exit); ``hookchain logs`` (registered by the plugin) reads it."""
    (tmp_path / "hookchain.toml").write_text('[handlers.runlog]\npath = "runs.sqlite"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKCHAIN_")}
    env.update(HOOKCHAIN_PLUGINS="echo,runlog", XDG_DATA_HOME=str(tmp_path / "xdg-data"), COLUMNS="200")

    def hookchain(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "hookchain.cli", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert hookchain("run", "hello from the command line", "-m", "echo").strip() == "hello from the command line"
    assert hookchain("logs", "path").strip() == "runs.sqlite"
    rows = json.loads(hookchain("logs", "list", "--json"))
    assert len(rows) == 1 and rows[0]["model"] == "echo" and rows[0]["preview"] == "hello from the command line"
    shown = hookchain("logs", "show", rows[0]["root_id"][:6])
    assert "EchoChatModel chat_model" in shown and "→ hello from the command line" in shown
    assert "hello from the command line" in hookchain("logs", "search", "command line")
