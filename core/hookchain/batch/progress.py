"""How ``hookchain batch`` shows progress, on stderr (stdout stays clean).

On a terminal: a ``rich`` progress bar (rows done/total, rows/s, tokens,
errors, ETA). Otherwise (a pipe, a file, CI): a plain line every
``interval`` seconds, ``batch: 120/500 rows, 40.1 rows/s, 0 tokens, 2 errors,
ETA 9 s``. Both end with the summary line (``summary``).
"""

from __future__ import annotations

import sys
import time
from typing import Any, Optional, TextIO

from hookchain.batch import BatchProgress

__all__ = ["PlainProgress", "RichProgress", "make_reporter", "summary"]


def _eta(progress: BatchProgress) -> str:
    eta = progress.eta
    return "-" if eta is None else f"{eta:.0f} s"


def status(progress: BatchProgress) -> str:
    return (f"{progress.done}/{progress.total} rows, {progress.rows_per_second:.1f} rows/s, "
            f"{progress.tokens} tokens, {progress.errors} errors, ETA {_eta(progress)}")


def summary(progress: BatchProgress, output: str) -> str:
    """The last line: what this run did and what OUTPUT holds."""
    new = progress.done - progress.skipped
    earlier = f" (+{progress.skipped} already there)" if progress.skipped else ""
    left = progress.total - progress.done
    tail = "" if not left else f"; {left} rows not done: run again with --resume to finish"
    return (f"batch: {new} rows in {progress.elapsed:.1f} s ({progress.rows_per_second:.1f} rows/s){earlier}, "
            f"{progress.done}/{progress.total} in {output}, {progress.errors} with errors, "
            f"{progress.tokens} tokens{tail}")


class PlainProgress:
    """One status line on ``stream`` at most every ``interval`` seconds."""

    def __init__(self, stream: TextIO, interval: float = 2.0) -> None:
        self.stream, self.interval = stream, interval
        self._last = time.monotonic()

    def __call__(self, progress: BatchProgress) -> None:
        now = time.monotonic()
        if progress.finished or now - self._last < self.interval:
            return
        self._last = now
        self.stream.write(f"batch: {status(progress)}\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class RichProgress:
    """A ``rich`` progress bar on ``stream`` (a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("batch"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
            TextColumn("{task.fields[speed]:.1f} rows/s"), TextColumn("{task.fields[tokens]} tokens"),
            TextColumn("{task.fields[errors]} errors"), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(file=stream), transient=False, refresh_per_second=8,
        )
        self._task: Optional[Any] = None

    def __call__(self, progress: BatchProgress) -> None:
        fields = {"speed": progress.rows_per_second, "tokens": progress.tokens, "errors": progress.errors}
        if self._task is None:
            self._bar.start()
            self._task = self._bar.add_task("batch", total=progress.total, completed=progress.done, **fields)
        self._bar.update(self._task, completed=progress.done, **fields)

    def close(self) -> None:
        if self._task is not None:
            self._bar.stop()


def make_reporter(stream: Optional[TextIO] = None, interval: float = 2.0) -> Any:
    """``RichProgress`` when ``stream`` (default: stderr) is a terminal, else ``PlainProgress``."""
    stream = stream or sys.stderr
    return RichProgress(stream) if stream.isatty() else PlainProgress(stream, interval)
