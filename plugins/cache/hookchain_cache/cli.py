"""``hookchain cache stats`` and ``hookchain cache clear`` (added through the
``register_commands`` hook, so they cost ``hookchain run`` nothing).

Which file: ``--path``, else ``path`` of the ``[handlers.cache]`` table of the
config (``--config``, else the one ``hookchain run`` would read:
``$HOOKCHAIN_CONFIG``, ``./hookchain.toml``, ``./pyproject.toml``), else the
default path in the user cache dir.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import click

__all__ = ["cache_group", "cache_path"]


def cache_path(path: Optional[str], config_path: Optional[str]) -> str:
    """The cache file the commands work on (see the module docstring)."""
    from hookchain import config as cfg
    from hookchain.errors import HookchainError

    from hookchain_cache.handler import resolve_path

    if path:
        return resolve_path(path)
    try:
        config = cfg.load(config_path) if config_path else cfg.find()
    except HookchainError as e:
        raise click.ClickException(str(e)) from None
    configured = (config.handlers.get("cache") or {}).get("path") if config is not None else None
    if configured is not None and not isinstance(configured, str):
        raise click.ClickException(f"{config.source}: [handlers.cache] path must be a string, got {configured!r}")
    return resolve_path(configured)


_path_option = click.option("--path", "path", type=click.Path(dir_okay=False), help="The cache file (default: see `hookchain cache --help`).")
_config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), help="Read [handlers.cache] path from this config file.")


@click.group("cache")
def cache_group() -> None:
    """The hookchain-cache response cache.

    The file is --path, else `path` in the config's [handlers.cache] table,
    else cache.sqlite in the user cache directory.
    """


@cache_group.command("stats")
@_path_option
@_config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stats(path: Optional[str], config_path: Optional[str], as_json: bool) -> None:
    """Show the cache file, its number of entries and its size in bytes.

    Hits and misses are counted per process (CacheHandler.hits/.misses), so
    they are not shown here.
    """
    from hookchain_cache.store import SQLiteCache

    store = SQLiteCache(cache_path(path, config_path))
    try:
        info: dict[str, Any] = store.stats()
    except Exception as e:  # noqa: BLE001 - CacheError, sqlite3.Error
        raise click.ClickException(f"cannot read the cache {store.path}: {e}") from None
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"path:    {info['path']}{'' if info['exists'] else ' (does not exist yet)'}")
    click.echo(f"entries: {info['entries']}")
    click.echo(f"size:    {info['size']} bytes")


@cache_group.command("clear")
@_path_option
@_config_option
def clear(path: Optional[str], config_path: Optional[str]) -> None:
    """Delete every entry of the cache.

    A file this plugin cannot read (not a database, damaged, another cache
    schema version) is moved aside, not deleted, and an empty cache is created
    in its place; the command says where the old file went.
    """
    from hookchain_cache.store import SQLiteCache, UnreadableCacheError

    store = SQLiteCache(cache_path(path, config_path))
    try:
        try:
            removed = store.clear()
        except UnreadableCacheError as e:
            moved = store.replace_unreadable()
            click.echo(f"{store.path} was not a cache this plugin can read ({e.reason}): moved it to {moved} "
                       f"and created an empty cache in its place (delete the old file once you no longer need it)")
            return
    except Exception as e:  # noqa: BLE001 - sqlite3.Error, CacheError, OSError
        raise click.ClickException(f"cannot clear the cache {store.path}: {e}") from None
    finally:
        store.close()
    click.echo(f"cleared {removed} entr{'y' if removed == 1 else 'ies'} from {store.path}")
