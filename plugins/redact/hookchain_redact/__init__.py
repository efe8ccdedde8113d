"""hookchain-redact: registers the ``redact`` handler, which masks e-mail
addresses, phone numbers, API keys and custom patterns in every chat model call
before the model sees them.

Written against hookchain's public contract only, as a third-party plugin.
"""

from typing import Callable

import hookchain

from hookchain_redact.handler import DEFAULT_KINDS, RedactHandler, RedactionError, RedactOptions
from hookchain_redact.patterns import BUILTIN_KINDS, Masker, build_rules

__all__ = ["RedactHandler", "RedactOptions", "RedactionError", "Masker", "build_rules", "BUILTIN_KINDS", "DEFAULT_KINDS"]


@hookchain.hookimpl
def register_handlers(register: Callable) -> None:
    register("redact", RedactHandler)
