"""hookchain-echo: registers the ``echo`` chat model.

Written against hookchain's public contract only, as a third-party plugin.
"""

from typing import Callable

import hookchain

from hookchain_echo.model import EchoChatModel

__all__ = ["EchoChatModel"]


@hookchain.hookimpl
def register_models(register: Callable) -> None:
    register("echo", EchoChatModel)
