"""``RayExecutor``: a batch's rows as Ray tasks, OUTPUT written by the driver.

The driver cuts the rows to do into chunks (``chunk_size`` rows) and keeps
``tasks`` of them in flight (default: the cluster's CPUs). Each task runs in a
Ray worker process: it loads hookchain and the plugins by name (the model, the
handlers of the config, which therefore run on the workers), and runs its
chunk with the local engine's rules (``hookchain.batch.engine``:
``spec.concurrency`` calls in flight, retries with backoff), the rate limit
shared out (each of the ``tasks`` gets ``rate / tasks``). It returns its
chunk's records; the driver appends them to OUTPUT as each task ends, so the
resume guarantees are the local executor's: a record is in OUTPUT once, or not
at all and ``--resume`` redoes its row.

A worker that dies mid-task (killed, its node lost) loses nothing: Ray runs
the task again (``max_retries``) and only the finished attempt's records
reach the driver.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Optional

from hookchain.batch.engine import BatchSpec, build_chain, process_rows
from hookchain.batch.rows import Row
from hookchain.errors import HookchainError

__all__ = ["RayExecutor", "run_chunk"]

#: How often Ray runs a task again after its worker died.
MAX_RETRIES = 5

_chains: dict[str, Any] = {}  # per worker process: the chain of each spec, built once


def run_chunk(spec: BatchSpec, rows: list[Row], env: dict[str, str]) -> list[dict[str, Any]]:
    """In a Ray worker: the records of ``rows`` (completion order), with the
    driver's ``HOOKCHAIN_*`` environment ``env``."""
    import asyncio

    os.environ.update(env)
    key = repr(spec)
    if key not in _chains:
        _chains[key] = build_chain(spec)
    records: list[dict[str, Any]] = []
    asyncio.run(process_rows(_chains[key], spec, rows, records.append))
    return records


def _config_path(spec: BatchSpec) -> Optional[str]:
    """The config file the driver would use, as an absolute path (workers run
    elsewhere), or ``None`` (the embedded default)."""
    from hookchain import config as cfg

    if spec.config:
        return str(Path(spec.config).resolve())
    found = cfg.find()
    return str(Path(found.source.partition(" [")[0]).resolve()) if found is not None else None


class RayExecutor:
    """Runs a batch on a Ray cluster.

    Args:
        address: the cluster (``ray://host:port``, ``host:port`` or ``auto``);
            ``None``: start a local one for this batch (stopped at the end).
        tasks: chunks in flight at once (default: the cluster's CPUs, >= 1).
        chunk_size: rows per task (default: ``2 * concurrency``, and at most
            the rows shared evenly over ``tasks``).
        num_cpus: CPUs of a local cluster started here (default: all).

    Raises ``HookchainError`` for a model given as an object (workers build it
    by name) or a cluster that cannot be reached.
    """

    def __init__(self, address: Optional[str] = None, tasks: Any = None, chunk_size: Any = None,
                 num_cpus: Any = None) -> None:
        self.address = address or None
        self.tasks = int(tasks) if tasks else None
        self.chunk_size = int(chunk_size) if chunk_size else None
        self.num_cpus = int(num_cpus) if num_cpus else None

    def prepare(self, spec: BatchSpec) -> None:
        if spec.model is not None and not isinstance(spec.model, str):
            raise HookchainError("--executor ray builds the model on each worker by name: give the model as a "
                                 f"name (-m NAME), not a {type(spec.model).__name__} object")
        build_chain(spec)  # an unknown model or handler, a bad option: an error here, before any row

    def run(self, spec: BatchSpec, rows: list[Row], on_record: Callable[[dict[str, Any]], None]) -> None:
        if not rows:
            return
        import ray

        started_here = self._connect(ray)
        try:
            self._run(ray, spec, rows, on_record)
        finally:
            if started_here:  # a connection made by the caller stays theirs
                ray.shutdown()

    def _connect(self, ray: Any) -> bool:
        if ray.is_initialized():
            return False
        try:
            if self.address is None:
                ray.init(num_cpus=self.num_cpus, include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            else:
                ray.init(address=self.address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise HookchainError(f"--executor ray: cannot reach the Ray cluster at {self.address or '(a local one)'}: "
                                 f"{str(e).splitlines()[0] if str(e) else type(e).__name__}; check --ray-address "
                                 "(host:port of `ray start --head`), or leave it out to start a local cluster") from None
        return True

    def _run(self, ray: Any, spec: BatchSpec, rows: list[Row], on_record: Callable[[dict[str, Any]], None]) -> None:
        tasks = self.tasks or max(1, int(ray.cluster_resources().get("CPU", 1)))
        size = self.chunk_size or max(1, min(2 * spec.concurrency, math.ceil(len(rows) / tasks)))
        share = replace(spec, config=_config_path(spec), rate=spec.rate / tasks if spec.rate else None)
        env = {k: v for k, v in os.environ.items() if k.startswith("HOOKCHAIN_")}
        remote = ray.remote(max_retries=MAX_RETRIES, num_cpus=1)(run_chunk)
        spec_ref = ray.put(share)
        chunks = (rows[i:i + size] for i in range(0, len(rows), size))
        pending: list[Any] = []
        try:
            for chunk in chunks:
                pending.append(remote.remote(spec_ref, chunk, env))
                while len(pending) >= tasks:
                    pending = self._collect(ray, pending, on_record)
            while pending:
                pending = self._collect(ray, pending, on_record)
        finally:
            for ref in pending:  # Ctrl-C or an error: stop what is still running
                ray.cancel(ref, force=True)

    @staticmethod
    def _collect(ray: Any, pending: list[Any], on_record: Callable[[dict[str, Any]], None]) -> list[Any]:
        """Wait for one task to end and hand on its records; the rest, still pending."""
        done, pending = ray.wait(pending, num_returns=1)
        try:
            records = ray.get(done[0])
        except ray.exceptions.RayError as e:  # failed MAX_RETRIES + 1 times, or could not build the chain there
            reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
            raise HookchainError(f"--executor ray: a task of {MAX_RETRIES + 1} attempts failed ({reason}); the rows "
                                 "finished so far are in OUTPUT: run again with --resume") from None
        for record in records:
            on_record(record)
        return pending
