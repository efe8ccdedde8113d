"""The plugin index (``hookchain.plugin_index``): commands start without
importing plugins they do not use, and the index follows installs, removals,
upgrades and damage by itself.

Laziness is checked by inspecting ``sys.modules`` of a CLI run in a fresh
interpreter, never by timing. Temporary plugins are real distributions (a
``*.dist-info`` directory and a module) in a directory put on the path; the
index lives in the test run's own ``HOOKCHAIN_CACHE_DIR`` (tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import hookchain
from hookchain import plugin_index, plugins
from hookchain.errors import UnknownNameError
from test_plugins import _TMP_MODULE_PREFIX, by_name, fresh_registry, make_distribution, site  # noqa: F401 - fixtures

REPO_PLUGIN_MODULES = ("hookchain_echo", "hookchain_stdout", "hookchain_openai", "hookchain_cache", "hookchain_redact")

PROBE = """
import json, os, sys
sys.argv = ["hookchain", *json.loads(os.environ["PROBE_ARGS"])]
from hookchain import plugin_index
if os.environ.get("PROBE_RACY_NS"):  # test_plugin_index_views.py: remember however recent a change
    plugin_index._RACY_NS = int(os.environ["PROBE_RACY_NS"])
from hookchain.cli import main
try:
    main()
    code = 0
except SystemExit as e:
    code = e.code
with open(os.environ["PROBE_OUT"], "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def probe(tmp_path, *args: str, path: tuple[str, ...] = (), **env: str) -> tuple[int, set[str], str]:
    """Run ``hookchain ARGS`` in a fresh interpreter with every plugin of the
    repo enabled; returns (exit status, top-level modules imported, stdout)."""
    out = tmp_path / "probe.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HOOKCHAIN_PLUGINS", "HOOKCHAIN_DISABLE"))}
    environ.update(PROBE_ARGS=json.dumps(args), PROBE_OUT=str(out), HOOKCHAIN_CONFIG="", **env)
    if path:
        environ["PYTHONPATH"] = os.pathsep.join([*path, *filter(None, [os.environ.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300,
                          env=environ, cwd=tmp_path)  # a hang guard only
    assert out.exists(), done.stderr
    result = json.loads(out.read_text())
    top = {m.split(".")[0] for m in result["modules"]}
    return result["code"] or 0, top | {m for m in result["modules"] if m.startswith("hookchain.")}, done.stdout


# --------------------------------------------------------------------------- #
# What a command imports
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("args", [("--help",), ("--version",)])
def test_help_and_version_import_no_plugin_no_pydantic_no_asyncio(tmp_path, args):
    code, modules, out = probe(tmp_path, *args)
    assert code == 0
    assert not modules & {*REPO_PLUGIN_MODULES, "pydantic", "asyncio"}, sorted(modules)
    if args == ("--help",):
        assert "cache" in out  # a plugin's command, listed from the index


def test_import_hookchain_imports_no_plugin(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import sys, hookchain; print(sorted(sys.modules))"],
                          capture_output=True, text=True, timeout=300)
    modules = {m.split(".")[0] for m in eval(done.stdout)}
    assert not modules & {*REPO_PLUGIN_MODULES, "pydantic", "asyncio"}


def test_run_imports_only_the_model_plugin_and_the_enabled_handlers(tmp_path):
    config = tmp_path / "hookchain.toml"
    config.write_text('model = "echo"\n')
    code, modules, out = probe(tmp_path, "run", "hi", "-m", "echo", "--config", str(config))
    assert (code, out) == (0, "hi\n")
    assert "hookchain_echo" in modules
    assert not modules & {"hookchain_stdout", "hookchain_openai", "hookchain_cache", "hookchain_redact"}

    config.write_text('model = "echo"\n[handlers.redact]\n')
    code, modules, _ = probe(tmp_path, "run", "hi", "--config", str(config))
    assert code == 0
    assert {"hookchain_echo", "hookchain_redact"} <= modules
    assert not modules & {"hookchain_stdout", "hookchain_openai", "hookchain_cache"}


@pytest.mark.parametrize("command", ["models", "handlers"])
def test_models_and_handlers_import_no_plugin(tmp_path, command):
    code, modules, out = probe(tmp_path, command)
    assert code == 0 and ("openai" in out if command == "models" else "cache" in out)
    assert not modules & set(REPO_PLUGIN_MODULES)


def test_plugin_command_imports_only_its_plugin(tmp_path):
    code, modules, out = probe(tmp_path, "cache", "--help")
    assert code == 0 and "Usage: hookchain cache" in out
    assert "hookchain_cache" in modules
    assert not modules & {"hookchain_echo", "hookchain_stdout", "hookchain_openai", "hookchain_redact"}


def test_get_model_imports_only_the_providing_plugin():
    code = ("import sys, hookchain; hookchain.get_model('echo'); "
            "print(sorted(m for m in sys.modules if m.startswith('hookchain_')))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKCHAIN_DISABLE")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert eval(done.stdout) == ["hookchain_echo", "hookchain_echo.model"]


# --------------------------------------------------------------------------- #
# A plugin that hangs at import does not hang anything else (issue 11)
# --------------------------------------------------------------------------- #

HANGING = f"{_TMP_MODULE_PREFIX}hang"


def test_a_plugin_that_hangs_at_import_fails_only_itself(tmp_path):
    root = tmp_path / "site"
    make_distribution(root, "hookchain-hang", "1.0", {"hang": HANGING}, {HANGING: '''
        import threading
        import hookchain

        threading.Event().wait()  # never returns

        @hookchain.hookimpl
        def register_models(register):
            pass
    '''})
    env = {"HOOKCHAIN_PLUGIN_TIMEOUT": "5"}
    code, modules, out = probe(tmp_path, "plugins", "--json", path=(str(root),), **env)
    assert code == 0 and HANGING not in modules
    hang = next(p for p in json.loads(out) if p["name"] == "hang")
    assert "did not finish within 5 s" in hang["error"] and hang["distribution"] == "hookchain-hang"
    for args in (("--help",), ("run", "hi", "-m", "echo"), ("models",)):
        code, modules, out = probe(tmp_path, *args, path=(str(root),), **env)
        assert code == 0, args
        assert HANGING not in modules
    code, _, _ = probe(tmp_path, "run", "hi", "-m", "nothing", path=(str(root),), **env)
    assert code == 1  # an unknown name: every loadable plugin is asked, the hanging one is not imported


def test_a_plugin_that_ends_the_process_while_indexed_is_recorded(site):
    module = f"{_TMP_MODULE_PREFIX}exit"
    site("hookchain-exit", "1.0", {"exit": module}, {module: "import os\nos._exit(3)\n"})
    assert by_name()["exit"].error == "ended the process (exit status 3) while importing or registering"
    assert hookchain.get_model("echo", n=1).invoke("ok").content == "o"


# --------------------------------------------------------------------------- #
# The index follows the installed distributions and is never trusted blindly
# --------------------------------------------------------------------------- #

EXTRA = f"{_TMP_MODULE_PREFIX}extra"
EXTRA_SOURCE = '''
    import hookchain
    from hookchain_echo import EchoChatModel

    @hookchain.hookimpl
    def register_models(register):
        register("{name}", EchoChatModel)
'''


def test_install_upgrade_and_uninstall_are_seen_without_a_manual_step(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    assert "extra-1" not in plugins.list_models()

    make_distribution(root, "hookchain-extra", "1.0", {"extra": EXTRA}, {EXTRA: EXTRA_SOURCE.format(name="extra-1")})
    plugins.reset()  # a new command
    assert plugins.list_models()["extra-1"] == ["extra"]

    # Upgrade: pip replaces the dist-info (new version) and the module.
    shutil.rmtree(root / "hookchain_extra-1.0.dist-info")
    make_distribution(root, "hookchain-extra", "2.0", {"extra": EXTRA}, {EXTRA: EXTRA_SOURCE.format(name="extra-2")})
    shutil.rmtree(root / "__pycache__", ignore_errors=True)  # as pip removes the old version's files: a .pyc
    sys.modules.pop(EXTRA, None)  # of the same second and size would otherwise be taken for the new source
    plugins.reset()
    models = plugins.list_models()
    assert "extra-2" in models and "extra-1" not in models
    assert hookchain.get_model("extra-2", n=1).invoke("ok").content == "o"

    shutil.rmtree(root / "hookchain_extra-2.0.dist-info")
    plugins.reset()
    assert not {"extra-1", "extra-2"} & set(plugins.list_models())


def test_corrupt_index_file_is_rebuilt():
    plugins.list_models()
    path = plugin_index.cache_path()
    for garbage in ("{not json", '{"format": 1, "hookchain": "0.1.0", "records": {"x": 1}}', '[]', "\x00\xff"):
        path.write_text(garbage, encoding="latin-1")
        plugins.reset()
        assert plugins.list_models() == {"echo": ["echo"], "echo-llm": ["echo"]}
        assert plugins.list_handlers() == {"stdout": ["stdout"]}
        assert json.loads(path.read_text())["records"]  # rewritten whole


def test_an_index_that_lies_is_not_trusted_over_the_plugins():
    plugins.list_models()
    path = plugin_index.cache_path()
    data = json.loads(path.read_text())
    for record in data["records"].values():
        record["models"] = [m.replace("echo", "ghost") for m in record["models"]]
    path.write_text(json.dumps(data))
    plugins.reset()
    assert "ghost" in plugins.list_models()
    # Asked for a name the index does not know, every plugin is loaded and asked.
    assert hookchain.get_model("echo", n=1).invoke("ok").content == "o"
    assert not path.exists() or "ghost" not in path.read_text()  # thrown away: the next command rebuilds it
    plugins.reset()
    assert "echo" in plugins.list_models() and "ghost" not in plugins.list_models()


def test_refresh_rebuilds_every_record():
    plugins.list_models()
    path = plugin_index.cache_path()
    data = json.loads(path.read_text())
    for record in data["records"].values():
        record["handlers"] = ["ghost"] * bool(record["handlers"])
    path.write_text(json.dumps(data))
    plugins.reset()
    assert "ghost" in plugins.list_handlers()
    plugins.refresh()
    assert plugins.list_handlers() == {"stdout": ["stdout"]}


def test_cli_plugins_refresh(tmp_path):
    plugins.list_models()
    path = plugin_index.cache_path()
    data = json.loads(path.read_text())
    for record in data["records"].values():
        record["models"] = ["ghost"] * bool(record["models"])
    path.write_text(json.dumps(data))
    code, _, out = probe(tmp_path, "plugins", "--refresh")
    assert code == 0 and "ghost" not in out and "echo" in out
    assert "ghost" not in path.read_text()


def test_the_index_of_the_tests_is_not_in_the_user_cache():
    assert str(plugin_index.cache_path()).startswith(os.environ["HOOKCHAIN_CACHE_DIR"])
    assert "hookchain-test-cache-" in os.environ["HOOKCHAIN_CACHE_DIR"]


def test_records_of_distributions_on_another_sys_path_are_kept(tmp_path, monkeypatch):
    # One environment run with and without a PYTHONPATH entry must not rebuild
    # the index on every switch: a record stays while its dist-info exists.
    root = tmp_path / "site"
    make_distribution(root, "hookchain-extra", "1.0", {"extra": EXTRA}, {EXTRA: EXTRA_SOURCE.format(name="extra-1")})
    with monkeypatch.context() as m:
        m.syspath_prepend(str(root))
        plugins.reset()
        assert "extra-1" in plugins.list_models()
    plugins.reset()
    assert "extra-1" not in plugins.list_models()
    assert "hookchain-extra" in plugin_index.cache_path().read_text()
    shutil.rmtree(root / "hookchain_extra-1.0.dist-info")  # uninstalled: its record goes
    plugins.reset()
    plugins.list_models()
    assert "hookchain-extra" not in plugin_index.cache_path().read_text()
