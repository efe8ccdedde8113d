"""``CallbackHandlerConformance``: the standard checks for a handler plugin.

Subclass it in a test module (class name starting with ``Test``) and set
``handler_name`` (and ``handler_options``). A check that does not apply can be
turned off by setting it to ``None`` in the subclass, with a comment saying why.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from pathlib import Path
from typing import Any, ClassVar, Optional, Sequence

import pytest

from hookchain.testing._util import (
    OptionChecks,
    NOT_SET, _toml_key, alist, check, describe_leaks, fail, run, secret_value_of, short, toml_table,
)
from hookchain.testing.recording import isolated

__all__ = ["CallbackHandlerConformance"]

_LOGGER = "hookchain.callbacks"


def _handler_errors(records: Sequence[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.name == _LOGGER and r.getMessage().startswith("Error in ")]


def _raising_class(cls: type) -> type:
    """A subclass of ``cls`` whose every callback event raises."""
    from hookchain.callbacks import AsyncCallbackHandler
    from hookchain.hookspecs import CALLBACK_EVENTS
    from hookchain.testing.models import ConformanceFailure

    asynchronous = issubclass(cls, AsyncCallbackHandler)

    def make(event: str) -> Any:
        if asynchronous:
            async def method(self: Any, *args: Any, **kwargs: Any) -> None:
                raise ConformanceFailure(f"planted failure in {event}")
        else:
            def method(self: Any, *args: Any, **kwargs: Any) -> None:
                raise ConformanceFailure(f"planted failure in {event}")
        method.__name__ = event
        return method

    namespace: dict[str, Any] = {event: make(event) for event in CALLBACK_EVENTS}
    namespace["__slots__"] = ()  # same layout, so an instance can switch to it
    namespace["__module__"] = cls.__module__
    return type(f"Raising{cls.__name__}", (cls,), namespace)


class CallbackHandlerConformance(OptionChecks):
    """Standard checks for a callback handler plugin. Set in your subclass:

    Attributes:
        handler_name: the name your plugin registers (required), or ``"PLUGIN:NAME"``.
        handler_options: options to build it with (as ``hookchain.get_handler``),
            also written to a config file's ``[handlers.NAME]`` table.
        option_attributes: ``{option: attribute}`` where the handler keeps an
            option under another attribute name (default: the option's name;
            ``None`` skips that option's check).
        bad_option: ``(option, value)`` that must be rejected.
        secret_options: options holding secrets; their planted value
            (``secret_value``) must not appear in ``repr``/``str`` of the handler.
    """

    handler_name: ClassVar[str] = ""
    handler_options: ClassVar[dict[str, Any]] = {}
    option_attributes: ClassVar[dict[str, Optional[str]]] = {}
    bad_option: ClassVar[Optional[tuple[str, Any]]] = None
    secret_options: ClassVar[Sequence[str]] = ()
    secret_value: ClassVar[str] = "hookchain-conformance-secret-9d41c07e"

    @pytest.fixture(autouse=True)
    def _hookchain_isolated(self) -> Any:
        with isolated():
            yield

    def make_handler(self, **options: Any) -> Any:
        """Build the handler as a user would: ``hookchain.get_handler(handler_name, **handler_options, **options)``."""
        import hookchain

        if not self.handler_name:
            fail(f"{type(self).__name__}: set handler_name to the name your plugin registers (class attribute)")
        return hookchain.get_handler(self.handler_name, **{**self.handler_options, **options})

    @pytest.fixture
    def handler(self) -> Any:
        return self.make_handler()

    # -- runs driving the handler ------------------------------------------ #
    @staticmethod
    def _chain(fail: bool = False) -> Any:
        from hookchain.callbacks import dispatch_custom_event
        from hookchain.prompts import ChatPromptTemplate
        from hookchain.runnables import RunnableLambda
        from hookchain.testing.models import ConformanceChatModel

        def shout(message: Any) -> str:
            dispatch_custom_event("conformance", {"chars": len(message.content)})
            return message.content.upper()

        prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "Tell me about {animal}")])
        return prompt | ConformanceChatModel(fail=fail) | RunnableLambda(shout)

    def _drive(self, handler: Any) -> list[str]:
        """Run prompt | model | lambda every way with ``handler`` attached; returns
        what went wrong (outputs, or exceptions escaping the runs)."""
        from hookchain.testing.models import ConformanceFailure

        chain, expected = self._chain(), "TELL ME ABOUT BEARS"
        config = {"callbacks": [handler], "tags": ["conformance"], "metadata": {"conformance_suite": "handler"}}
        value = {"animal": "bears"}
        problems: list[str] = []

        def attempt(api: str, call: Any, want: Any = expected) -> None:
            try:
                got = call()
            except Exception as e:  # noqa: BLE001 - reported
                problems.append(f"{api} raised {type(e).__name__}: {short(str(e), 200, quote=False)}")
                return
            if want is not NOT_SET and got != want:
                problems.append(f"{api} returned {short(got)}, expected {short(want)}")

        async def events() -> Any:
            return [e["event"] async for e in chain.astream_events(value, config=config, version="v2")][-1]

        attempt("invoke", lambda: chain.invoke(value, config=config))
        attempt("stream", lambda: "".join(chain.stream(value, config=config)))
        attempt("batch", lambda: chain.batch([value, value], config=config), [expected, expected])
        attempt("ainvoke", lambda: run(chain.ainvoke(value, config=config)))
        attempt("astream", lambda: "".join(run(alist(chain.astream(value, config=config)))))
        attempt("abatch", lambda: run(chain.abatch([value, value], config=config)), [expected, expected])
        attempt("astream_events", lambda: run(events()), "on_chain_end")
        for api in ("invoke", "ainvoke"):
            failing = self._chain(fail=True)
            try:
                if api == "invoke":
                    failing.invoke(value, config=config)
                else:
                    run(failing.ainvoke(value, config=config))
            except ConformanceFailure:
                pass
            except Exception as e:  # noqa: BLE001 - reported
                problems.append(f"a failing model's {api} raised {type(e).__name__}: {short(str(e), 200, quote=False)} instead of the model's error")
            else:
                problems.append(f"a failing model's {api} did not raise")
        return problems

    # -- checks ------------------------------------------------------------ #
    def test_discovered_through_entry_point(self) -> None:
        """The name resolves through hookchain.plugins, registered by a plugin
        an installed distribution declares in the ``hookchain`` entry-point group."""
        from hookchain.callbacks.base import _HandlerBase
        from hookchain.plugins import list_handlers, list_plugins

        try:
            from importlib_metadata import entry_points
        except ImportError:  # pragma: no cover
            from importlib.metadata import entry_points  # type: ignore[assignment]

        if not self.handler_name:
            fail(f"{type(self).__name__}: set handler_name to the name your plugin registers (class attribute)")
        plugin_name, _, name = self.handler_name.rpartition(":")
        handlers = list_handlers()
        broken = [f"{p.label}: {p.error}" for p in list_plugins() if p.error]
        check(name in handlers, f"handler {name!r} is not registered by any plugin (registered handlers: {', '.join(handlers) or 'none'}). "
                                f"Is the distribution installed (pip install -e .) and does its pyproject.toml declare "
                                f"[project.entry-points.hookchain]?" + (f" Plugins that failed to load: {'; '.join(broken)}" if broken else ""))
        providers = [p for p in list_plugins() if name in p.handlers and (not plugin_name or p.name == plugin_name)]
        check(providers, f"handler {name!r} is not registered by plugin {plugin_name!r} (registered by: {', '.join(handlers[name])})")
        group = {ep.name for ep in entry_points(group="hookchain")}
        for plugin in providers:
            check(plugin.distribution, f"handler {name!r} is registered by plugin {plugin.name!r}, which has no distribution: it was "
                                       f"registered in code (register_plugin), not found through an entry point of the 'hookchain' group")
            check(plugin.name in group, f"plugin {plugin.name!r} is not an entry point of the 'hookchain' group")
            check(plugin.error is None, f"plugin {plugin.label} loaded with an error: {plugin.error}")
        handler = self.make_handler()
        check(isinstance(handler, _HandlerBase), f"get_handler({self.handler_name!r}) returned {type(handler).__name__}, "
                                                 f"not a BaseCallbackHandler or AsyncCallbackHandler")

    def test_every_event_accepts_langchain_arguments(self, handler: Any) -> None:
        """Each of the callback events, called directly as LangChain calls it
        (positional arguments, then run_id, parent_run_id, tags, metadata and
        the event's extra keywords), returns without raising."""
        from hookchain.hookspecs import CALLBACK_EVENTS
        from hookchain.messages import get_buffer_string
        from hookchain.testing.samples import event_calls

        calls = event_calls()
        missing = set(CALLBACK_EVENTS) - {c[0] for c in calls}
        check(not missing, f"hookchain.testing has no sample call for events {sorted(missing)} (a hookchain bug)")
        failures: dict[str, str] = {}  # event -> its first failure

        async def call_all() -> None:
            for event, args, kwargs in calls:
                shown = f"{event}({', '.join([*(short(a, 40) for a in args), *(f'{k}=...' for k in kwargs)])})"
                try:
                    result = getattr(handler, event)(*args, **kwargs)
                    if inspect.isawaitable(result):
                        await result
                except NotImplementedError:
                    if event != "on_chat_model_start":
                        failures.setdefault(event, f"{shown} raised NotImplementedError")
                        continue
                    # As LangChain: fall back to on_llm_start with the messages as strings.
                    try:
                        result = handler.on_llm_start(args[0], [get_buffer_string(m) for m in args[1]], **kwargs)
                        if inspect.isawaitable(result):
                            await result
                    except Exception as e:  # noqa: BLE001 - reported
                        failures.setdefault(event, f"on_llm_start (the fallback of on_chat_model_start) raised {type(e).__name__}: {e}")
                except Exception as e:  # noqa: BLE001 - reported
                    failures.setdefault(event, f"{shown} raised {type(e).__name__}: {e}")

        asyncio.run(call_all())
        check(not failures, f"{type(handler).__name__}: {len(failures)} event(s) failed when called with LangChain's arguments "
                            f"(accept **kwargs in every event method):\n  " + "\n  ".join(failures.values()))
        for flag in ("raise_error", "run_inline", "ignore_llm", "ignore_chain", "ignore_agent", "ignore_retriever",
                     "ignore_chat_model", "ignore_retry", "ignore_custom_event"):
            value = getattr(handler, flag)
            check(isinstance(value, bool), f"{type(handler).__name__}.{flag} is {value!r}, not a bool")

    def test_handler_in_real_runs(self, handler: Any, caplog: Any) -> None:
        """Attached to real runs (invoke, stream, batch, async, astream_events, a
        failing model), the handler raises nothing: no 'Error in ...' is logged."""
        caplog.set_level(logging.WARNING, logger=_LOGGER)
        problems = self._drive(handler)
        errors = _handler_errors(caplog.records)
        check(not problems and not errors, f"{type(handler).__name__} failed in real runs:\n  " + "\n  ".join([*errors, *problems]))

    def test_raising_handler_never_breaks_a_run(self, handler: Any, caplog: Any) -> None:
        """With every event made to raise, every run still completes with the
        right output (the errors are logged). Needs ``raise_error = False``."""
        check(handler.raise_error is False,
              f"{type(handler).__name__}.raise_error is {handler.raise_error!r}: an error in the handler would stop every run it "
              f"is attached to; leave raise_error False (the error is then logged and the run goes on)")
        cls = type(handler)
        try:
            handler.__class__ = _raising_class(cls)
        except TypeError as e:
            fail(f"could not derive a raising subclass of {cls.__name__} ({e}); turn this check off if your handler uses __slots__")
        caplog.set_level(logging.WARNING, logger=_LOGGER)
        try:
            problems = self._drive(handler)
        finally:
            handler.__class__ = cls
        check(not problems, f"a {cls.__name__} whose events raise broke runs:\n  " + "\n  ".join(problems))

    def _config_file(self, tmp_path: Path, text: str, name: str = "hookchain.toml") -> Any:
        from hookchain import config

        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return config.load(path)

    def test_options_from_config_reach_handler(self, handler: Any, tmp_path: Path) -> None:
        """A ``[handlers.NAME]`` table in hookchain.toml (and ``[tool.hookchain.handlers.NAME]``
        in pyproject.toml) builds the handler with those options; ``enabled = false`` builds none."""
        key = _toml_key(self.handler_name)
        for file, header in (("hookchain.toml", f"handlers.{key}"), ("pyproject.toml", f"tool.hookchain.handlers.{key}")):
            cfg = self._config_file(tmp_path, toml_table(header, self.handler_options), file)
            built = cfg.build_handlers()
            check(len(built) == 1 and type(built[0]) is type(handler),
                  f"{file} with [{header}] built {short(built)}, expected one {type(handler).__name__}")
            for option, value in self.handler_options.items():
                attribute = self.option_attributes.get(option, option)
                if attribute is None:
                    continue
                check(hasattr(built[0], attribute),
                      f"option {option!r} from [{header}] in {file}: the handler has no attribute {attribute!r}; "
                      f"set option_attributes = {{{option!r}: 'attribute_name'}} if it keeps the option elsewhere")
                actual = getattr(built[0], attribute)
                check(secret_value_of(actual) == secret_value_of(value),
                      f"option {option!r} = {short(value)} from [{header}] in {file} did not reach the handler: "
                      f"its {attribute} is {short(actual)}")
        disabled = self._config_file(tmp_path, toml_table(f"handlers.{key}", {**self.handler_options, "enabled": False}))
        check(disabled.build_handlers() == [], "a [handlers.NAME] table with enabled = false still built the handler")

    _wrong_error_advice = 'hookchain.get_handler reports bad options as hookchain.errors.OptionError (declare options_model, a pydantic model, on the handler class)'
    _accepted_advice = "declare options_model (a pydantic model with extra='forbid') on the handler class, or take no **kwargs in __init__"

    def _build_with(self, **options: Any) -> Any:
        return self.make_handler(**options)

    def test_secrets_stay_out_of_repr(self) -> None:
        if not self.secret_options:
            pytest.skip("secret_options is empty")
        handler = self.make_handler(**{name: self.secret_value for name in self.secret_options})
        leaks = describe_leaks({"repr(handler)": repr(handler), "str(handler)": str(handler)},
                               {name: self.secret_value for name in self.secret_options})
        check(leaks is None, f"{leaks}; keep secrets out of the handler's repr (e.g. in a pydantic.SecretStr)")
