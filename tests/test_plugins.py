"""Plugin discovery through the ``hookchain`` entry-point group and the
model/handler registry (``hookchain.plugins``).

The two plugin distributions of this repository (``hookchain-echo``,
``hookchain-stdout``) are installed in the test environment and found as any
third-party plugin would be. Broken or colliding plugins are real
distributions too: a ``*.dist-info`` directory (METADATA + entry_points.txt)
and a module, written to a temporary directory put on ``sys.path``.

Discovery is process-global and cached; every test here starts and ends with
``hookchain.plugins.reset()``.
"""

from __future__ import annotations

import os
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

import hookchain
from hookchain import plugins
from hookchain.callbacks import BaseCallbackHandler
from hookchain.errors import HookchainError, OptionError, PluginError, UnknownNameError
from hookchain.language_models import BaseChatModel
from hookchain_echo import EchoChatModel
from hookchain_stdout import StdOutHandler

ECHO_VERSION = version("hookchain-echo")
STDOUT_VERSION = version("hookchain-stdout")

_TMP_MODULE_PREFIX = "hc_tmp_plugin_"


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    """Rediscover plugins for each test, with the environment variables unset,
    and forget whatever the test loaded afterwards."""
    monkeypatch.delenv("HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("HOOKCHAIN_PLUGINS", raising=False)
    plugins.reset()
    yield
    plugins.reset()
    for name in [m for m in sys.modules if m.startswith(_TMP_MODULE_PREFIX)]:
        del sys.modules[name]


def make_distribution(root: Path, dist: str, dist_version: str, entry_points: dict[str, str],
                      modules: dict[str, str]) -> None:
    """Write an installed distribution ``dist`` under ``root``: its dist-info
    (``entry_points`` in group ``hookchain``: name -> module) and ``modules``
    (module name -> source)."""
    info = root / f"{dist.replace('-', '_')}-{dist_version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {dist_version}\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[hookchain]\n{lines}")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A directory on ``sys.path`` for temporary distributions; returns a
    function adding one (same arguments as ``make_distribution`` minus root)."""
    root = tmp_path / "site"
    root.mkdir()

    def add(*args, **kwargs):
        make_distribution(root, *args, **kwargs)
        plugins.reset()

    monkeypatch.syspath_prepend(str(root))
    return add


BROKEN_IMPORT = f"{_TMP_MODULE_PREFIX}broken"
RAISING_REGISTER = f"{_TMP_MODULE_PREFIX}raiser"


@pytest.fixture
def broken_plugins(site):
    site("hookchain-broken", "1.0", {"broken": BROKEN_IMPORT},
         {BROKEN_IMPORT: 'raise ImportError("missing dependency: frobnicate")\n'})
    site("hookchain-raiser", "2.0", {"raiser": RAISING_REGISTER}, {RAISING_REGISTER: '''
        import hookchain

        @hookchain.hookimpl
        def register_models(register):
            raise RuntimeError("no GPU found")
    '''})


def by_name() -> dict[str, plugins.PluginInfo]:
    return {p.name: p for p in plugins.list_plugins()}


# --------------------------------------------------------------------------- #
# The installed plugins
# --------------------------------------------------------------------------- #


def test_installed_plugins_are_discovered_with_their_distribution():
    found = by_name()
    assert set(found) == {"echo", "stdout"}
    assert found["echo"].as_dict() == {
        "name": "echo", "distribution": "hookchain-echo", "version": ECHO_VERSION,
        "hooks": ["register_models"], "models": ["echo", "echo-llm"], "handlers": [], "error": None,
    }
    assert found["stdout"].as_dict() == {
        "name": "stdout", "distribution": "hookchain-stdout", "version": STDOUT_VERSION,
        "hooks": ["register_handlers"], "models": [], "handlers": ["stdout"], "error": None,
    }
    assert found["echo"].label == f"echo (hookchain-echo {ECHO_VERSION})"


def test_list_models_and_handlers():
    assert plugins.list_models() == {"echo": ["echo"], "echo-llm": ["echo"]}
    assert plugins.list_handlers() == {"stdout": ["stdout"]}


def test_plugin_manager_has_the_plugins_registered():
    pm = plugins.get_plugin_manager()
    assert {name for name, _ in pm.list_name_plugin()} >= {"echo", "stdout"}
    assert pm.hook.register_models.get_hookimpls()


def test_get_model_builds_the_echo_model_with_options():
    model = hookchain.get_model("echo", n=4)
    assert type(model) is EchoChatModel
    assert isinstance(model, BaseChatModel)
    assert model.n == 4
    assert model.invoke("Tell me a joke").content == "Tell"
    assert plugins.get_model("echo").n == 200


def test_get_model_passes_streaming_and_callbacks():
    tokens = []

    class Tokens(BaseCallbackHandler):
        def on_llm_new_token(self, token, **kwargs):
            tokens.append(token)

    model = hookchain.get_model("echo", streaming=True, callbacks=[Tokens()], n=3)
    assert model.invoke("bears").content == "bea"
    assert tokens == ["b", "e", "a", ""]


def test_get_handler_builds_the_stdout_handler_with_options():
    handler = hookchain.get_handler("stdout", runs=True, tokens=False)
    assert type(handler) is StdOutHandler
    assert (handler.runs, handler.tokens) == (True, False)


def test_options_are_validated_and_coerced_like_cli_strings():
    # The CLI passes -o values as strings; pydantic's coercion applies.
    assert hookchain.get_model("echo", n="5").n == 5
    assert hookchain.get_handler("stdout", runs="true").runs is True


# --------------------------------------------------------------------------- #
# Errors for unknown names and bad options
# --------------------------------------------------------------------------- #


def test_unknown_model_lists_known_models():
    with pytest.raises(UnknownNameError) as info:
        hookchain.get_model("gpt-9")
    message = str(info.value)
    assert message == "unknown model 'gpt-9'; known models: echo, echo-llm."
    assert isinstance(info.value, LookupError) and isinstance(info.value, HookchainError)
    assert info.value.known == ["echo", "echo-llm"]


def test_unknown_handler_lists_known_handlers():
    with pytest.raises(UnknownNameError, match=r"^unknown handler 'tracer'; known handlers: stdout\.$"):
        hookchain.get_handler("tracer")


def test_a_model_name_is_not_a_handler_name():
    with pytest.raises(UnknownNameError, match="known handlers: stdout"):
        hookchain.get_handler("echo")


def test_unknown_option_names_plugin_option_and_allowed_options():
    with pytest.raises(OptionError) as info:
        hookchain.get_model("echo", temperature=0.2)
    message = str(info.value)
    assert f"model 'echo' (plugin echo (hookchain-echo {ECHO_VERSION}))" in message
    assert "unknown option 'temperature'" in message
    allowed = message.split("allowed options: ", 1)[1].split(", ")
    assert {"n", "model_name", "streaming"} <= set(allowed)
    assert "callbacks" not in allowed  # a constructor argument, but not an option
    assert isinstance(info.value, ValueError)


def test_invalid_option_value_names_option_value_and_allowed_options():
    with pytest.raises(OptionError) as info:
        hookchain.get_model("echo", n=-1)
    message = str(info.value)
    assert "option 'n'" in message and "greater than or equal to 0" in message and "(got -1)" in message
    assert "allowed options:" in message and " n" in message


def test_unknown_handler_option_names_handler_and_allowed_options():
    with pytest.raises(OptionError) as info:
        hookchain.get_handler("stdout", colour="red")
    assert str(info.value) == (
        f"handler 'stdout' (plugin stdout (hookchain-stdout {STDOUT_VERSION})): unknown option 'colour'; "
        "allowed options: tokens, runs, token_format"
    )


def test_bad_handler_option_value():
    with pytest.raises(OptionError, match=r"option 'tokens'.*got 'maybe'.*allowed options: tokens, runs, token_format"):
        hookchain.get_handler("stdout", tokens="maybe")


# --------------------------------------------------------------------------- #
# Broken plugins do not break the others
# --------------------------------------------------------------------------- #


def test_plugin_that_fails_to_import_is_recorded_and_others_load(broken_plugins):
    found = by_name()
    assert set(found) == {"echo", "stdout", "broken", "raiser"}
    broken = found["broken"]
    assert (broken.distribution, broken.version) == ("hookchain-broken", "1.0")
    assert broken.error == f"failed to import '{BROKEN_IMPORT}': ImportError: missing dependency: frobnicate"
    assert broken.models == [] and broken.hooks == []
    # The installed plugins still work.
    assert hookchain.get_model("echo", n=2).invoke("hello").content == "he"
    assert isinstance(hookchain.get_handler("stdout"), StdOutHandler)


def test_plugin_whose_register_hook_raises_is_recorded(broken_plugins):
    raiser = by_name()["raiser"]
    assert (raiser.distribution, raiser.version) == ("hookchain-raiser", "2.0")
    assert raiser.hooks == ["register_models"]
    assert raiser.error == "register_models raised RuntimeError: no GPU found"
    assert plugins.list_models() == {"echo": ["echo"], "echo-llm": ["echo"]}


def test_unknown_name_hints_at_plugins_that_failed(broken_plugins):
    with pytest.raises(UnknownNameError) as info:
        hookchain.get_model("llama")
    message = str(info.value)
    assert message.startswith("unknown model 'llama'; known models: echo, echo-llm.")
    assert "broken (hookchain-broken 1.0)" in message and "raiser (hookchain-raiser 2.0)" in message
    assert "hookchain plugins" in message


def test_plugin_load_failure_is_logged(broken_plugins, caplog):
    with caplog.at_level("WARNING", logger="hookchain.plugins"):
        plugins.list_plugins()
    messages = [r.getMessage() for r in caplog.records]
    assert any("broken (hookchain-broken 1.0)" in m and "frobnicate" in m for m in messages)


def test_partial_registration_before_a_raise_keeps_other_plugins_intact(site):
    module = f"{_TMP_MODULE_PREFIX}half"
    site("hookchain-half", "0.3", {"half": module}, {module: '''
        import hookchain
        from hookchain_echo import EchoChatModel

        @hookchain.hookimpl
        def register_models(register):
            register("half-echo", EchoChatModel)
            raise ValueError("second model unavailable")

        @hookchain.hookimpl
        def register_handlers(register):
            raise KeyError("handlers too")
    '''})
    half = by_name()["half"]
    assert half.hooks == ["register_handlers", "register_models"]
    # Both failures are reported, not just the last one.
    assert half.error == (
        "register_models raised ValueError: second model unavailable; "
        "register_handlers raised KeyError: 'handlers too'"
    )
    # A hook that raised registers nothing, not half of its names.
    assert half.models == [] and half.handlers == []
    assert plugins.list_models() == {"echo": ["echo"], "echo-llm": ["echo"]}
    assert plugins.list_handlers() == {"stdout": ["stdout"]}
    with pytest.raises(UnknownNameError):
        hookchain.get_model("half-echo")
    assert hookchain.get_model("echo:echo").n == 200


def test_invalid_hook_implementation_is_recorded(site):
    module = f"{_TMP_MODULE_PREFIX}badimpl"
    site("hookchain-badimpl", "0.1", {"badimpl": module}, {module: '''
        import hookchain

        @hookchain.hookimpl
        def register_models(register, not_an_argument):
            pass
    '''})
    bad = by_name()["badimpl"]
    assert bad.error.startswith("invalid hook implementation:")
    assert "not_an_argument" in bad.error
    assert plugins.list_models() == {"echo": ["echo"], "echo-llm": ["echo"]}


def test_invalid_registered_name_is_recorded(site):
    module = f"{_TMP_MODULE_PREFIX}badname"
    site("hookchain-badname", "0.1", {"badname": module}, {module: '''
        import hookchain
        from hookchain_echo import EchoChatModel

        @hookchain.hookimpl
        def register_models(register):
            register("vendor:model", EchoChatModel)
    '''})
    assert "names must be non-empty strings without ':'" in by_name()["badname"].error
    assert plugins.list_models() == {"echo": ["echo"], "echo-llm": ["echo"]}


def test_entry_point_name_taken_by_another_distribution(site):
    module = f"{_TMP_MODULE_PREFIX}echofork"
    site("hookchain-echo-fork", "9.9", {"echo": module}, {module: '''
        import hookchain
        from hookchain_echo import EchoChatModel

        @hookchain.hookimpl
        def register_models(register):
            register("fork", EchoChatModel)
    '''})
    infos = [p for p in plugins.list_plugins() if p.name.split("#")[0] == "echo"]
    assert sorted(p.distribution for p in infos) == ["hookchain-echo", "hookchain-echo-fork"]
    # The first distribution found keeps the name; the other is recorded, not loaded.
    winner, loser = sorted(infos, key=lambda p: p.error is not None)
    assert winner.name == "echo" and winner.error is None
    assert loser.name.startswith("echo#") and loser.models == []
    assert loser.error == f"plugin name 'echo' is already taken by {winner.label}"
    expected_models = {"echo": ["echo"], "echo-llm": ["echo"]} if winner.distribution == "hookchain-echo" else {"fork": ["echo"]}
    assert plugins.list_models() == expected_models


# --------------------------------------------------------------------------- #
# Environment variables
# --------------------------------------------------------------------------- #


def test_disable_autoload_loads_no_entry_points(monkeypatch):
    monkeypatch.setenv("HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugins.reset()
    assert plugins.list_plugins() == []
    assert plugins.list_models() == {} and plugins.list_handlers() == {}
    with pytest.raises(UnknownNameError, match=r"known models: none \(is a plugin installed\?\)"):
        hookchain.get_model("echo")


def test_disable_autoload_still_allows_register_plugin(monkeypatch):
    import hookchain_echo

    monkeypatch.setenv("HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugins.reset()
    info = plugins.register_plugin(hookchain_echo, name="echo")
    assert info.models == ["echo", "echo-llm"] and info.error is None
    assert hookchain.get_model("echo", n=1).invoke("xyz").content == "x"


def test_hookchain_plugins_selects_entry_points(monkeypatch):
    monkeypatch.setenv("HOOKCHAIN_PLUGINS", "echo")
    plugins.reset()
    assert [p.name for p in plugins.list_plugins()] == ["echo"]
    assert hookchain.get_model("echo", n=1).invoke("ok").content == "o"
    with pytest.raises(UnknownNameError, match=r"known handlers: none"):
        hookchain.get_handler("stdout")


def test_hookchain_disable_plugins_skips_entry_points(monkeypatch):
    current = os.environ.get("HOOKCHAIN_DISABLE_PLUGINS", "")
    monkeypatch.setenv("HOOKCHAIN_DISABLE_PLUGINS", f"{current}, stdout")
    plugins.reset()
    assert [p.name for p in plugins.list_plugins()] == ["echo"]
    with pytest.raises(UnknownNameError, match=r"known handlers: none"):
        hookchain.get_handler("stdout")


def test_hookchain_plugins_list_with_spaces_and_unknown_names(monkeypatch, broken_plugins):
    monkeypatch.setenv("HOOKCHAIN_PLUGINS", " stdout , raiser,nonexistent ,")
    plugins.reset()
    assert sorted(p.name for p in plugins.list_plugins()) == ["raiser", "stdout"]


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "off", "", " "])
def test_disable_autoload_set_to_a_false_value_does_not_disable(monkeypatch, value):
    monkeypatch.setenv("HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", value)
    plugins.reset()
    assert plugins.list_models() == {"echo": ["echo"], "echo-llm": ["echo"]}
    assert hookchain.get_model("echo", n=1).invoke("ok").content == "o"


def test_plugin_selection_accepts_distribution_names(monkeypatch):
    monkeypatch.setenv("HOOKCHAIN_PLUGINS", "hookchain-echo,Hookchain_Stdout")
    plugins.reset()
    assert sorted(p.name for p in plugins.list_plugins()) == ["echo", "stdout"]
    current = os.environ.get("HOOKCHAIN_DISABLE_PLUGINS", "")
    monkeypatch.setenv("HOOKCHAIN_DISABLE_PLUGINS", f"{current},hookchain-stdout")
    plugins.reset()
    assert [p.name for p in plugins.list_plugins()] == ["echo"]


def test_unknown_name_error_names_the_variable_that_excluded_its_plugin(monkeypatch):
    monkeypatch.setenv("HOOKCHAIN_PLUGINS", "echo")
    plugins.reset()
    with pytest.raises(UnknownNameError) as info:
        hookchain.get_handler("stdout")
    assert str(info.value) == (
        f"unknown handler 'stdout'; known handlers: none (is a plugin installed?). Plugin stdout "
        f"(hookchain-stdout {STDOUT_VERSION}) provides it, but it is not in HOOKCHAIN_PLUGINS=echo."
    )
    monkeypatch.delenv("HOOKCHAIN_PLUGINS")
    current = os.environ.get("HOOKCHAIN_DISABLE_PLUGINS", "")
    monkeypatch.setenv("HOOKCHAIN_DISABLE_PLUGINS", f"{current},hookchain-stdout")
    plugins.reset()
    with pytest.raises(UnknownNameError, match=r"Plugin stdout \(hookchain-stdout .*\) provides it, but "
                                               r"HOOKCHAIN_DISABLE_PLUGINS=.*hookchain-stdout excludes it\.$"):
        hookchain.get_handler("stdout")
    monkeypatch.setenv("HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", "yes")
    plugins.reset()
    with pytest.raises(UnknownNameError, match=r"Plugin echo \(hookchain-echo .*\) provides it, but "
                                               r"HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD=yes loads no installed plugin\.$"):
        hookchain.get_model("echo")


def test_reset_rediscovers(monkeypatch):
    assert {p.name for p in plugins.list_plugins()} == {"echo", "stdout"}
    monkeypatch.setenv("HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert {p.name for p in plugins.list_plugins()} == {"echo", "stdout"}  # cached until reset
    plugins.reset()
    assert plugins.list_plugins() == []


# --------------------------------------------------------------------------- #
# Name collisions and PLUGIN:NAME
# --------------------------------------------------------------------------- #


class ShoutModel(EchoChatModel):
    """An echo model that upper-cases (to tell the two 'echo' models apart)."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        result = super()._generate(messages, stop, run_manager, **kwargs)
        result.generations[0].message.content = result.generations[0].message.content.upper()
        return result


class TwinPlugin:
    @hookchain.hookimpl
    def register_models(self, register):
        register("echo", ShoutModel)


def test_same_model_name_from_two_plugins_is_an_error_naming_both():
    plugins.register_plugin(TwinPlugin(), name="twin")
    assert plugins.list_models() == {"echo": ["echo", "twin"], "echo-llm": ["echo"]}
    with pytest.raises(PluginError) as info:
        hookchain.get_model("echo")
    message = str(info.value)
    assert f"echo (hookchain-echo {ECHO_VERSION})" in message and "twin" in message
    assert "'echo:echo'" in message and "'twin:echo'" in message


def test_qualified_name_picks_one_plugin():
    plugins.register_plugin(TwinPlugin(), name="twin")
    assert hookchain.get_model("echo:echo", n=3).invoke("hello").content == "hel"
    assert hookchain.get_model("twin:echo", n=3).invoke("hello").content == "HEL"
    with pytest.raises(UnknownNameError):
        hookchain.get_model("nobody:echo")


def test_qualified_name_works_without_collision_too():
    assert hookchain.get_model("echo:echo").n == 200
    assert isinstance(hookchain.get_handler("stdout:stdout"), StdOutHandler)
    with pytest.raises(UnknownNameError):
        hookchain.get_handler("echo:stdout")  # plugin echo registers no handler 'stdout'


def test_same_model_name_from_two_distributions(site):
    module = f"{_TMP_MODULE_PREFIX}twin"
    site("hookchain-twin", "1.2", {"twin": module}, {module: '''
        import hookchain
        from hookchain_echo import EchoChatModel

        @hookchain.hookimpl
        def register_models(register):
            register("echo", EchoChatModel)
    '''})
    with pytest.raises(PluginError) as info:
        hookchain.get_model("echo")
    message = str(info.value)
    assert f"echo (hookchain-echo {ECHO_VERSION})" in message and "twin (hookchain-twin 1.2)" in message
    assert hookchain.get_model("twin:echo").n == 200


# --------------------------------------------------------------------------- #
# register_plugin: plugins written in code
# --------------------------------------------------------------------------- #


class Collect(BaseCallbackHandler):
    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.tokens: list[str] = []

    def on_llm_new_token(self, token, **kwargs):
        self.tokens.append(self.prefix + token)


class InCodePlugin:
    @hookchain.hookimpl
    def register_handlers(self, register):
        register("collect", Collect)

    @hookchain.hookimpl
    def register_models(self, register):
        register("short-echo", lambda n=2, **kw: EchoChatModel(n=n, **kw))
        register("not-a-model", lambda: object())


def test_register_plugin_in_code():
    info = plugins.register_plugin(InCodePlugin(), name="app")
    assert info.as_dict() == {
        "name": "app", "distribution": None, "version": None,
        "hooks": ["register_handlers", "register_models"],
        "models": ["short-echo", "not-a-model"], "handlers": ["collect"], "error": None,
    }
    assert info.label == "app"
    assert "app" in by_name() and "echo" in by_name()  # discovered plugins stay
    handler = hookchain.get_handler("collect", prefix=">")
    assert isinstance(handler, Collect)
    model = hookchain.get_model("short-echo", streaming=True, callbacks=[handler])
    assert model.invoke("hello").content == "he"
    assert handler.tokens == [">h", ">e", ">"]


def test_register_plugin_default_name_is_the_module_name():
    import types

    module = types.ModuleType("my_app_plugins")

    @hookchain.hookimpl
    def register_handlers(register):
        register("collect2", Collect)

    module.register_handlers = register_handlers
    assert plugins.register_plugin(module).name == "my_app_plugins"
    assert plugins.list_handlers()["collect2"] == ["my_app_plugins"]


def test_plain_callable_factory_options_are_checked_against_its_signature():
    plugins.register_plugin(InCodePlugin(), name="app")
    with pytest.raises(OptionError, match=r"^model 'short-echo' \(plugin app\): unknown option 'x'; allowed options: n$"):
        # **kw accepts it, so the model class itself rejects it (pydantic)
        hookchain.get_model("short-echo", x=1)
    with pytest.raises(OptionError, match=r"handler 'collect' \(plugin app\): unknown option\(s\) 'suffix'; allowed options: prefix"):
        hookchain.get_handler("collect", suffix="!")


def test_factory_returning_the_wrong_type_is_a_plugin_error():
    plugins.register_plugin(InCodePlugin(), name="app")
    with pytest.raises(PluginError, match=r"model 'not-a-model' \(plugin app\): factory returned object, not a BaseChatModel"):
        hookchain.get_model("not-a-model")


def test_register_plugin_twice_under_one_name_records_an_error():
    plugins.register_plugin(InCodePlugin(), name="app")
    second = plugins.register_plugin(TwinPlugin(), name="app")
    # The first keeps the name; the second is not registered, and the info
    # returned says so (it is not the first plugin's info).
    assert second.error == "plugin name 'app' is already taken by app"
    assert second.name.startswith("app#") and second.models == []
    assert by_name()["app"].handlers == ["collect"]
    assert second.name in by_name()  # listed, like a plugin that failed to import
    assert plugins.list_models()["echo"] == ["echo"]


def test_lazy_import_defers_loading_until_first_attribute_access(tmp_path):
    import subprocess

    (tmp_path / "heavy_sdk.py").write_text("print('heavy_sdk loaded')\nVALUE = 42\n")
    code = (
        "from hookchain.plugins import lazy_import; "
        "sdk = lazy_import('heavy_sdk'); "
        "print('registered'); "
        "print(sdk.VALUE)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["registered", "heavy_sdk loaded", "42"]


# --------------------------------------------------------------------------- #
# A plugin may only ever fail itself (issue 11)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("where", ["import", "register"])
@pytest.mark.parametrize("raise_", ["SystemExit(0)", "SystemExit('bye')", "KeyboardInterrupt()"])
def test_plugin_raising_systemexit_or_keyboardinterrupt_fails_only_itself(site, where, raise_):
    module = f"{_TMP_MODULE_PREFIX}quitter"
    body = f"raise {raise_}\n" if where == "import" else f'''
        import hookchain

        @hookchain.hookimpl
        def register_models(register):
            raise {raise_}
    '''
    site("hookchain-quitter", "1.0", {"quitter": module}, {module: body})
    quitter = by_name()["quitter"]
    assert quitter.error is not None and raise_.split("(")[0] in quitter.error
    assert quitter.models == []
    assert hookchain.get_model("echo", n=2).invoke("hello").content == "he"


def test_keyboard_interrupt_from_the_user_while_a_plugin_loads_still_interrupts():
    # A real SIGINT (Ctrl-C) arriving while plugin code runs is the user's, not the plugin's.
    import signal

    class SlowPlugin:
        @hookchain.hookimpl
        def register_models(self, register):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the Python-level handler runs between bytecodes
                pass

    with pytest.raises(KeyboardInterrupt):
        plugins.register_plugin(SlowPlugin(), name="slow")


def test_registration_hook_calling_back_into_the_registry_does_not_deadlock(site):
    module = f"{_TMP_MODULE_PREFIX}reentrant"
    site("hookchain-reentrant", "1.0", {"reentrant": module}, {module: '''
        import hookchain
        import hookchain.plugins
        from hookchain_echo import EchoChatModel

        seen = []

        @hookchain.hookimpl
        def register_models(register):
            seen.append(sorted(hookchain.plugins.list_models()))
            register("echo-again", EchoChatModel)
    '''})
    import threading

    results = []
    worker = threading.Thread(target=lambda: results.append(hookchain.get_model("echo-again", n=1)), daemon=True)
    worker.start()
    worker.join(timeout=120)  # a hang guard only: a deadlock never ends
    assert not worker.is_alive(), "the registry deadlocked on a plugin calling list_models() while registering"
    assert results[0].invoke("xy").content == "x"
    assert by_name()["reentrant"].error is None
    assert isinstance(sys.modules[module].seen[0], list)
