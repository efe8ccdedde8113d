"""hookchain.batch.run_batch (issue 16): rows in every input format, ids,
records, error rows kept, retries, resume of a torn OUTPUT, the rate limit,
concurrency, progress. The command line, kill -9 and Ctrl-C: test_batch_cli.py."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from hookchain.batch import BatchInputError, BatchProgress, read_rows, run_batch
from hookchain.batch.output import OutputLog
from hookchain.batch.ratelimit import bucket_size, parse_rate
from hookchain.language_models import BaseChatModel
from hookchain.messages import AIMessage
from hookchain.outputs import ChatGeneration, ChatResult

QUESTIONS = [{"id": f"q{i}", "topic": "math", "question": f"What is {i} + {i}?"} for i in range(20)]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def by_id(path: Path) -> dict[str, dict[str, Any]]:
    out = records(path)
    ids = [r["id"] for r in out]
    assert len(ids) == len(set(ids)), "a row was written twice"
    return {r["id"]: r for r in out}


def batch(tmp_path: Path, rows: Any = QUESTIONS, **kwargs: Any) -> tuple[BatchProgress, dict[str, dict[str, Any]]]:
    source = rows if isinstance(rows, Path) else write_jsonl(tmp_path / "in.jsonl", rows)
    kwargs = {"template": "Q: {question}", "model": "echo", "id_field": "id", **kwargs}
    out = kwargs.pop("output", tmp_path / "out.jsonl")
    state = run_batch(source, out, **kwargs)
    return state, by_id(out)


# --------------------------------------------------------------------------- #
# records and formats
# --------------------------------------------------------------------------- #

def test_every_row_becomes_one_record_with_answer_usage_latency_and_no_error(tmp_path):
    seen = []
    state, out = batch(tmp_path, progress=lambda p: seen.append((p.done, p.finished)))
    assert sorted(out) == sorted(r["id"] for r in QUESTIONS)
    for row in QUESTIONS:
        record = out[row["id"]]
        assert record["answer"] == f"Q: {row['question']}"
        assert record["error"] is None and record["attempts"] == 1
        assert record["latency"] >= 0 and record["started"] > 0
        assert set(record) == {"id", "answer", "usage", "latency", "started", "attempts", "error"}
    assert state.succeeded and (state.total, state.done, state.errors, state.skipped) == (20, 20, 0, 0)
    assert seen[0] == (0, False) and seen[-1] == (20, True)
    assert [d for d, _ in seen[1:-1]] == list(range(1, 21))  # one report per row, as it finishes


def test_jsonl_csv_and_parquet_inputs_give_the_same_records(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    jsonl = write_jsonl(tmp_path / "rows.jsonl", QUESTIONS)
    with (tmp_path / "rows.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "topic", "question"])
        writer.writeheader()
        writer.writerows(QUESTIONS)
    pq.write_table(pa.Table.from_pylist(QUESTIONS), tmp_path / "rows.parquet")
    answers = {}
    for name in ("rows.jsonl", "rows.csv", "rows.parquet"):
        _, out = batch(tmp_path, tmp_path / name, output=tmp_path / f"{name}.out.jsonl")
        answers[name] = {i: r["answer"] for i, r in out.items()}
    assert answers["rows.jsonl"] == answers["rows.csv"] == answers["rows.parquet"]
    assert len(answers["rows.jsonl"]) == 20
    # without --id-field the ids are content hashes: equal for equal rows, whatever the format
    assert [r.id for r in read_rows(jsonl)] == [r.id for r in read_rows(tmp_path / "rows.parquet")]


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "rows.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(BatchInputError, match=r"rows.parquet: reading Parquet needs pyarrow: pip install 'hookchain\[parquet\]'"):
        read_rows(tmp_path / "rows.parquet")


def test_parquet_output_holds_every_record_of_output_resumed_ones_included(tmp_path):
    import pyarrow.parquet as pq

    rows = [{"id": f"r{i}", "question": f"q{i}"} for i in range(6)]
    batch(tmp_path, rows[:4])  # a first run did 4 rows
    state, out = batch(tmp_path, rows, resume=True, parquet=tmp_path / "out.parquet")
    assert state.succeeded and len(out) == 6
    table = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert {r["id"]: r for r in table} == out  # the JSONL records, nested usage as a struct
    assert sorted(r["answer"] for r in table) == sorted(f"Q: q{i}" for i in range(6))


def test_parquet_output_without_pyarrow_fails_before_any_row(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(BatchInputError, match=r"--parquet .*out.parquet needs pyarrow: pip install 'hookchain\[parquet\]'"):
        batch(tmp_path, [{"id": "a", "question": "x"}], parquet=tmp_path / "out.parquet")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("name, content, message", [
    ("rows.txt", "x", r"unknown input format '.txt'; use one of .jsonl, .ndjson, .csv, .parquet"),
    ("rows.jsonl", '{"a": 1}\n[1, 2]\n', r"rows.jsonl:2: a JSON list, not an object"),
    ("rows.jsonl", '{"a": 1}\n{"a": \n', r"rows.jsonl:2: not valid JSON"),
    ("rows.csv", "a,b\n1,2,3\n", r"rows.csv:2: more values than the header has columns"),
])
def test_bad_input_names_the_file_and_line(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(BatchInputError, match=message):
        read_rows(tmp_path / name)


def test_ids_from_the_id_field_must_exist_and_be_unique(tmp_path):
    path = write_jsonl(tmp_path / "rows.jsonl", [{"id": 1, "q": "a"}, {"q": "b"}])
    with pytest.raises(BatchInputError, match=r"line 2 has no 'id' field \(--id-field\)"):
        read_rows(path, "id")
    path = write_jsonl(tmp_path / "rows.jsonl", [{"id": 1, "q": "a"}, {"id": "1", "q": "b"}])
    with pytest.raises(BatchInputError, match=r"line 2 repeats the id '1' of line 1"):
        read_rows(path, "id")


def test_hash_ids_are_stable_and_number_identical_rows(tmp_path):
    path = write_jsonl(tmp_path / "rows.jsonl", [{"q": "a"}, {"q": "b"}, {"q": "a"}, {"q": "a"}])
    ids = [r.id for r in read_rows(path)]
    assert ids[2] == ids[0] + "-2" and ids[3] == ids[0] + "-3" and len(set(ids)) == 4
    assert ids == [r.id for r in read_rows(path)]
    _, out = batch(tmp_path, path, id_field=None, template="{q}")
    assert sorted(out) == sorted(ids)


# --------------------------------------------------------------------------- #
# failures: error rows kept, retries
# --------------------------------------------------------------------------- #

def test_a_failing_row_is_written_with_its_error_and_the_others_go_on(tmp_path):
    rows = [{"id": "a", "question": "ok"}, {"id": "b", "other": "no question"}, {"id": "c", "question": "fine"}]
    state, out = batch(tmp_path, rows)
    assert out["b"]["answer"] is None and out["b"]["attempts"] == 1  # not retryable: one attempt
    assert out["b"]["error"].startswith("PromptInputError") and "question" in out["b"]["error"]
    assert out["a"]["answer"] == "Q: ok" and out["c"]["answer"] == "Q: fine"
    assert not state.succeeded and state.errors == 1 and state.done == 3


class Unavailable(Exception):
    retryable = True


class Flaky(BaseChatModel):
    """Fails ``failures`` times per prompt with ``error`` before answering."""

    failures: int = 1
    error: Any = Unavailable
    calls: dict = {}

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        text = messages[-1].text
        self.calls[text] = self.calls.get(text, 0) + 1
        if self.calls[text] <= self.failures:
            raise self.error(f"try again ({self.calls[text]})")
        return ChatResult(generations=[ChatGeneration(message=AIMessage(
            content=text, usage_metadata={"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}))])

    @property
    def _llm_type(self) -> str:
        return "flaky"


def test_retryable_errors_are_retried_and_counted(tmp_path):
    model = Flaky(failures=2, calls={})
    state, out = batch(tmp_path, QUESTIONS[:4], model=model, retries=2, backoff=0.01)
    assert all(r["attempts"] == 3 and r["error"] is None and r["usage"]["total_tokens"] == 5 for r in out.values())
    assert state.succeeded and state.tokens == 20


def test_a_row_that_still_fails_after_its_retries_keeps_the_last_error(tmp_path):
    state, out = batch(tmp_path, QUESTIONS[:3], model=Flaky(failures=5, calls={}), retries=1, backoff=0.01)
    assert all(r["attempts"] == 2 and r["error"] == "Unavailable: try again (2)" for r in out.values())
    assert state.errors == 3 and not state.succeeded


def test_errors_that_are_not_retryable_are_not_retried(tmp_path):
    _, out = batch(tmp_path, QUESTIONS[:2], model=Flaky(failures=1, error=ValueError, calls={}), retries=3, backoff=0.01)
    assert all(r["attempts"] == 1 and r["error"] == "ValueError: try again (1)" for r in out.values())


# --------------------------------------------------------------------------- #
# OUTPUT and resume
# --------------------------------------------------------------------------- #

def test_resume_skips_the_rows_in_output_and_redoes_a_torn_last_line(tmp_path):
    out = tmp_path / "out.jsonl"
    first = [json.dumps({"id": f"q{i}", "answer": "earlier", "error": None}) + "\n" for i in range(5)]
    out.write_text("".join(first) + '{"id": "q5", "answ')  # a power cut in the middle of a line
    state, result = batch(tmp_path, resume=True)
    assert sorted(result) == sorted(r["id"] for r in QUESTIONS)
    assert [result[f"q{i}"]["answer"] for i in range(5)] == ["earlier"] * 5  # not redone
    assert result["q5"]["answer"] == "Q: What is 5 + 5?"  # redone
    assert state.skipped == 5 and state.done == 20
    assert out.read_text().startswith("".join(first))


def test_resume_cuts_a_last_line_that_is_not_json_even_with_its_newline(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"id": "q0", "answer": "x"}\n\x00\x00\x00\n')
    log = OutputLog(out, resume=True)
    log.close()
    assert list(log.records) == ["q0"] and log.cut == 4
    assert out.read_bytes() == b'{"id": "q0", "answer": "x"}\n'


def test_a_bad_line_before_the_last_is_an_error_not_a_crash_to_repair(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "q0"}\nnot json\n{"id": "q1"}\n')
    with pytest.raises(BatchInputError, match=r"out.jsonl:2: not a batch record"):
        OutputLog(out, resume=True)


def test_an_output_with_rows_needs_resume(tmp_path):
    (tmp_path / "out.jsonl").write_text('{"id": "q0"}\n')
    with pytest.raises(BatchInputError, match=r"OUTPUT already has rows; pass --resume"):
        batch(tmp_path)


def test_resume_counts_earlier_error_rows_as_failures(tmp_path):
    (tmp_path / "out.jsonl").write_text(json.dumps({"id": "q0", "answer": None, "error": "X: boom"}) + "\n")
    state, out = batch(tmp_path, resume=True)
    assert out["q0"]["error"] == "X: boom" and len(out) == 20
    assert state.errors == 1 and not state.succeeded


# --------------------------------------------------------------------------- #
# concurrency and rate
# --------------------------------------------------------------------------- #

def test_rows_run_concurrently_with_the_echo_delay(tmp_path):
    # 8 workers, 8 rows sleeping 1 s each (asyncio.sleep): every row starts
    # before the first one ends.
    _, out = batch(tmp_path, QUESTIONS[:8], model_options={"delay": 1.0}, concurrency=8)
    first_end = min(r["started"] + r["latency"] for r in out.values())
    assert max(r["started"] for r in out.values()) < first_end
    assert all(r["latency"] >= 1.0 for r in out.values())


def test_concurrency_bounds_the_calls_in_flight(tmp_path):
    _, out = batch(tmp_path, QUESTIONS[:9], model_options={"delay": 0.3}, concurrency=3)
    spans = [(r["started"], r["started"] + r["latency"]) for r in out.values()]
    for start, _ in spans:  # at any row's start, at most 3 rows are running
        assert sum(1 for s, e in spans if s <= start < e) <= 3


@pytest.mark.parametrize("text, per_second", [("60/min", 1.0), ("5/s", 5.0), ("7200/hour", 2.0), ("2.5/sec", 2.5),
                                              (4, 4.0), ("86400 / days", 1.0)])
def test_parse_rate(text, per_second):
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["60", "60/fortnight", "-1/s", "0/s", "fast"])
def test_bad_rates_are_clear_errors(text):
    with pytest.raises(BatchInputError, match=r"--rate .*(COUNT/UNIT|more than 0)"):
        parse_rate(text)


def _paced_rate(starts: list[float]) -> float:
    """Rows per second of evenly paced starts: the inverse of the least-squares
    slope of start time against row number. A stall of the loaded machine
    delays a few starts and the bucket's saved tokens let the next ones catch
    up: the slope barely moves, where the span first-to-last start would take
    the whole lateness of the last row."""
    n = len(starts)
    mean_i, mean_t = (n - 1) / 2, sum(starts) / n
    slope = sum((i - mean_i) * (t - mean_t) for i, t in enumerate(starts)) / sum((i - mean_i) ** 2 for i in range(n))
    return 1 / slope


def test_the_rate_limit_holds_and_is_reached(tmp_path):
    """25 rows/s over 125 rows: the first second's bucket (25 rows), then 100
    rows paced by the bucket. Start times come from the records (when each
    call started, after its token). Never faster than the bucket allows, a
    deterministic bound, in every attempt; and the paced rate within 10 % of
    the limit (see ``_paced_rate``). A machine so busy that the loop misses the
    pace gets two more attempts; a limiter that paces wrongly fails all three."""
    rate, n = 25.0, 125
    rows = [{"id": f"r{i:03d}", "question": str(i)} for i in range(n)]
    burst = bucket_size(rate)
    slack = 0.02  # seconds: the clock (time.time) against the loop's monotonic clock
    measured = []
    for attempt in range(3):
        (tmp_path / str(attempt)).mkdir()
        _, out = batch(tmp_path / str(attempt), rows, rate=rate, concurrency=16)
        starts = sorted(r["started"] for r in out.values())
        for i in range(n):
            for j in range(i + 1, n):
                assert j - i + 1 <= burst + rate * (starts[j] - starts[i] + slack), (i, j)
        measured.append(_paced_rate(starts[int(burst):]))
        assert measured[-1] <= rate * 1.1, measured
        if measured[-1] >= rate * 0.9:
            return
    pytest.fail(f"{', '.join(f'{m:.1f}' for m in measured)} rows/s in 3 attempts, for a limit of {rate}/s")
