"""Plugin discovery and the model/handler registry.

Discovery reads the ``hookchain`` entry-point group once per process, lazily
(the first time a model, handler or plugin listing is asked for). Each entry
point is loaded on its own: one that fails to import is recorded with its error
(shown by ``hookchain plugins``) and the others still load; pluggy's
``load_setuptools_entrypoints`` would stop at the first failure. The
registration hooks are then called plugin by plugin for the same reason, so a
plugin raising in ``register_models`` loses only its own registrations.

Environment:
    HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD=1: load no entry points (plugins can
        still be registered in code with ``register_plugin``).
    HOOKCHAIN_PLUGINS=name,name: load only the entry points with these names.
    HOOKCHAIN_DISABLE_PLUGINS=name,name: skip these entry points (switch off a
        misbehaving plugin without uninstalling it).

Discovery imports every plugin module, so a plugin should keep its module
cheap: ``hookchain.plugins.lazy_import("some_sdk")`` gives a module that is
loaded on first attribute access (e.g. when a model is built), not at discovery.

A name registered by two plugins is kept for both; using it is then an error
naming both, resolved by qualifying it as ``PLUGIN:NAME``.
"""

from __future__ import annotations

import inspect
import logging
import os
import signal
import threading
from typing import Any, Callable, Optional

import pluggy

from hookchain import hookspecs
from hookchain._lazy import lazy_import
from hookchain.errors import OptionError, PluginError, UnknownNameError

__all__ = [
    "PluginInfo", "lazy_import", "get_plugin_manager", "register_plugin", "list_plugins",
    "list_models", "list_handlers", "call_registration_hook", "get_model", "get_handler", "reset",
]

logger = logging.getLogger("hookchain.plugins")


class PluginInfo:
    """What ``hookchain plugins`` shows about one plugin.

    Attributes:
        name: entry-point name (or the name given to ``register_plugin``).
        distribution, version: the installed distribution, when known.
        hooks: names of the hooks it implements.
        models, handlers: names it registered.
        error: why it failed to load or register, else ``None``.
    """

    __slots__ = ("name", "distribution", "version", "hooks", "models", "handlers", "error")

    def __init__(self, name: str, distribution: Optional[str] = None, version: Optional[str] = None) -> None:
        self.name, self.distribution, self.version = name, distribution, version
        self.hooks: list[str] = []
        self.models: list[str] = []
        self.handlers: list[str] = []
        self.error: Optional[str] = None

    def as_dict(self) -> dict[str, Any]:
        return {s: getattr(self, s) for s in self.__slots__}

    @property
    def label(self) -> str:
        return f"{self.name} ({self.distribution} {self.version})" if self.distribution else self.name


class _Entry:
    __slots__ = ("name", "factory", "plugin")

    def __init__(self, name: str, factory: Callable[..., Any], plugin: PluginInfo) -> None:
        self.name, self.factory, self.plugin = name, factory, plugin


class _SigintWatch:
    """Tell the user's Ctrl-C from a ``KeyboardInterrupt`` a plugin raises itself.

    While plugin code runs, a SIGINT handler wrapping the current one records
    that the signal arrived. A ``KeyboardInterrupt`` is the user's only if a
    SIGINT arrived meanwhile; otherwise the plugin raised it and it is that
    plugin's failure. Outside the main thread, or when SIGINT is ignored or
    left to the OS, a signal cannot raise ``KeyboardInterrupt`` at all, so any
    such exception is the plugin's.
    """

    __slots__ = ("received", "previous")

    def __init__(self) -> None:
        self.received = False
        self.previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.received = True
        self.previous(signum, frame)

    def __enter__(self) -> "_SigintWatch":
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                self.previous = previous
                signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _guarded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, Optional[str]]:
    """``(fn(...), None)``, or ``(None, "Type: message")`` when plugin code
    raised anything, ``SystemExit`` and its own ``KeyboardInterrupt`` included:
    a plugin may only ever fail itself. The user's Ctrl-C is re-raised."""
    with _SigintWatch() as watch:
        try:
            return fn(*args, **kwargs), None
        except KeyboardInterrupt as e:
            if watch.received:
                raise
            error: BaseException = e
        except BaseException as e:  # noqa: BLE001 - SystemExit too: only the plugin fails
            error = e
    return None, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _names_from_env(variable: str) -> set[str]:
    return {n.strip() for n in os.environ.get(variable, "").split(",") if n.strip()}


class _Registry:
    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.kinds: dict[str, dict[str, list[_Entry]]] = {"model": {}, "handler": {}}

    # -- loading ------------------------------------------------------------ #
    def discover(self) -> None:
        if os.environ.get("HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD"):
            return
        only = _names_from_env("HOOKCHAIN_PLUGINS") or None
        skip = _names_from_env("HOOKCHAIN_DISABLE_PLUGINS")
        try:
            from importlib_metadata import entry_points
        except ImportError:  # Python >= 3.12 without the backport
            from importlib.metadata import entry_points  # type: ignore[assignment]
        seen = set()
        for ep in entry_points(group=hookspecs.ENTRY_POINT_GROUP):
            if (only is not None and ep.name not in only) or ep.name in skip or (ep.name, ep.value) in seen:
                continue
            seen.add((ep.name, ep.value))
            dist = getattr(ep, "dist", None)
            info = PluginInfo(ep.name, dist.name if dist else None, dist.version if dist else None)
            obj, error = _guarded(ep.load)
            if error is not None:
                self._fail(info, f"failed to import {ep.value!r}: {error}")
                continue
            self.add(obj, info)

    def _fail(self, info: PluginInfo, error: str) -> None:
        info.error = error if info.error is None else f"{info.error}; {error}"
        self.plugins.setdefault(info.name, info)
        logger.warning("hookchain plugin %s: %s", info.label, error)

    def add(self, obj: Any, info: PluginInfo) -> PluginInfo:
        """Register ``obj`` as plugin ``info.name``; returns the ``PluginInfo``
        recording the outcome (a renamed one with an error if the name is taken)."""
        if info.name in self.plugins:
            taken = PluginInfo(f"{info.name}#{len(self.plugins)}", info.distribution, info.version)
            self._fail(taken, f"plugin name {info.name!r} is already taken by {self.plugins[info.name].label}")
            return taken
        try:
            self.pm.register(obj, name=info.name)
        except Exception as e:  # noqa: BLE001 - pluggy validation errors
            self._fail(info, f"invalid hook implementation: {e}")
            return info
        self.plugins[info.name] = info
        info.hooks = sorted(c.name for c in self.pm.get_hookcallers(obj) or [])
        for hook_name, kind in (("register_models", "model"), ("register_handlers", "handler")):
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin is obj:
                    staged: list[_Entry] = []
                    _, error = _guarded(impl.function, register=self._register_fn(kind, info, staged))
                    if error is not None:  # the hook's registrations are dropped
                        self._fail(info, f"{hook_name} raised {error}")
                        continue
                    for entry in staged:
                        self.kinds[kind].setdefault(entry.name, []).append(entry)
                        (info.models if kind == "model" else info.handlers).append(entry.name)
        return info

    def _register_fn(self, kind: str, info: PluginInfo, staged: list[_Entry]) -> Callable[[str, Callable[..., Any]], None]:
        def register(name: str, factory: Callable[..., Any]) -> None:
            if not isinstance(name, str) or not name or ":" in name:
                raise PluginError(f"{kind} names must be non-empty strings without ':', got {name!r}")
            if not callable(factory):
                raise PluginError(f"{kind} {name!r} factory must be a class or callable, got {type(factory).__name__}")
            staged.append(_Entry(name, factory, info))

        return register

    # -- lookup ----------------------------------------------------------------- #
    def entry(self, kind: str, name: str) -> _Entry:
        table = self.kinds[kind]
        plugin, _, short = name.rpartition(":")
        entries = table.get(short, [])
        if plugin:
            entries = [e for e in entries if e.plugin.name == plugin]
        if not entries:
            broken = [p.label for p in self.plugins.values() if p.error]
            hint = f" Plugins that failed to load: {', '.join(broken)} (see `hookchain plugins`)." if broken else ""
            raise UnknownNameError(kind, name, table, hint)
        if len(entries) > 1:
            raise PluginError(
                f"{kind} {name!r} is registered by several plugins: "
                f"{', '.join(e.plugin.label for e in entries)}; choose one as "
                f"{' or '.join(repr(e.plugin.name + ':' + name) for e in entries)}"
            )
        return entries[0]


_registry: Optional[_Registry] = None
_building: Optional[_Registry] = None
_lock = threading.RLock()


def _get() -> _Registry:
    global _registry, _building
    if _registry is None:
        with _lock:
            if _registry is None:
                if _building is not None:  # a plugin's hook calling back while discovery runs
                    return _building
                _building = _Registry()
                try:
                    _building.discover()
                    _registry = _building
                finally:
                    _building = None
    return _registry


def reset() -> None:
    """Forget every loaded plugin; the next lookup discovers them again."""
    global _registry
    with _lock:
        _registry = None


def get_plugin_manager() -> pluggy.PluginManager:
    """The process's pluggy ``PluginManager`` (plugins discovered)."""
    return _get().pm


def register_plugin(obj: Any, name: Optional[str] = None) -> PluginInfo:
    """Register a module or object holding hookimpls, as if found through an
    entry point (for applications and tests). Returns its ``PluginInfo``;
    failures are recorded there rather than raised."""
    info = PluginInfo(name or getattr(obj, "__name__", type(obj).__name__))
    return _get().add(obj, info)


def call_registration_hook(hook_name: str, **kwargs: Any) -> None:
    """Call ``hook_name`` (e.g. ``register_commands``) on every loaded plugin,
    one plugin at a time: a plugin that raises is recorded and logged, the
    others still run."""
    registry = _get()
    for impl in getattr(registry.pm.hook, hook_name).get_hookimpls():
        _, error = _guarded(impl.function, **kwargs)
        info = registry.plugins.get(impl.plugin_name)
        if error is not None and info is not None:
            registry._fail(info, f"{hook_name} raised {error}")


def list_plugins() -> list[PluginInfo]:
    """Every discovered plugin, including those that failed to load."""
    return list(_get().plugins.values())


def list_models() -> dict[str, list[str]]:
    """Registered model names mapped to the plugins that registered them."""
    return {n: [e.plugin.name for e in es] for n, es in sorted(_get().kinds["model"].items())}


def list_handlers() -> dict[str, list[str]]:
    """Registered handler names mapped to the plugins that registered them."""
    return {n: [e.plugin.name for e in es] for n, es in sorted(_get().kinds["handler"].items())}


def _allowed_options(factory: Any) -> list[str]:
    options_model = getattr(factory, "options_model", None)
    fields = getattr(options_model or factory, "model_fields", None)
    if fields is not None:
        return [f for f in fields if f != "callbacks"]
    try:
        return [p.name for p in inspect.signature(factory).parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    except (TypeError, ValueError):
        return []


def _secret_fields(schema: Any) -> set[str]:
    fields = getattr(schema, "model_fields", {}) or {}
    return {name for name, f in fields.items() if "Secret" in str(f.annotation)}


def _explain(error: Any, schema: Any) -> str:
    """One line per pydantic error; the rejected value is shown, except for
    secret (``SecretStr``/``SecretBytes``) fields."""
    secret = _secret_fields(schema)
    parts = []
    for item in error.errors():
        where = ".".join(str(x) for x in item["loc"]) or "(options)"
        if item["type"] == "extra_forbidden":
            parts.append(f"unknown option {where!r}")
        elif item["type"] == "missing":
            parts.append(f"option {where!r} is required")
        elif str(item["loc"][0]) in secret:
            parts.append(f"option {where!r}: {item['msg']} (value hidden: secret)")
        else:
            parts.append(f"option {where!r}: {item['msg']} (got {item.get('input')!r})")
    return "; ".join(parts)


def _build(kind: str, name: str, expected: type, options: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    entry = _get().entry(kind, name)
    factory = entry.factory
    where = f"{kind} {name!r} (plugin {entry.plugin.label})"
    allowed = _allowed_options(factory)
    options_model = getattr(factory, "options_model", None)
    try:
        if options_model is not None:
            validated = options_model(**options)
            options = {f: getattr(validated, f) for f in options_model.model_fields}
        elif not hasattr(factory, "model_fields"):
            unknown = sorted(set(options) - set(allowed))
            if unknown and not any(
                p.kind is p.VAR_KEYWORD for p in inspect.signature(factory).parameters.values()
            ):
                raise OptionError(f"{where}: unknown option(s) {', '.join(map(repr, unknown))}; allowed options: {', '.join(allowed) or 'none'}")
        obj = factory(**options)
    except ValidationError as e:
        raise OptionError(f"{where}: {_explain(e, options_model or factory)}; allowed options: {', '.join(allowed) or 'none'}") from None
    if not isinstance(obj, expected):
        raise PluginError(f"{where}: factory returned {type(obj).__name__}, not a {expected.__name__}")
    return obj


def get_model(name: str, **options: Any) -> Any:
    """Build the chat model registered as ``name`` (``"PLUGIN:NAME"`` to pick one
    plugin's) with ``options`` (keyword options, validated).

    Returns a ``hookchain.language_models.BaseChatModel``.
    Raises ``UnknownNameError`` listing the known models, ``OptionError`` naming
    the bad option and the allowed ones, ``PluginError`` when several plugins
    claim ``name`` or the factory returns something else.
    """
    from hookchain.language_models import BaseChatModel

    return _build("model", name, BaseChatModel, options)


def get_handler(name: str, **options: Any) -> Any:
    """Build the callback handler registered as ``name`` with ``options``; errors
    as ``get_model``. Returns a ``BaseCallbackHandler`` or ``AsyncCallbackHandler``."""
    from hookchain.callbacks.base import _HandlerBase

    return _build("handler", name, _HandlerBase, options)
