"""A long streamed answer does not keep its chunks: `hookchain run` streaming
200,000 one-character chunks of the echo model (with the default config's
stdout handler attached) peaks at a small multiple of the answer's size
(issue 14: at most 20x; keeping every chunk object until the end costs
several hundred times). Memory is measured with tracemalloc, never time."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CHARS = 200_000

SCRIPT = textwrap.dedent("""
    import io, os, sys, tracemalloc
    from hookchain.cli import main

    def run(chars):
        sys.stdin = io.TextIOWrapper(io.BytesIO(b"x" * chars))
        try:
            main(["run", "-", "-m", "echo", "-o", f"n={chars}"], standalone_mode=False)
        except SystemExit:
            pass

    report = sys.stdout
    sys.stdout = sys.stderr = open(os.devnull, "w")
    run(1000)  # imports, plugin index, caches: not part of the answer's cost
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    run(int(sys.argv[1]))
    report.write(str(tracemalloc.get_traced_memory()[1] - before))
""")


def test_streaming_a_long_answer_through_the_cli_keeps_memory_bounded(tmp_path):
    env = {**os.environ, "HOOKCHAIN_CONFIG": "", "HOOKCHAIN_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(CHARS)], env=env, capture_output=True, text=True,
                          timeout=900, check=True)
    peak = int(done.stdout)
    assert peak <= 20 * CHARS, f"peak traced memory {peak:,} B for a {CHARS:,}-character answer"
