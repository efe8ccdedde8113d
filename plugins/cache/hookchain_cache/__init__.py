"""hookchain-cache: registers the ``cache`` handler (a SQLite response cache
for every chat model call) and the ``hookchain cache`` commands.

Written against hookchain's public contract only, as a third-party plugin.
"""

from typing import Any, Callable

import hookchain

from hookchain_cache.handler import CacheHandler, CacheOptions
from hookchain_cache.key import cache_key, key_material
from hookchain_cache.store import SQLiteCache, default_path

__all__ = ["CacheHandler", "CacheOptions", "SQLiteCache", "cache_key", "key_material", "default_path"]


@hookchain.hookimpl
def register_handlers(register: Callable) -> None:
    register("cache", CacheHandler)


@hookchain.hookimpl
def register_commands(cli: Any) -> None:
    from hookchain_cache.cli import cache_group

    cli.add_command(cache_group)
