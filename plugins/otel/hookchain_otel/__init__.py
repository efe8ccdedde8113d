"""hookchain-otel: registers the ``otel`` handler, which exports every run
tree as OpenTelemetry spans (GenAI semantic conventions for model calls).

Written against hookchain's public contract only, as a third-party plugin.
"""

from typing import Callable

import hookchain

from hookchain_otel.handler import OtelHandler, OtelOptions

__all__ = ["OtelHandler", "OtelOptions"]


@hookchain.hookimpl
def register_handlers(register: Callable) -> None:
    register("otel", OtelHandler)
