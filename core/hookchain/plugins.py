"""Plugin discovery and the model/handler registry.

Installed plugins are the entry points of the ``hookchain`` group. What each
one registers (models, handlers, commands, hooks, its load error) is read from
the plugin index (``hookchain.plugin_index``), so listing names (``list_models``,
``hookchain models``, ``--help``) imports no plugin. Asking for a model or
handler imports the plugins that provide it and registers them with pluggy for
real: their ``register_models``/``register_handlers`` hooks run then. A name
the index does not know makes every enabled plugin load (the index may be out
of date: it is never trusted over the plugins themselves).

A plugin may only ever fail itself: an import or a registration hook that
raises anything (``SystemExit`` and ``KeyboardInterrupt`` included) is
recorded as that plugin's error (shown by ``hookchain plugins``, and in the
error for a name it would have provided) and the others still load; a plugin
that hangs at import is stopped while the index is built and never imported
by a command afterwards. The user's Ctrl-C is told apart from a plugin
raising ``KeyboardInterrupt`` by whether a SIGINT arrived while the plugin's
code ran (see ``_SigintWatch``). Registration hooks may call back into this
module (e.g. ``list_models()``).

Environment (read when the registry is created: after ``reset()``):
    HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD=1: load no installed plugin (plugins can
        still be registered in code with ``register_plugin``); ``0``,
        ``false``, ``no``, ``off`` or empty do not disable.
    HOOKCHAIN_PLUGINS=name,name: load only these plugins.
    HOOKCHAIN_DISABLE_PLUGINS=name,name: skip these plugins (switch off a
        misbehaving plugin without uninstalling it).
    Names are entry-point names or distribution names (``hookchain-echo``).
    When one of them is why a name is unknown, the error says so.

A plugin should keep its module cheap: ``hookchain.plugins.lazy_import("some_sdk")``
gives a module that is loaded on first attribute access (e.g. when a model is
built), not at import.

A name registered by two plugins is kept for both; using it is then an error
naming both, resolved by qualifying it as ``PLUGIN:NAME``.
"""

from __future__ import annotations

import inspect
import os
import re
import threading
from typing import Any, Callable, Optional

import pluggy

from hookchain import hookspecs, plugin_index
from hookchain._lazy import lazy_import
from hookchain.errors import OptionError, PluginError, UnknownNameError

__all__ = [
    "PluginInfo", "lazy_import", "get_plugin_manager", "register_plugin", "list_plugins",
    "list_models", "list_handlers", "adapt_handler", "call_registration_hook", "plugin_commands", "add_plugin_commands",
    "get_model", "get_handler", "reset", "refresh",
]



def _warn(message: str, *args: Any) -> None:
    """Log a plugin's failure on the ``hookchain.plugins`` logger (``logging``
    is imported then: a command without a failing plugin never needs it)."""
    import logging

    logging.getLogger("hookchain.plugins").warning(message, *args)


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

    def names(self, kind: str) -> list[str]:
        """The names it registered of ``kind`` (``"model"`` or ``"handler"``)."""
        return self.models if kind == "model" else self.handlers

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
        import signal

        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                self.previous = previous
                signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            import signal

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


_OFF = ("", "0", "false", "no", "off")


def _names_from_env(variable: str) -> set[str]:
    return {n.strip() for n in os.environ.get(variable, "").split(",") if n.strip()}


def _canonical(name: str) -> str:
    """A distribution name as packaging normalizes it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


class _Installed:
    """One installed plugin as the index describes it."""

    __slots__ = ("ep", "info", "loadable", "commands", "excluded", "loaded")

    def __init__(self, ep: Any, record: dict[str, Any], excluded: Optional[str]) -> None:
        dist = getattr(ep, "dist", None)
        self.ep, self.excluded, self.loaded = ep, excluded, False
        self.info = PluginInfo(ep.name, dist.name if dist else None, dist.version if dist else None)
        self.info.hooks, self.info.models, self.info.handlers = record["hooks"], record["models"], record["handlers"]
        self.info.error = record["error"]
        self.loadable: bool = record["imported"]
        self.commands: dict[str, dict[str, Any]] = record["commands"]

    def rename(self, name: str, error: str) -> None:
        """A second plugin under a taken entry-point name: listed, never loaded."""
        self.info = PluginInfo(name, self.info.distribution, self.info.version)
        self.info.error, self.loadable, self.commands = error, False, {}


class _Registry:
    def __init__(self, autoload: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        #: Plugins registered in this process (loaded, or given to register_plugin), by name.
        self.plugins: dict[str, PluginInfo] = {}
        self.kinds: dict[str, dict[str, list[_Entry]]] = {"model": {}, "handler": {}}
        self.lock = threading.RLock()
        value = os.environ.get("HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", "")
        self.autoload_off = f"HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD={value}" if value.strip().lower() not in _OFF else None
        self.autoload = autoload
        self.only = _names_from_env("HOOKCHAIN_PLUGINS")
        self.skip = _names_from_env("HOOKCHAIN_DISABLE_PLUGINS")
        self._installed: Optional[list[_Installed]] = None
        self.complete = False

    # -- the index -------------------------------------------------------------- #
    def installed(self, refresh: bool = False) -> list[_Installed]:
        """Every installed plugin (enabled or not), from the index."""
        with self.lock:
            if self._installed is None or refresh:
                self._installed = self._assemble(plugin_index.load(refresh) if self.autoload else [])
            return self._installed

    def enabled(self) -> list[_Installed]:
        """The installed plugins the environment variables let load."""
        if self.autoload_off or not self.autoload:
            return []
        return [p for p in self.installed() if p.excluded is None]

    def _excluded(self, ep: Any) -> Optional[str]:
        """Which environment variable keeps ``ep`` from loading, or ``None``."""
        dist = getattr(ep, "dist", None)
        names = {ep.name, _canonical(dist.name)} if dist else {ep.name}
        if self.only and not names & {*self.only, *map(_canonical, self.only)}:
            return f"it is not in HOOKCHAIN_PLUGINS={os.environ['HOOKCHAIN_PLUGINS']}"
        if names & {*self.skip, *map(_canonical, self.skip)}:
            return f"HOOKCHAIN_DISABLE_PLUGINS={os.environ['HOOKCHAIN_DISABLE_PLUGINS']} excludes it"
        return None

    def _assemble(self, indexed: list[tuple[Any, dict[str, Any]]]) -> list[_Installed]:
        out, taken = [], {}
        for ep, record in indexed:
            item = _Installed(ep, record, self._excluded(ep))
            if item.excluded is None:
                if ep.name in taken:
                    item.rename(f"{ep.name}#{len(out)}", f"plugin name {ep.name!r} is already taken by {taken[ep.name].label}")
                else:
                    taken[ep.name] = item.info
                if item.info.error:
                    _warn("hookchain plugin %s: %s", item.info.label, item.info.error)
            out.append(item)
        return out

    # -- loading ------------------------------------------------------------ #
    def load(self, item: _Installed) -> None:
        """Import ``item``'s module and register it for real (once)."""
        with self.lock:
            if item.loaded or not item.loadable:
                return
            item.loaded = True
            info = PluginInfo(item.info.name, item.info.distribution, item.info.version)
            obj, error = _guarded(item.ep.load)
            if error is not None:
                self._fail(info, f"failed to import {item.ep.value!r}: {error}")
            else:
                self.add(obj, info, installed=True)

    def load_all(self) -> None:
        with self.lock:
            for item in self.enabled():
                self.load(item)
            self.complete = True

    def _fail(self, info: PluginInfo, error: str) -> None:
        info.error = error if info.error is None else f"{info.error}; {error}"
        self.plugins.setdefault(info.name, info)
        _warn("hookchain plugin %s: %s", info.label, error)

    def owner(self, name: str) -> Optional[PluginInfo]:
        """The plugin (registered here, or installed and enabled) named ``name``."""
        if name in self.plugins:
            return self.plugins[name]
        return next((p.info for p in self.enabled() if p.info.name == name), None)

    def add(self, obj: Any, info: PluginInfo, installed: bool = False) -> PluginInfo:
        """Register ``obj`` as plugin ``info.name`` (``installed``: loaded from
        its entry point, whose name the index reserved); returns the
        ``PluginInfo`` recording the outcome (a renamed one with an error if the
        name is taken)."""
        with self.lock:
            owner = self.plugins.get(info.name) if installed else self.owner(info.name)
            if owner is not None:
                taken = PluginInfo(f"{info.name}#{len(self.plugins)}", info.distribution, info.version)
                self._fail(taken, f"plugin name {info.name!r} is already taken by {owner.label}")
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
                            info.names(kind).append(entry.name)
            return info

    def _register_fn(self, kind: str, info: PluginInfo, staged: list[_Entry]) -> Callable[[str, Callable[..., Any]], None]:
        def register(name: str, factory: Callable[..., Any]) -> None:
            if not isinstance(name, str) or not name or ":" in name:
                raise PluginError(f"{kind} names must be non-empty strings without ':', got {name!r}")
            if not callable(factory):
                raise PluginError(f"{kind} {name!r} factory must be a class or callable, got {type(factory).__name__}")
            staged.append(_Entry(name, factory, info))

        return register

    def call(self, hook_name: str, plugin: Optional[str], kwargs: dict[str, Any]) -> None:
        """Call ``hook_name`` on the loaded plugins (or only ``plugin``), one at
        a time; a plugin that fails is recorded and the others still run."""
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            if plugin is None or impl.plugin_name == plugin:
                _, error = _guarded(impl.function, **kwargs)
                info = self.plugins.get(impl.plugin_name)
                if error is not None and info is not None:
                    self._fail(info, f"{hook_name} raised {error}")

    # -- lookup ----------------------------------------------------------------- #
    def infos(self) -> list[PluginInfo]:
        """Installed plugins (as loaded here, else as indexed), then plugins registered in code."""
        out = [self.plugins.get(p.info.name, p.info) if p.loaded else p.info for p in self.enabled()]
        listed = {p.name for p in out}
        return out + [p for name, p in self.plugins.items() if name not in listed]

    def names(self, kind: str) -> dict[str, list[str]]:
        table: dict[str, list[str]] = {}
        for info in self.infos():
            for name in dict.fromkeys(info.names(kind)):
                table.setdefault(name, []).append(info.name)
        return dict(sorted(table.items()))

    def _entries(self, kind: str, plugin: str, short: str) -> list[_Entry]:
        return [e for e in self.kinds[kind].get(short, []) if not plugin or e.plugin.name == plugin]

    def entry(self, kind: str, name: str) -> _Entry:
        plugin, _, short = name.rpartition(":")
        with self.lock:
            for item in self.enabled():  # import only the plugins the index says provide it
                if short in item.info.names(kind) and plugin in ("", item.info.name):
                    self.load(item)
            entries = self._entries(kind, plugin, short)
            if not entries and not self.complete:  # the index may be out of date: never trust it over the plugins
                self.load_all()
                entries = self._entries(kind, plugin, short)
                if entries:
                    plugin_index.forget()
        if not entries:
            raise UnknownNameError(kind, name, self.names(kind), self._hint(kind, short))
        if len(entries) > 1:
            raise PluginError(
                f"{kind} {name!r} is registered by several plugins: "
                f"{', '.join(e.plugin.label for e in entries)}; choose one as "
                f"{' or '.join(repr(e.plugin.name + ':' + name) for e in entries)}"
            )
        return entries[0]

    def _hint(self, kind: str, short: str) -> str:
        """Why an unknown name is unknown, when a setting or a failure explains it."""
        hints = []
        if self.autoload:
            for item in self.installed():
                why = f"{self.autoload_off} loads no installed plugin" if self.autoload_off else item.excluded
                if why and short in item.info.names(kind):
                    hints.append(f" Plugin {item.info.label} provides it, but {why}.")
        broken = [p.label for p in self.infos() if p.error]
        if broken:
            hints.append(f" Plugins that failed to load: {', '.join(broken)} (see `hookchain plugins`).")
        return "".join(hints)


_registry: Optional[_Registry] = None
_lock = threading.Lock()


def _get() -> _Registry:
    global _registry
    if _registry is None:
        with _lock:
            if _registry is None:
                _registry = _Registry()
    return _registry


def reset() -> None:
    """Forget every loaded plugin; the next lookup discovers them again."""
    global _registry
    with _lock:
        _registry = None


def refresh() -> None:
    """Rebuild the plugin index of every installed plugin (each is imported,
    in a child process) and forget the loaded plugins."""
    reset()
    _get().installed(refresh=True)


def _inspect(ep: Any) -> dict[str, Any]:
    """Load entry point ``ep`` into a registry of its own and describe what it
    registers: the index record (``hookchain.plugin_index``). Runs in the
    indexing child process."""
    import click

    global _registry
    _registry = registry = _Registry(autoload=False)  # a hook calling back into the registry sees this one
    info = PluginInfo(ep.name)
    obj, error = _guarded(ep.load)
    commands: dict[str, dict[str, Any]] = {}
    if error is not None:
        registry._fail(info, f"failed to import {ep.value!r}: {error}")
    else:
        registry.add(obj, info)
        group = click.Group()
        registry.call("register_commands", info.name, {"cli": group})
        commands = {name: {"help": c.help, "short_help": c.short_help} for name, c in group.commands.items()}
    return {"hooks": info.hooks, "models": info.models, "handlers": info.handlers, "commands": commands,
            "imported": error is None, "error": info.error}


def get_plugin_manager() -> pluggy.PluginManager:
    """The process's pluggy ``PluginManager``, with every enabled installed
    plugin imported and registered."""
    registry = _get()
    registry.load_all()
    return registry.pm


def register_plugin(obj: Any, name: Optional[str] = None) -> PluginInfo:
    """Register a module or object holding hookimpls, as if found through an
    entry point (for applications and tests). Returns its ``PluginInfo``;
    failures are recorded there rather than raised."""
    info = PluginInfo(name or getattr(obj, "__name__", type(obj).__name__))
    return _get().add(obj, info)


def call_registration_hook(hook_name: str, **kwargs: Any) -> None:
    """Call ``hook_name`` (e.g. ``register_commands``) on every enabled plugin
    (importing the installed ones), one plugin at a time: a plugin that raises
    is recorded and logged, the others still run."""
    registry = _get()
    registry.load_all()
    registry.call(hook_name, None, kwargs)


def plugin_commands() -> dict[str, tuple[str, dict[str, Any]]]:
    """Commands the enabled installed plugins add (``register_commands``), from
    the index, nothing imported: ``{command: (plugin, {"help", "short_help"})}``."""
    return {name: (item.info.name, text) for item in _get().enabled() for name, text in item.commands.items()}


def add_plugin_commands(cli: Any, plugin: Optional[str] = None) -> None:
    """Call ``register_commands(cli)`` of plugin ``plugin`` (imported if
    needed), or of every plugin already registered in this process (none is
    imported). Each plugin's hook runs once per ``cli``."""
    registry = _get()
    with registry.lock:
        if plugin is not None:
            for item in registry.enabled():
                if item.info.name == plugin:
                    registry.load(item)
        done = cli.__dict__.setdefault("_hookchain_commands_from", set())
        for name in [plugin] if plugin is not None else list(registry.plugins):
            if name not in done and name in registry.plugins:
                done.add(name)
                registry.call("register_commands", name, {"cli": cli})


def adapt_handler(obj: Any) -> Any:
    """A hookchain handler standing for ``obj``, a callback handler of another
    library, from the plugins' ``adapt_callback_handler`` hook; ``None`` when no
    plugin knows it. Imports only the plugins the index lists with that hook."""
    registry = _get()
    with registry.lock:
        for item in registry.enabled():
            if "adapt_callback_handler" in item.info.hooks:
                registry.load(item)
    return registry.pm.hook.adapt_callback_handler(handler=obj)


def list_plugins() -> list[PluginInfo]:
    """Every enabled plugin, including those that failed to load, as the index
    describes it (or as loaded in this process); no plugin is imported here."""
    return _get().infos()


def list_models() -> dict[str, list[str]]:
    """Registered model names mapped to the plugins that registered them
    (from the index: no plugin is imported)."""
    return _get().names("model")


def list_handlers() -> dict[str, list[str]]:
    """Registered handler names mapped to the plugins that registered them
    (from the index: no plugin is imported)."""
    return _get().names("handler")


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


def _build(kind: str, name: str, expected: Any, options: dict[str, Any]) -> Any:
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
        kinds = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise PluginError(f"{where}: factory returned {type(obj).__name__}, not a {kinds}")
    return obj


def get_model(name: str, **options: Any) -> Any:
    """Build the chat model registered as ``name`` (``"PLUGIN:NAME"`` to pick one
    plugin's) with ``options`` (keyword options, validated).

    Returns a ``hookchain.language_models.BaseChatModel``, or a ``BaseLLM`` when
    the plugin registers a text-completion model (e.g. ``echo-llm``).
    Raises ``UnknownNameError`` listing the known models, ``OptionError`` naming
    the bad option and the allowed ones, ``PluginError`` when several plugins
    claim ``name`` or the factory returns something else.
    """
    from hookchain.language_models import BaseChatModel, BaseLLM

    return _build("model", name, (BaseChatModel, BaseLLM), options)


def get_handler(name: str, **options: Any) -> Any:
    """Build the callback handler registered as ``name`` with ``options``; errors
    as ``get_model``. Returns a ``BaseCallbackHandler`` or ``AsyncCallbackHandler``."""
    from hookchain.callbacks.base import _HandlerBase

    return _build("handler", name, _HandlerBase, options)
