"""hookchain-stdout: registers the ``stdout`` callback handler.

Written against hookchain's public contract only, as a third-party plugin.
"""

from typing import Callable

import hookchain

from hookchain_stdout.handler import StdOutHandler

__all__ = ["StdOutHandler"]


@hookchain.hookimpl
def register_handlers(register: Callable) -> None:
    register("stdout", StdOutHandler)
