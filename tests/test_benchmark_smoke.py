"""Smoke test of benchmarks/bench.py: the quick run completes and prints a
table row for every workload. No timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"

ROWS = (
    "invoke", "stream", "astream_events", "astream_events_sync", "batch", "abatch",
    "import", "plugin_discovery", "cold_start_cli", "cold_start_lib", "stream_cli time", "stream_cli peak RSS",
    "memory", "memory_rss",
    "chain_length=2", "chain_length=8", "chain_length=32",
    "handlers=0", "handlers=1", "handlers=8", "handlers=32",
)


def test_bench_quick_prints_every_workload() -> None:
    pytest.importorskip("langchain_core", reason="the benchmark compares against langchain-core")
    out = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True, text=True, timeout=900, cwd=BENCH.parent.parent,  # a hang guard only
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ")]
    labels = [row[2:].split(" | ", 1)[0] for row in rows]
    for key in ROWS:
        matching = [label for label in labels if label == key or label.startswith(key + " (")]
        assert matching, f"no table row for workload {key!r} in:\n{out.stdout}"
    # every data row has a figure for hookchain
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if cells[0] in ("workload", "---"):
            continue
        assert cells[2] != "n/a", row
