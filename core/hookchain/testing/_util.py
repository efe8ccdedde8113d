"""Helpers shared by the conformance suites."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Iterable, NoReturn, Optional

import pytest


class _NotSet:
    def __repr__(self) -> str:
        return "NOT_SET"

    def __bool__(self) -> bool:
        return False


NOT_SET: Any = _NotSet()


def fail(message: str) -> NoReturn:
    """Fail the current check with ``message`` alone (the suite's traceback would
    only point into hookchain.testing, not at the plugin's code)."""
    pytest.fail(message, pytrace=False)


def check(condition: Any, message: str) -> None:
    if not condition:
        fail(message)


def short(value: Any, limit: int = 80, quote: bool = True) -> str:
    """``repr(value)`` (``value`` itself for a str when not ``quote``), cut to ``limit`` characters."""
    text = value if isinstance(value, str) and not quote else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run(coro: Any) -> Any:
    """Run a coroutine from a sync test (no pytest-asyncio needed)."""
    return asyncio.run(coro)


async def alist(aiter: Any) -> list[Any]:
    return [x async for x in aiter]


def text_of(message: Any) -> str:
    """The text of a message or chunk (``.text``, for list contents too)."""
    text = getattr(message, "text", None)
    if isinstance(text, str):  # hookchain's and LangChain 1.x's (a callable str)
        return text
    if callable(text):  # LangChain < 1.0 style .text()
        text = text()
    if isinstance(text, str):
        return text
    content = getattr(message, "content", message)
    return content if isinstance(content, str) else str(content)


def secret_value_of(value: Any) -> Any:
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else value


def is_secret_annotation(annotation: Any) -> bool:
    """True for ``SecretStr``/``SecretBytes`` and ``Optional[...]``/unions of them."""
    from pydantic import SecretBytes, SecretStr

    if annotation in (SecretStr, SecretBytes):
        return True
    return any(is_secret_annotation(a) for a in getattr(annotation, "__args__", ()) or ())


# --------------------------------------------------------------------------- #
# A minimal TOML writer for option tables (config files written by the suites)
# --------------------------------------------------------------------------- #

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def toml_value(value: Any) -> str:
    value = secret_value_of(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write option value {value!r} ({type(value).__name__}) to TOML; "
                    f"options in a config file are strings, numbers, booleans, arrays or tables")


def toml_table(header: str, options: dict[str, Any]) -> str:
    lines = [f"[{header}]"] + [f"{_toml_key(k)} = {toml_value(v)}" for k, v in options.items()]
    return "\n".join(lines) + "\n"


def describe_leaks(places: dict[str, str], needles: dict[str, str]) -> Optional[str]:
    """Where any needle (a planted secret) occurs in ``places`` ({where: text})."""
    found: dict[str, list[str]] = {}
    for where, text in places.items():
        for option, needle in needles.items():
            if needle and needle in text:
                found.setdefault(option, []).append(where)
    if not found:
        return None
    parts = []
    for option, wheres in found.items():
        shown = ", ".join(wheres[:6]) + (f" and {len(wheres) - 6} more" if len(wheres) > 6 else "")
        parts.append(f"secret option {option!r} leaks: its value appears in {shown}")
    return "; ".join(parts)


def payload_places(events: Iterable[Any], prefix: str = "") -> dict[str, str]:
    """``{where: repr}`` for every argument of every recorded callback event."""
    places: dict[str, str] = {}
    for event in events:
        for i, arg in enumerate(event.args):
            where = f"{prefix}{event.name} argument {i}"
            places[where] = places.get(where, "") + "\n" + repr(arg) + " " + str(arg)
        for key, value in event.kwargs.items():
            where = f"{prefix}{event.name} {key}="
            places[where] = places.get(where, "") + "\n" + repr(value) + " " + str(value)
    return places


class OptionChecks:
    """The option-validation checks both suites share: an unknown option and
    ``bad_option`` must raise ``hookchain.errors.OptionError`` naming the option.
    A suite provides ``_build_with(**options)`` and the advice strings."""

    bad_option: Any = None
    _wrong_error_advice = ""
    _accepted_advice = ""

    def _build_with(self, **options: Any) -> Any:
        raise NotImplementedError

    def _rejects(self, option: str, value: Any, what: str) -> None:
        from hookchain.errors import OptionError

        try:
            self._build_with(**{option: value})
        except OptionError as e:
            check(option in str(e), f"{what} {option}={value!r} was rejected, but the OptionError does not name the option: {e}")
        except Exception as e:  # noqa: BLE001 - reported
            fail(f"{what} {option}={value!r} raised {type(e).__name__}: {e}; {self._wrong_error_advice}")
        else:
            fail(f"{what} {option}={value!r} was accepted: {self._accepted_advice}")

    def test_unknown_option_rejected(self) -> None:
        self._rejects("hookchain_conformance_no_such_option", 1, "unknown option")

    def test_bad_option_rejected(self) -> None:
        if self.bad_option is None:
            pytest.skip("set bad_option = (option, invalid value) to check option validation")
        option, value = self.bad_option
        self._rejects(option, value, "bad option")


def check_discovered(suite: str, model_name: str, base: type, make: Any) -> None:
    """Fail unless ``model_name`` ("NAME" or "PLUGIN:NAME") is registered by a
    plugin found through an entry point of the ``hookchain`` group, loaded
    without error, and ``make()`` builds an instance of ``base``."""
    from hookchain.plugins import list_models, list_plugins

    try:
        from importlib_metadata import entry_points
    except ImportError:  # pragma: no cover - Python >= 3.12 without the backport
        from importlib.metadata import entry_points  # type: ignore[assignment]

    if not model_name:
        fail(f"{suite}: set model_name to the name your plugin registers (class attribute)")
    plugin_name, _, name = model_name.rpartition(":")
    models = list_models()
    broken = [f"{p.label}: {p.error}" for p in list_plugins() if p.error]
    check(name in models, f"model {name!r} is not registered by any plugin (registered models: {', '.join(models) or 'none'}). "
                          f"Is the distribution installed (pip install -e .) and does its pyproject.toml declare "
                          f"[project.entry-points.hookchain]?" + (f" Plugins that failed to load: {'; '.join(broken)}" if broken else ""))
    providers = [p for p in list_plugins() if name in p.models and (not plugin_name or p.name == plugin_name)]
    check(providers, f"model {name!r} is not registered by plugin {plugin_name!r} (registered by: {', '.join(models[name])})")
    group = {ep.name for ep in entry_points(group="hookchain")}
    for plugin in providers:
        check(plugin.distribution, f"model {name!r} is registered by plugin {plugin.name!r}, which has no distribution: it was "
                                   f"registered in code (register_plugin), not found through an entry point of the 'hookchain' group")
        check(plugin.name in group, f"plugin {plugin.name!r} is not an entry point of the 'hookchain' group")
        check(plugin.error is None, f"plugin {plugin.label} loaded with an error: {plugin.error}")
    model = make()
    check(isinstance(model, base), f"get_model({model_name!r}) returned {type(model).__name__}, not a {base.__name__}")
