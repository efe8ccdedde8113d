"""The TOML config file: default model, model options, enabled handlers.

Where it is read from, first match wins:

1. an explicit path (``hookchain run --config PATH``, ``load(path)``);
2. ``$HOOKCHAIN_CONFIG`` (set it to an empty string to read no file);
3. ``./hookchain.toml``;
4. the ``[tool.hookchain]`` table of ``./pyproject.toml``;
5. for the CLI only, the embedded default (``default_config.toml`` in this
   package: the echo model with the stdout handler enabled).

Schema (every key optional)::

    model = "echo"              # default model for `hookchain run`
    handler_timeout = 5         # seconds an async handler may take per event

    [models.echo]               # options for a model, by model name
    n = 200

    [handlers.stdout]           # a table here enables the handler ...
    runs = true                 # ... with these options
    # enabled = false           # keep the options, disable the handler

In a Python process the file is read once, lazily, when the first root run
starts; its handlers then join every run. Nothing in the file is executed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from functools import lru_cache
from typing import Any, Optional, Union

from hookchain.errors import ConfigError

__all__ = ["Config", "find", "load", "load_default", "activate", "autoload", "DEFAULT_CONFIG"]

DEFAULT_CONFIG = Path(__file__).with_name("default_config.toml")


@lru_cache(maxsize=None)
def _seconds() -> Any:
    """The validator of ``handler_timeout`` (built on first use: building a
    pydantic schema costs milliseconds a config without the key never needs)."""
    from typing import Annotated

    from pydantic import Field, TypeAdapter

    return TypeAdapter(Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)])


_KEYS = {
    "model": "a model name (string)",
    "handler_timeout": "a finite number of seconds (>= 0)",
    "models": "a table of option tables",
    "handlers": "a table of option tables",
}


class Config:
    """A validated config.

    Attributes:
        source: where it came from (a path, or ``"<none>"``).
        model: default model name or ``None``.
        models: ``{model name: {option: value}}``.
        handlers: ``{handler name: {option: value}}`` for enabled handlers only.
        handler_tables: ``{handler name: {option: value}}`` for every
            ``[handlers.NAME]`` table, ``enabled = false`` ones included (the
            ``enabled`` key left out): ``hookchain run --handler NAME`` uses them.
        handler_timeout: seconds (a finite number >= 0) or ``None``.
    """

    __slots__ = ("source", "model", "models", "handlers", "handler_tables", "handler_timeout")

    def __init__(self, source: str, model: Optional[str] = None, models: Optional[dict[str, dict[str, Any]]] = None,
                 handlers: Optional[dict[str, dict[str, Any]]] = None) -> None:
        self.source, self.model = source, model
        self.models = models or {}
        self.handlers = handlers or {}
        self.handler_tables: dict[str, dict[str, Any]] = {name: dict(options) for name, options in self.handlers.items()}
        self.handler_timeout: Optional[float] = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str) -> "Config":
        """Validate ``data`` (a parsed TOML table). Raises ``ConfigError`` naming
        the file, the key and what was expected."""
        for key in data:
            if key not in _KEYS:
                raise ConfigError(f"{source}: unknown key {key!r}; allowed keys: {', '.join(_KEYS)}")
        model = data.get("model")
        if model is not None and not isinstance(model, str):
            raise ConfigError(f"{source}: key 'model' must be {_KEYS['model']}, got {type(model).__name__}")
        tables = {}
        for key in ("models", "handlers"):
            value = data.get(key, {})
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: key {key!r} must be {_KEYS[key]}, got {type(value).__name__}")
            for name, options in value.items():
                if not isinstance(options, dict):
                    raise ConfigError(
                        f"{source}: key '{key}.{name}' must be a table of options (write [{key}.{name}]), "
                        f"got {type(options).__name__}"
                    )
            tables[key] = value
        timeout = data.get("handler_timeout")
        if timeout is not None:
            from pydantic import ValidationError

            try:
                _seconds().validate_python(timeout)
            except ValidationError as e:
                raise ConfigError(f"{source}: key 'handler_timeout' must be {_KEYS['handler_timeout']}, "
                                  f"got {timeout!r} ({e.errors()[0]['msg'].lower()})") from None
        handlers, handler_tables = {}, {}
        for name, options in tables["handlers"].items():
            options = dict(options)
            enabled = options.pop("enabled", True)
            if not isinstance(enabled, bool):
                raise ConfigError(f"{source}: key 'handlers.{name}.enabled' must be true or false, got {enabled!r}")
            handler_tables[name] = options
            if enabled:
                handlers[name] = dict(options)
        config = cls(source, model, tables["models"], handlers)
        config.handler_tables = handler_tables
        config.handler_timeout = timeout
        return config

    def build_handlers(self) -> list[Any]:
        """Instantiate the enabled handlers; errors name this config file."""
        from hookchain.errors import HookchainError
        from hookchain.plugins import get_handler

        out = []
        for name, options in self.handlers.items():
            try:
                out.append(get_handler(name, **options))
            except HookchainError as e:
                # Reword in place: not every error class takes just a message
                # (UnknownNameError(kind, name, known)), and its attributes stay.
                e.args = (f"{self.source}: [handlers.{name}]: {e}", *e.args[1:])
                raise e from None
        return out


def _read(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):  # imported here: a process with no config file never parses TOML
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as e:  # a directory, a symlink loop, no permission...
        raise ConfigError(f"{path}: cannot read the config file: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not valid UTF-8: {e}") from None


def load(path: Union[str, Path]) -> Config:
    """Read and validate the config at ``path`` (a ``pyproject.toml`` is read
    from its ``[tool.hookchain]`` table)."""
    path = Path(path)
    data = _read(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        data = tool.get("hookchain", {}) if isinstance(tool, dict) else tool
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: [tool.hookchain] must be a table (keys under a [tool.hookchain] header), "
                              f"got {type(data).__name__}")
        return Config.from_dict(data, f"{path} [tool.hookchain]")
    return Config.from_dict(data, str(path))


def find() -> Optional[Config]:
    """The config from ``$HOOKCHAIN_CONFIG``, ``./hookchain.toml`` or
    ``./pyproject.toml``'s ``[tool.hookchain]``, or ``None``."""
    env = os.environ.get("HOOKCHAIN_CONFIG")
    if env is not None:
        return load(env) if env else None
    local = Path("hookchain.toml")
    if os.path.lexists(local):  # a directory or a broken link is an error, not skipped
        return load(local)
    pyproject = Path("pyproject.toml")
    # "tool.hookchain" also matches sub-tables ([tool.hookchain.handlers.stdout])
    # and dotted keys, which define the table without a [tool.hookchain] header.
    if pyproject.is_file() and b"tool.hookchain" in pyproject.read_bytes():
        return load(pyproject)
    return None


def load_default() -> Config:
    """The embedded default config (echo model, stdout handler)."""
    return load(DEFAULT_CONFIG)


def activate(config: Optional[Config]) -> list[Any]:
    """Enable ``config``'s handlers for every later root run in this process,
    instead of the file ``autoload`` would find. Returns the handlers."""
    from hookchain.callbacks import manager

    manager._autoload_pending = False
    if config is not None and config.handler_timeout is not None:
        manager.set_handler_timeout(config.handler_timeout)
    handlers = config.build_handlers() if config is not None else []
    for handler in handlers:
        manager.enable_handler(handler)
    return handlers


def autoload() -> None:
    """Enable the handlers of the config ``find`` returns (called once, on the
    first root run of the process)."""
    config = find()
    if config is not None and config.handlers:
        activate(config)
