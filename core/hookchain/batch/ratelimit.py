"""``--rate``: how many model calls a batch may start per unit of time.

The limit is a token bucket (``aiolimiter.AsyncLimiter``) that refills at the
given rate and holds one second's worth of calls (at least one): calls start
no faster than the rate, except for that first second's burst, so in any
window of ``t`` seconds at most ``rate * t + max(1, rate per second)`` calls
start. A call that finds the bucket empty waits for the next token; a loaded
machine that wakes a waiter late does not lose the time, the tokens that came
meanwhile are there (up to the bucket's size). Every attempt, retries
included, takes a token.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Union

from hookchain.batch.rows import BatchInputError

__all__ = ["parse_rate", "make_limiter", "bucket_size"]

_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0,
          "h": 3600.0, "hour": 3600.0, "d": 86400.0, "day": 86400.0}
_RATE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*/\s*([a-z]+?)s?\s*", re.IGNORECASE)


def parse_rate(rate: Union[str, float, int, None]) -> Optional[float]:
    """Calls per second from ``"60/min"``, ``"2/s"``, ``"1000/hour"``, ``"5/day"``
    (units: s, sec, second, m, min, minute, h, hour, d, day, plural or not), or a
    number (already per second); ``None`` for no limit.

    Raises ``BatchInputError`` for anything else, or a rate that is not > 0."""
    if rate is None:
        return None
    if isinstance(rate, (int, float)) and not isinstance(rate, bool):
        value = float(rate)
    else:
        match = _RATE.fullmatch(str(rate))
        unit = match and _UNITS.get(match.group(2).lower())
        if not unit:
            raise BatchInputError(f"--rate {rate!r}: write it as COUNT/UNIT, e.g. 60/min, 2/s or 1000/hour "
                                  f"(units: {', '.join(sorted(set(_UNITS)))})")
        value = float(match.group(1)) / unit
    if not value > 0:
        raise BatchInputError(f"--rate {rate!r}: the rate must be more than 0")
    return value


def bucket_size(per_second: float) -> float:
    """The bucket's size: one second's worth of calls, at least one."""
    return max(1.0, per_second)


def make_limiter(per_second: Optional[float]) -> Any:
    """An ``aiolimiter.AsyncLimiter`` for ``per_second`` calls per second
    (``async with limiter:`` takes a token), or ``None`` for no limit. Make
    one per event loop."""
    if per_second is None:
        return None
    from aiolimiter import AsyncLimiter

    size = bucket_size(per_second)
    return AsyncLimiter(size, size / per_second)
