"""A runnable retried when it fails (as ``langchain_core.runnables.retry``):
what ``Runnable.with_retry`` returns. Retries, waits and stopping are
``tenacity``'s (``Retrying``/``AsyncRetrying``), as LangChain's.

One chain run (named as the wrapped runnable) wraps the attempts; each
attempt is a child run of it, from the second on tagged
``retry:attempt:N``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

from hookchain._lazy import lazy_import
from hookchain.runnables.base import Runnable, RunnableBinding
from hookchain.runnables.config import RunnableConfig, get_config_list, patch_config

tenacity = lazy_import("tenacity")  # loaded on first retry: programs that never retry never pay for it
asyncio = lazy_import("asyncio")

__all__ = ["RunnableRetry"]

RetryOn = Union[tuple[type[BaseException], ...], Callable[[BaseException], bool]]


class RunnableRetry(RunnableBinding):
    """``bound`` retried on failure, as LangChain's ``RunnableRetry``
    (``invoke``/``ainvoke``/``batch``/``abatch``; ``stream``/``astream`` call
    ``bound`` once, unretried, as LangChain's).

    Args:
        bound: the runnable to retry.
        retry_exception_types: tuple of exception classes that are retried
            (default ``(Exception,)``), or a predicate ``f(exception) -> bool``;
            any other exception is raised at once.
        wait_exponential_jitter: wait between attempts with tenacity's
            ``wait_exponential_jitter`` (default ``True``; ``False``: no wait).
        exponential_jitter_params: its ``initial``, ``max``, ``exp_base``,
            ``jitter`` (floats, seconds; tenacity's defaults 1, 60, 2, 1).
        max_attempt_number: attempts in all, the first included (default 3).

    Raises:
        the last attempt's exception once attempts run out. In ``batch``,
        only the inputs that failed are retried; with ``return_exceptions``
        their last exception is returned in their place.
    """

    def __init__(
        self, *, bound: Runnable, kwargs: Optional[dict[str, Any]] = None, config: Optional[RunnableConfig] = None,
        retry_exception_types: RetryOn = (Exception,), wait_exponential_jitter: bool = True,
        exponential_jitter_params: Optional[dict[str, float]] = None, max_attempt_number: int = 3,
    ) -> None:
        if not isinstance(bound, Runnable):
            raise TypeError(f"RunnableRetry needs a Runnable to retry, got {type(bound).__name__}")
        if isinstance(retry_exception_types, type):
            retry_exception_types = (retry_exception_types,)
        super().__init__(bound=bound, kwargs=kwargs, config=config)
        self.retry_exception_types = retry_exception_types
        self.wait_exponential_jitter = wait_exponential_jitter
        self.exponential_jitter_params = exponential_jitter_params
        self.max_attempt_number = max_attempt_number

    def __repr__(self) -> str:
        return f"RunnableRetry(bound={self.bound!r}, max_attempt_number={self.max_attempt_number})"

    def _retrying(self, cls: Any, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {}
        if self.max_attempt_number:
            kwargs["stop"] = tenacity.stop_after_attempt(self.max_attempt_number)
        if self.wait_exponential_jitter:
            kwargs["wait"] = tenacity.wait_exponential_jitter(**(self.exponential_jitter_params or {}))
        if callable(self.retry_exception_types):
            kwargs["retry"] = tenacity.retry_if_exception(self.retry_exception_types)
        elif self.retry_exception_types:
            kwargs["retry"] = tenacity.retry_if_exception_type(self.retry_exception_types)
        return cls(**kwargs, **extra)

    @staticmethod
    def _attempt_config(config: RunnableConfig, rm: Any, state: Any) -> RunnableConfig:
        n = state.attempt_number
        return patch_config(config, callbacks=rm.get_child(f"retry:attempt:{n}" if n > 1 else None))

    @staticmethod
    def _succeeded(attempt: Any) -> bool:
        outcome = attempt.retry_state.outcome
        return outcome is not None and not outcome.failed

    # -- invoke ------------------------------------------------------------ #
    def invoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        """``bound.invoke`` until it succeeds or attempts run out, in one chain run."""
        def run(value: Any, config: RunnableConfig, rm: Any) -> Any:
            for attempt in self._retrying(tenacity.Retrying, reraise=True):
                with attempt:
                    result = RunnableBinding.invoke(self, value, self._attempt_config(config, rm, attempt.retry_state), **kwargs)
                if self._succeeded(attempt):
                    attempt.retry_state.set_result(result)
            return result

        return self._call_with_config(run, input, config)

    async def ainvoke(self, input: Any, config: Optional[RunnableConfig] = None, **kwargs: Any) -> Any:
        """Async ``invoke`` (waits with ``asyncio.sleep``)."""
        async def run(value: Any, config: RunnableConfig, rm: Any) -> Any:
            async for attempt in self._retrying(tenacity.AsyncRetrying, reraise=True):
                with attempt:
                    result = await RunnableBinding.ainvoke(
                        self, value, self._attempt_config(config, rm, attempt.retry_state), **kwargs)
                if self._succeeded(attempt):
                    attempt.retry_state.set_result(result)
            return result

        return await self._acall_with_config(run, input, config)

    # -- batch ------------------------------------------------------------- #
    def _round(self, inputs: Sequence[Any], configs: list[RunnableConfig], rms: list[Any], state: Any,
               done: dict[int, Any]) -> tuple[list[int], list[Any]]:
        """The inputs still to run and their configs for this attempt."""
        remaining = [i for i in range(len(inputs)) if i not in done]
        return remaining, [self._attempt_config(configs[i], rms[i], state) for i in remaining]

    @staticmethod
    def _record(remaining: list[int], outputs: list[Any], done: dict[int, Any], last: dict[int, Any]) -> None:
        """File one attempt's ``outputs``; raise its first exception (to retry)."""
        first: Optional[Exception] = None
        for i, out in zip(remaining, outputs):
            if isinstance(out, Exception):
                first = first or out
                last[i] = out
            else:
                done[i] = out
        if first is not None:
            raise first

    def batch(self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        """One chain run per input; each attempt is one ``bound.batch`` of the
        inputs that have not succeeded yet."""
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        rms = [self._start_chain(c, v) for c, v in zip(configs, inputs)]
        done: dict[int, Any] = {}
        last: dict[int, Any] = {}
        try:
            for attempt in self._retrying(tenacity.Retrying):
                with attempt:
                    remaining, cfgs = self._round(inputs, configs, rms, attempt.retry_state, done)
                    outputs = RunnableBinding.batch(self, [inputs[i] for i in remaining], cfgs, return_exceptions=True, **kwargs)
                    self._record(remaining, outputs, done, last)
                if self._succeeded(attempt):
                    attempt.retry_state.set_result(outputs)
        except tenacity.RetryError:
            pass
        except BaseException as e:
            for rm in rms:
                rm.on_chain_error(e)
            if return_exceptions:
                return [e for _ in inputs]
            raise
        results = [done[i] if i in done else last[i] for i in range(len(inputs))]
        for rm, out in zip(rms, results):
            rm.on_chain_error(out) if isinstance(out, Exception) else rm.on_chain_end(out)
        return self._batch_result(results, return_exceptions)

    async def abatch(self, inputs: Sequence[Any], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        """Async ``batch``."""
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        rms = list(await asyncio.gather(*(self._astart_chain(c, v) for c, v in zip(configs, inputs))))
        done: dict[int, Any] = {}
        last: dict[int, Any] = {}
        try:
            async for attempt in self._retrying(tenacity.AsyncRetrying):
                with attempt:
                    remaining, cfgs = self._round(inputs, configs, rms, attempt.retry_state, done)
                    outputs = await RunnableBinding.abatch(
                        self, [inputs[i] for i in remaining], cfgs, return_exceptions=True, **kwargs)
                    self._record(remaining, outputs, done, last)
                if self._succeeded(attempt):
                    attempt.retry_state.set_result(outputs)
        except tenacity.RetryError:
            pass
        except BaseException as e:
            await asyncio.gather(*(rm.on_chain_error(e) for rm in rms))
            if return_exceptions:
                return [e for _ in inputs]
            raise
        results = [done[i] if i in done else last[i] for i in range(len(inputs))]
        await asyncio.gather(*(rm.on_chain_error(out) if isinstance(out, Exception) else rm.on_chain_end(out)
                               for rm, out in zip(rms, results)))
        return self._batch_result(results, return_exceptions)

    @staticmethod
    def _batch_result(results: list[Any], return_exceptions: bool) -> list[Any]:
        if not return_exceptions:
            for out in results:
                if isinstance(out, Exception):
                    raise out
        return results
