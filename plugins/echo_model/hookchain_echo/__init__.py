"""hookchain-echo: registers the ``echo`` chat model and the ``echo-llm``
text-completion model.

Written against hookchain's public contract only, as a third-party plugin.
"""

from typing import Callable

import hookchain

from hookchain_echo.model import EchoChatModel, EchoLLM

__all__ = ["EchoChatModel", "EchoLLM"]


@hookchain.hookimpl
def register_models(register: Callable) -> None:
    register("echo", EchoChatModel)
    register("echo-llm", EchoLLM)
