"""``hookchain batch``: one prompt over every row of a dataset, with progress,
resume and nothing lost (issue 16).

``run_batch`` reads the rows (``rows``), skips those OUTPUT already holds
(``output``), runs the rest on an executor (``executors``: ``local`` asyncio,
or a plugin's such as ``ray``) with the engine's concurrency, rate-limit and
retry rules (``engine``, ``ratelimit``), and appends one JSONL record per
finished row to OUTPUT as it finishes. The command line (``hookchain batch``)
is ``hookchain.batch.cli``; both report progress the same way (``progress``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

from hookchain.batch.engine import BatchSpec
from hookchain.batch.executors import get_executor
from hookchain.batch.output import OutputLog, write_parquet
from hookchain.batch.ratelimit import parse_rate
from hookchain.batch.rows import BatchInputError, Row, read_rows, require_pyarrow

__all__ = ["run_batch", "BatchProgress", "BatchSpec", "BatchInputError", "Row", "read_rows"]


@dataclass
class BatchProgress:
    """Where a batch stands; handed to ``run_batch``'s ``progress`` callback
    before the first row, after every row, and at the end (``finished``).

    Attributes:
        total: rows in INPUT.
        skipped: rows already in OUTPUT when the run began (``--resume``).
        done: rows in OUTPUT now (``skipped`` included).
        errors: rows in OUTPUT with an error (earlier runs' included).
        tokens: total tokens of the rows done in this run (0 when the model
            reports no usage).
        elapsed: seconds since this run began.
        finished: the run is over (every row done, or interrupted).
    """

    total: int
    skipped: int = 0
    done: int = 0
    errors: int = 0
    tokens: int = 0
    elapsed: float = 0.0
    finished: bool = False

    @property
    def rows_per_second(self) -> float:
        """Rows finished by this run per second."""
        return (self.done - self.skipped) / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> Optional[float]:
        """Seconds left at this run's pace, or ``None`` before the first row."""
        speed = self.rows_per_second
        return (self.total - self.done) / speed if speed > 0 else None

    @property
    def succeeded(self) -> bool:
        """Every row of INPUT is in OUTPUT, without an error."""
        return self.done == self.total and self.errors == 0


def run_batch(
    input: Union[str, Path], output: Union[str, Path], *, template: str, system: Optional[str] = None,
    model: Any = None, model_options: Optional[dict[str, Any]] = None,
    handlers: Optional[dict[str, dict[str, Any]]] = None, config: Optional[str] = None,
    concurrency: int = 8, rate: Union[str, float, None] = None, retries: int = 2, backoff: float = 0.5,
    id_field: Optional[str] = None,
    resume: bool = False, executor: str = "local", executor_options: Optional[dict[str, Any]] = None,
    progress: Optional[Callable[[BatchProgress], None]] = None, fsync_interval: float = 1.0,
    parquet: Union[str, Path, None] = None,
) -> BatchProgress:
    """Run ``template`` (with ``system``) through ``model`` for every row of
    ``input`` and append one record per row to ``output`` (JSONL, completion
    order; the record's fields: ``hookchain.batch.engine``).

    Args:
        input: a ``.jsonl``, ``.csv`` or ``.parquet`` file; its rows' fields fill
            ``template``'s ``{variables}``.
        output: the JSONL file to write. It must be empty or absent, unless
            ``resume``: then the rows already in it are skipped and the others
            run (a torn last line is cut off and its row redone).
        model, model_options, handlers, config: as ``hookchain run``'s ``-m``,
            ``-o``, ``--handler``, ``--config`` (``model`` may also be a model
            object, local executor only).
        concurrency: calls in flight at once (>= 1; per Ray task with ``ray``).
        rate: at most this many calls per second (a number) or ``"60/min"``-style
            text; ``None``: no limit (``hookchain.batch.ratelimit``).
        retries: further attempts for retryable errors (>= 0).
        backoff: seconds before the first retry (then doubling, with jitter, up to 30).
        id_field: the field holding each row's id, else a hash of the row.
        executor, executor_options: ``"local"``, or an executor a plugin
            registers (``"ray"``, options such as ``address``).
        progress: called with a ``BatchProgress`` on the calling thread.
        fsync_interval: seconds between ``fsync`` calls of OUTPUT (``output``).
        parquet: also write every record of OUTPUT (earlier ones of a resume
            included) to this Parquet file once the batch has finished
            (``hookchain.batch.output.write_parquet``; needs pyarrow). Not
            written when the batch is interrupted.

    Returns the final ``BatchProgress`` (``.succeeded``: every row without error).

    Raises:
        BatchInputError: a bad INPUT, OUTPUT, rate or id field; ``parquet``
            without pyarrow (before any row runs).
        UnknownNameError, OptionError: an unknown model, handler or executor, a
            bad option (before any row runs).
        KeyboardInterrupt: Ctrl-C; the rows finished so far are in OUTPUT.
    """
    if concurrency < 1:
        raise BatchInputError(f"--concurrency {concurrency}: must be at least 1")
    if retries < 0:
        raise BatchInputError(f"--retries {retries}: must be 0 or more")
    spec = BatchSpec(template=template, system=system, model=model, model_options=dict(model_options or {}),
                     handlers=dict(handlers or {}), config=config, concurrency=concurrency,
                     rate=parse_rate(rate), retries=retries, backoff=backoff)
    if parquet is not None:
        require_pyarrow(f"--parquet {parquet}")
    rows = read_rows(input, id_field)
    runner = get_executor(executor, **(executor_options or {}))
    runner.prepare(spec)
    start = time.perf_counter()
    with OutputLog(output, resume=resume, fsync_interval=fsync_interval) as log:
        ids = {row.id for row in rows}
        earlier = [r for i, r in log.records.items() if i in ids]
        state = BatchProgress(total=len(rows), skipped=len(earlier), done=len(earlier),
                              errors=sum(1 for r in earlier if r.get("error")))
        todo = [row for row in rows if row.id not in log.records]

        def report(finished: bool = False) -> None:
            state.elapsed, state.finished = time.perf_counter() - start, finished
            if progress is not None:
                progress(state)

        def on_record(record: dict[str, Any]) -> None:
            log.append(record)
            state.done += 1
            state.errors += bool(record.get("error"))
            state.tokens += int((record.get("usage") or {}).get("total_tokens") or 0)
            report()

        report()
        try:
            runner.run(spec, todo, on_record)
        finally:
            report(finished=True)
    if parquet is not None:
        write_parquet(output, parquet)
    return state
