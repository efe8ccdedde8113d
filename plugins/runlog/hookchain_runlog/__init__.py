"""hookchain-runlog: registers the ``runlog`` handler (every run tree in a
local SQLite file) and the ``hookchain logs`` commands.

Written against hookchain's public contract only, as a third-party plugin.
"""

from typing import Any, Callable

import hookchain

from hookchain_runlog.handler import RunLogHandler, RunLogOptions
from hookchain_runlog.store import RunLogError, RunStore, default_path

__all__ = ["RunLogHandler", "RunLogOptions", "RunStore", "RunLogError", "default_path"]


@hookchain.hookimpl
def register_handlers(register: Callable) -> None:
    register("runlog", RunLogHandler)


@hookchain.hookimpl
def register_commands(cli: Any) -> None:
    from hookchain_runlog.cli import logs_group

    cli.add_command(logs_group)
