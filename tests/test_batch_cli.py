"""``hookchain batch`` as a subprocess (issue 16): exit status, a clean stdout,
progress on a pseudo-terminal and on a pipe, resume after ``kill -9`` at
random points and after Ctrl-C (no row lost, none written twice), and a lazy
import of the batch package."""

from __future__ import annotations

import json
import os
import pty
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROWS = 200


def env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("HOOKCHAIN_") or k in (
        "HOOKCHAIN_DISABLE_PLUGINS", "HOOKCHAIN_CACHE_DIR")}
    return {**keep, "COLUMNS": "120"}


@pytest.fixture
def dataset(tmp_path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": f"r{i:04d}", "question": f"question {i}"}) + "\n" for i in range(ROWS)))
    (tmp_path / "quiet.toml").write_text('model = "echo"\n')
    return path


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hookchain.cli", "batch", *args]


def run(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=timeout)


def basic(*extra: str) -> list[str]:
    return ["in.jsonl", "out.jsonl", "--template", "Q: {question}", "--id-field", "id", "--config", "quiet.toml", *extra]


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def assert_complete(path: Path) -> None:
    """Every input row exactly once in OUTPUT, each with its answer."""
    records = [json.loads(line) for line in lines(path)]
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "a row was written twice"
    assert sorted(ids) == [f"r{i:04d}" for i in range(ROWS)], "a row is missing"
    assert all(r["answer"] == f"Q: question {int(r['id'][1:])}" and r["error"] is None for r in records)


def wait_for_lines(path: Path, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120  # a hang guard only
    while len(lines(path)) < count:
        assert proc.poll() is None, f"the batch ended before {count} rows: {proc.stderr.read() if proc.stderr else ''}"
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_stdout_stays_clean_and_the_summary_goes_to_stderr(tmp_path, dataset):
    proc = run(tmp_path, *basic())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert f"batch: {ROWS} rows in" in proc.stderr and f"{ROWS}/{ROWS} in out.jsonl, 0 with errors" in proc.stderr
    assert_complete(tmp_path / "out.jsonl")


def test_parquet_option_writes_the_records_at_the_end(tmp_path, dataset):
    import pyarrow.parquet as pq

    proc = run(tmp_path, *basic("--parquet", "out.parquet"))
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert sorted(r["id"] for r in table) == sorted(json.loads(line)["id"] for line in lines(tmp_path / "out.jsonl"))


def test_exit_status_is_1_when_a_row_failed_and_the_row_is_kept(tmp_path, dataset):
    proc = run(tmp_path, *basic()[:-4], "--template", "{question} {missing}", "--id-field", "id", "--config", "quiet.toml")
    assert proc.returncode == 1
    records = [json.loads(line) for line in lines(tmp_path / "out.jsonl")]
    assert len(records) == ROWS and all("missing" in r["error"] for r in records)
    assert f"{ROWS} with errors" in proc.stderr


def test_template_file_and_system(tmp_path, dataset):
    (tmp_path / "prompt.txt").write_text("Answer: {question}\n")
    proc = run(tmp_path, "in.jsonl", "out.jsonl", "--template-file", "prompt.txt", "--system", "Be brief.",
               "--config", "quiet.toml", "-o", "n=9")
    assert proc.returncode == 0, proc.stderr
    assert {json.loads(line)["answer"] for line in lines(tmp_path / "out.jsonl")} == {"Answer: q"}


@pytest.mark.parametrize("args, message", [
    (["--template", "x", "--rate", "fast"], "Error: --rate 'fast': write it as COUNT/UNIT"),
    (["--template", "x", "--executor", "nowhere"], "Error: unknown executor 'nowhere'; known executors: local"),
    (["--template", "x", "-m", "nosuch"], "Error: unknown model 'nosuch'"),
    ([], "Error: give the prompt with either --template TEXT or --template-file FILE"),
    (["--template", "x", "--ray-address", "127.0.0.1:1"], "Error: the local executor takes no options (got 'address')"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, dataset, args, message):
    proc = run(tmp_path, "in.jsonl", "out.jsonl", "--config", "quiet.toml", *args)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(message), proc.stderr
    assert not (tmp_path / "out.jsonl").exists() or lines(tmp_path / "out.jsonl") == []


def test_plain_progress_lines_when_stderr_is_not_a_terminal(tmp_path, dataset):
    # 60 rows, 6 at a time, 0.25 s each: at least 2.5 s, so at least one line (every 2 s).
    proc = run(tmp_path, *basic("-o", "delay=0.25", "--concurrency", "6"))
    assert proc.returncode == 0, proc.stderr
    status = [line for line in proc.stderr.splitlines() if "rows/s" in line and "ETA" in line]
    assert status and all(line.startswith("batch: ") and f"/{ROWS} rows, " in line for line in status)
    assert "\x1b[" not in proc.stderr  # no terminal codes in a pipe


def test_a_progress_bar_on_a_terminal(tmp_path, dataset):
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the pseudo-terminal
        os.chdir(tmp_path)
        os.execve(sys.executable, command(*basic("-o", "delay=0.01", "--concurrency", "20")), env())
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert f"{ROWS}/{ROWS}" in screen and "rows/s" in screen and "tokens" in screen and "errors" in screen
    assert "━" in screen  # rich's bar
    assert f"batch: {ROWS} rows in" in screen  # the summary after it
    assert_complete(tmp_path / "out.jsonl")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_resume_after_kill_9_at_a_random_point_loses_and_repeats_no_row(tmp_path, dataset, seed):
    """SIGKILL once a random number of rows is in OUTPUT (rows finishing 16 at
    a time, so mid-flight), sometimes twice; a torn last line is added as a
    power cut would leave it. --resume then completes OUTPUT exactly."""
    rng = random.Random(seed)
    out = tmp_path / "out.jsonl"
    for _ in range(1 + seed % 2):
        done = len(lines(out))
        proc = subprocess.Popen(command(*basic("-o", "delay=0.02", "--concurrency", "16", "--resume")),
                                cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_for_lines(out, rng.randint(done + 1, done + (ROWS - done) // 2), proc)
        proc.kill()
        proc.wait(timeout=60)
        proc.stderr.close()
    if seed % 2:
        with out.open("a") as f:
            f.write('{"id": "r0199", "answer": "Q: que')
    kept = [line for line in lines(out) if line.endswith("}")]
    proc = run(tmp_path, *basic("--resume"))
    assert proc.returncode == 0, proc.stderr
    assert f"(+{len(kept)} already there)" in proc.stderr
    assert lines(out)[:len(kept)] == kept  # the rows written before the kills are untouched
    assert_complete(out)


def test_ctrl_c_keeps_every_finished_row_and_resume_completes(tmp_path, dataset):
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(command(*basic("-o", "delay=0.05", "--concurrency", "4")), cwd=tmp_path, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_lines(out, 20, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stdout == "" and "Traceback" not in stderr
    assert stderr.rstrip().endswith("interrupted")
    assert "rows not done: run again with --resume to finish" in stderr
    written = lines(out)
    assert 20 <= len(written) < ROWS and all(json.loads(line)["error"] is None for line in written)
    proc = run(tmp_path, *basic("--resume"))
    assert proc.returncode == 0, proc.stderr
    assert_complete(out)


def test_hookchain_help_and_version_do_not_import_the_batch_package(tmp_path):
    code = ("import sys\nfrom hookchain.cli import main\n"
            "for args in (['--help'], ['--version']):\n"
            "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('hookchain.batch') or m in ('rich', 'tenacity', 'aiolimiter')))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "batch " in proc.stdout  # listed by --help
    assert proc.stdout.rstrip().endswith("[]")
