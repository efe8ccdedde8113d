"""``hookchain batch --executor ray`` on a local two-node Ray cluster
(conftest.py): the same OUTPUT as the local executor, row for row, and no row
lost or repeated when a worker is killed in the middle of a job."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest


def write_rows(path: Path, count: int) -> None:
    path.write_text("".join(json.dumps({"id": f"r{i:05d}", "question": f"question {i}"}) + "\n" for i in range(count)))


def batch(cluster, cwd: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "hookchain.cli", "batch", "in.jsonl", *args, "--template", "Q: {question}",
            "--id-field", "id", "--config", "quiet.toml"]


def stable(path: Path) -> dict[str, tuple]:
    """Each row's record without its timings, by id; asserts no id twice."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    out = {r["id"]: (r["answer"], r["usage"], r["error"], r["attempts"]) for r in records}
    assert len(out) == len(records), "a row was written twice"
    return out


@pytest.fixture
def work(tmp_path) -> Path:
    (tmp_path / "quiet.toml").write_text('model = "echo"\n')
    return tmp_path


def test_a_2000_row_job_on_ray_equals_the_local_executor_row_for_row(ray_cluster, work):
    write_rows(work / "in.jsonl", 2000)
    local = subprocess.run(batch(ray_cluster, work, "local.jsonl"), cwd=work, env=ray_cluster.env,
                           capture_output=True, text=True, timeout=300)
    assert local.returncode == 0, local.stderr
    ray = subprocess.run(batch(ray_cluster, work, "ray.jsonl", "--executor", "ray", "--ray-address", ray_cluster.address),
                         cwd=work, env=ray_cluster.env, capture_output=True, text=True, timeout=600)
    assert ray.returncode == 0, ray.stderr
    assert ray.stdout == ""
    expected = stable(work / "local.jsonl")
    assert len(expected) == 2000
    assert stable(work / "ray.jsonl") == expected
    assert "2000/2000 in ray.jsonl, 0 with errors" in ray.stderr


def test_killing_a_worker_mid_job_loses_no_row(ray_cluster, work):
    rows = 300
    write_rows(work / "in.jsonl", rows)
    out = work / "out.jsonl"
    proc = subprocess.Popen(batch(ray_cluster, work, "out.jsonl", "--executor", "ray", "--ray-address", ray_cluster.address,
                                  "-o", "delay=0.1", "--concurrency", "4"),
                            cwd=work, env=ray_cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = []
    deadline = time.monotonic() + 300  # hang guard
    while not killed:
        assert proc.poll() is None, "the job ended before a worker could be killed: " + proc.stderr.read()
        assert time.monotonic() < deadline
        if out.exists() and out.read_text().count("\n") >= 8:  # the job is under way: kill one busy worker
            for worker in ray_cluster.workers_running("run_chunk")[:1]:
                worker.kill()
                killed.append(worker.pid)
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    records = stable(out)
    assert sorted(records) == [f"r{i:05d}" for i in range(rows)]
    assert all(answer.startswith("Q: question ") and error is None for answer, _, error, _ in records.values())
