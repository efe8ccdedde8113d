"""The batch engine: every row through ``prompt | model`` with bounded
concurrency, a rate limit and retries, each finished row handed on as a record.

A record (one OUTPUT line) is a dict:

* ``id`` (str): the row's id (``hookchain.batch.rows``);
* ``answer`` (str | None): the model's text, ``None`` when the row failed;
* ``usage`` (dict | None): the answer's ``usage_metadata`` (``input_tokens``,
  ``output_tokens``, ``total_tokens``) when the model reports it;
* ``latency`` (float): seconds from the first attempt's start to the end;
* ``started`` (float): when the first attempt started (Unix time, seconds),
  after its rate-limit token;
* ``attempts`` (int): how many calls were made (retries included);
* ``error`` (str | None): ``"ExceptionType: message"`` of the last attempt
  when the row failed.

A row whose call raises is retried, with exponential backoff and jitter
(``tenacity``), when the error is retryable: an exception with a true
``retryable`` attribute (as the openai-compat plugin's rate-limit, timeout,
connection and 5xx errors), or a ``ConnectionError``/``TimeoutError``. A row
that still fails, or fails otherwise (e.g. a template variable missing from
the row), becomes a record with its error: never dropped, and the other rows
go on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from hookchain.batch.ratelimit import make_limiter
from hookchain.batch.rows import Row

__all__ = ["BatchSpec", "build_chain", "process_rows", "is_retryable"]

Record = dict[str, Any]


@dataclass
class BatchSpec:
    """What each row runs, in a form a worker process can rebuild by names
    (picklable, unless ``model`` is a model object: local executor only).

    Attributes:
        template: the human message's template (f-string variables: ``{field}``).
        system: a system message sent first, or ``None``.
        model: a model name (``-m``; ``None``: the config's ``model``) or a
            ``BaseChatModel``/``BaseLLM`` object.
        model_options: options for a named model (``-o``), over the config's.
        handlers: handlers to enable (``--handler``), name -> options (over the
            config's table for that name).
        config: a config file path (``--config``), else as ``hookchain run``.
        concurrency: calls in flight at once (>= 1), per process running rows.
        rate: calls started per second at most (``None``: no limit).
        retries: further attempts for a retryable error (>= 0).
        backoff: seconds before the first retry (doubling, with jitter, up to 30 s).
    """

    template: str
    system: Optional[str] = None
    model: Any = None
    model_options: dict[str, Any] = field(default_factory=dict)
    handlers: dict[str, dict[str, Any]] = field(default_factory=dict)
    config: Optional[str] = None
    concurrency: int = 8
    rate: Optional[float] = None
    retries: int = 2
    backoff: float = 0.5


def build_chain(spec: BatchSpec) -> Any:
    """``ChatPromptTemplate([system?, human template]) | model``, with the
    config's handlers (and ``spec.handlers``) enabled in this process, as
    ``hookchain run`` does. Raises the config's, plugins' and template's errors."""
    from hookchain import config as cfg
    from hookchain.callbacks import enable_handler
    from hookchain.cli import _find_config
    from hookchain.messages import SystemMessage
    from hookchain.plugins import get_handler, get_model
    from hookchain.prompts import ChatPromptTemplate

    config, _ = _find_config(spec.config)
    if config.source == str(cfg.DEFAULT_CONFIG):
        config.handlers.clear()  # the embedded default's handlers are for `hookchain run` at a terminal
    for name in [n for n in spec.handlers if n in config.handlers]:
        config.handlers.pop(name)  # built below, with the command line's options on top
    cfg.activate(config)
    for name, options in spec.handlers.items():
        enable_handler(get_handler(name, **{**config.handler_tables.get(name, {}), **options}))
    model = spec.model
    if model is None or isinstance(model, str):
        name = model or config.model or cfg.load_default().model
        model = get_model(name, **{**config.models.get(name, {}), **spec.model_options})
    parts: list[Any] = [SystemMessage(spec.system)] if spec.system else []
    return ChatPromptTemplate.from_messages([*parts, ("human", spec.template)]) | model


def is_retryable(error: BaseException) -> bool:
    """Whether a failed call is worth another attempt (see the module doc)."""
    flag = getattr(error, "retryable", None)
    if flag is not None:
        return bool(flag)
    return isinstance(error, (ConnectionError, TimeoutError))


def _usage(output: Any) -> Optional[dict[str, Any]]:
    usage = getattr(output, "usage_metadata", None)
    return dict(usage) if usage else None


async def process_rows(chain: Any, spec: BatchSpec, rows: Sequence[Row], on_record: Callable[[Record], None]) -> None:
    """Run ``rows`` through ``chain`` on the running event loop:
    ``spec.concurrency`` workers take rows in order, each call after a
    rate-limit token; ``on_record(record)`` is called (on the loop's thread)
    as each row finishes, so in completion order. Cancellation (Ctrl-C) stops
    the workers; rows not finished get no record."""
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_random

    limiter = make_limiter(spec.rate)
    queue = iter(rows)

    async def one(row: Row) -> Record:
        first: Optional[tuple[float, float]] = None  # (Unix time, perf_counter) of the first attempt
        attempts = 0

        async def call() -> Any:
            nonlocal first, attempts
            if limiter is not None:
                await limiter.acquire()
            first = first or (time.time(), time.perf_counter())
            attempts += 1
            return await chain.ainvoke(row.fields)

        answer, usage, error = None, None, None
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(spec.retries + 1), retry=retry_if_exception(is_retryable),
                # backoff, 2x, 4x... up to 30 s, plus up to backoff of jitter (the same on every tenacity 8.2+;
                # wait_exponential_jitter's initial= is deprecated from 9.2 and multiplier= missing before)
                wait=wait_exponential(multiplier=spec.backoff, max=30) + wait_random(0, spec.backoff), reraise=True,
            ):
                with attempt:
                    output = await call()
            answer = output if isinstance(output, str) else output.text
            usage = _usage(output)
        except Exception as e:  # noqa: BLE001 - the row fails, the batch goes on
            error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        wall, t0 = first or (time.time(), time.perf_counter())
        return {"id": row.id, "answer": answer, "usage": usage, "latency": round(time.perf_counter() - t0, 6),
                "started": wall, "attempts": attempts, "error": error}

    async def worker() -> None:
        for row in queue:  # one shared iterator: each row is taken by exactly one worker
            on_record(await one(row))

    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, min(spec.concurrency, len(rows))))]
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()

