"""``hookchain --version`` and ``hookchain --help`` answer before click loads:
``--version`` from ``hookchain._version``, ``--help`` from the text click
rendered last time, kept while nothing it was made from changed (this module,
the terminal width, the plugin-selecting environment variables, the installed
plugins as the plugin index remembers them).

Each command runs as the ``hookchain`` console script does (a script named
``hookchain`` importing ``hookchain.cli``) in a fresh interpreter; what it
imported is read from its ``sys.modules``, never timed. ``plugin_index._RACY_NS``
is set to 0 so the plugin index remembers the state of freshly written
directories (see tests/test_plugin_index_views.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner
from test_plugins import _TMP_MODULE_PREFIX, make_distribution

from hookchain import __version__
from hookchain.cli import main

SCRIPT = """
import atexit, json, os, sys
atexit.register(lambda: json.dump(sorted(sys.modules), open(os.environ["PROBE_OUT"], "w")))
from hookchain import plugin_index
plugin_index._RACY_NS = 0
from hookchain.cli import main
main()
"""


def hookchain(tmp_path, *args: str, path: tuple = (), **env: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``hookchain ARGS`` as its console script; (the process, top-level modules it imported)."""
    script, out = tmp_path / "bin" / "hookchain", tmp_path / "out" / "modules.json"
    for d in (script.parent, out.parent, tmp_path / "cwd"):
        d.mkdir(exist_ok=True)
    script.write_text(SCRIPT)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HOOKCHAIN_PLUGINS", "HOOKCHAIN_DISABLE"))}
    environ.pop("COLUMNS", None)
    environ.update(PROBE_OUT=str(out), HOOKCHAIN_CONFIG="", PYTHONDONTWRITEBYTECODE="1", **env)
    environ["PYTHONPATH"] = os.pathsep.join([*map(str, path), *filter(None, [os.environ.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=300,
                          env=environ, cwd=tmp_path / "cwd")  # a hang guard only
    return done, {m.split(".")[0] for m in json.loads(out.read_text())}


def test_version_needs_no_click_and_says_what_clicks_option_says(tmp_path):
    done, modules = hookchain(tmp_path, "--version")
    assert (done.returncode, done.stdout) == (0, f"hookchain, version {__version__}\n")
    assert not modules & {"click", "pluggy", "pydantic", "asyncio", "hookchain_echo"}, sorted(modules)
    assert CliRunner().invoke(main, ["--version"], prog_name="hookchain").output == done.stdout


def test_help_is_kept_and_printed_without_click(tmp_path):
    first, modules = hookchain(tmp_path, "--help")
    assert first.returncode == 0 and "click" in modules and "cache" in first.stdout
    for flag in ("--help", "-h"):
        again, modules = hookchain(tmp_path, flag)
        assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")
        assert not modules & {"click", "pluggy", "pydantic", "asyncio", "hookchain_echo"}, sorted(modules)


def test_kept_help_follows_plugins_width_and_environment(tmp_path):
    site = tmp_path / "site"
    module = f"{_TMP_MODULE_PREFIX}helpcmd"
    make_distribution(site, "hookchain-helpcmd", "1.0", {"helpcmd": module}, {module: '''
        import click
        import hookchain

        @hookchain.hookimpl
        def register_commands(cli):
            @cli.command("zap-things")
            def zap():
                """Zap the things."""
    '''})
    base, _ = hookchain(tmp_path, "--help")
    hookchain(tmp_path, "--help")
    installed, modules = hookchain(tmp_path, "--help", path=(site,))
    assert "zap-things" in installed.stdout and "zap-things" not in base.stdout and "click" in modules
    again, modules = hookchain(tmp_path, "--help", path=(site,))
    assert again.stdout == installed.stdout and "click" not in modules
    (site / "click_theme-1.0.dist-info").mkdir()  # any install on sys.path (a click upgrade...): rendered anew
    again, modules = hookchain(tmp_path, "--help", path=(site,))
    assert again.stdout == installed.stdout and "click" in modules

    without, _ = hookchain(tmp_path, "--help", path=(site,), HOOKCHAIN_DISABLE_PLUGINS="helpcmd")
    assert "zap-things" not in without.stdout

    narrow, modules = hookchain(tmp_path, "--help", path=(site,), COLUMNS="60")
    assert "click" in modules and max(map(len, narrow.stdout.splitlines())) <= 60
    assert max(map(len, installed.stdout.splitlines())) > 60


def test_help_with_a_failing_plugin_is_never_kept(tmp_path):
    # Its warning on stderr comes from loading the index: printed every time.
    site = tmp_path / "site"
    module = f"{_TMP_MODULE_PREFIX}helpbroken"
    make_distribution(site, "hookchain-helpbroken", "1.0", {"helpbroken": module},
                      {module: 'raise ImportError("missing dependency: frobnicate")\n'})
    for _ in range(3):
        done, modules = hookchain(tmp_path, "--help", path=(site,))
        assert done.returncode == 0 and "frobnicate" in done.stderr and "click" in modules
