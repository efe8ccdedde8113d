"""The plugin index's remembered ``sys.path`` states (``hookchain.plugin_index``
"views"): with every ``sys.path`` entry and listed ``*.dist-info`` directory
as a scan saw it, a command reads no distribution's metadata; an install,
uninstall, upgrade, a changed dist-info or another ``PYTHONPATH`` is still
seen by the next command.

Each command runs in a fresh interpreter; whether the metadata was read is
told by ``importlib.metadata`` in its ``sys.modules`` (nothing else a
``hookchain models`` imports needs it), never by timing. The probe sets
``plugin_index._RACY_NS`` (how recent a change keeps a state from being
remembered) to 0 unless a test keeps the default, so a state is remembered
however recently the temporary directories changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from test_plugin_index import PROBE
from test_plugins import _TMP_MODULE_PREFIX, make_distribution

from hookchain import plugin_index

MODULE = f"{_TMP_MODULE_PREFIX}view"
SOURCE = '''
import hookchain
from hookchain_echo import EchoChatModel

@hookchain.hookimpl
def register_models(register):
    register("{name}", EchoChatModel)
'''


def command(tmp_path, *args: str, path: tuple = (), racy_ns: str = "0") -> tuple[list, bool]:
    """``hookchain ARGS --json``'s parsed output in a fresh interpreter with
    ``path`` on ``PYTHONPATH`` and an empty working directory; and whether it
    read distribution metadata (imported ``importlib.metadata``)."""
    work, out = tmp_path / "cwd", tmp_path / "out" / "probe.json"
    work.mkdir(exist_ok=True)
    out.parent.mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HOOKCHAIN_PLUGINS", "HOOKCHAIN_DISABLE"))}
    environ.update(PROBE_ARGS=json.dumps([*args, "--json"]), PROBE_OUT=str(out), PROBE_RACY_NS=racy_ns,
                   HOOKCHAIN_CONFIG="", PYTHONDONTWRITEBYTECODE="1")  # no __pycache__ changing a directory
    environ["PYTHONPATH"] = os.pathsep.join([*map(str, path), *filter(None, [os.environ.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300,
                          env=environ, cwd=work)  # a hang guard only
    assert out.exists(), done.stderr
    result = json.loads(out.read_text())
    assert result["code"] in (0, None), done.stderr
    return json.loads(done.stdout), "importlib.metadata" in result["modules"]


def install(root, version: str, model: str, dist: str = "hookchain-view", module: str = MODULE) -> None:
    make_distribution(root, dist, version, {dist.removeprefix("hookchain-"): module}, {module: SOURCE.format(name=model)})


def test_an_unchanged_sys_path_reads_no_distribution_metadata(tmp_path):
    site = tmp_path / "site"
    install(site, "1.0", "view-1")
    first, scanned = command(tmp_path, "models", path=(site,))
    assert "view-1" in first and scanned
    again, scanned = command(tmp_path, "models", path=(site,))
    assert again == first and not scanned


def test_install_upgrade_and_uninstall_are_seen_past_a_remembered_state(tmp_path):
    site = tmp_path / "site"
    install(site, "1.0", "view-1")
    command(tmp_path, "models", path=(site,))
    assert "view-1" in command(tmp_path, "models", path=(site,))[0]

    install(site, "1.0", "other-1", dist="hookchain-other", module=f"{MODULE}_other")  # install
    listed, scanned = command(tmp_path, "models", path=(site,))
    assert {"view-1", "other-1"} <= set(listed) and scanned

    shutil.rmtree(site / "hookchain_view-1.0.dist-info")  # upgrade: pip replaces the dist-info
    install(site, "2.0", "view-2")
    listed, _ = command(tmp_path, "models", path=(site,))
    assert "view-2" in listed and "view-1" not in listed
    plugins = {p["name"]: p for p in command(tmp_path, "plugins", path=(site,))[0]}
    assert plugins["view"]["version"] == "2.0"

    shutil.rmtree(site / "hookchain_other-1.0.dist-info")  # uninstall
    listed, _ = command(tmp_path, "models", path=(site,))
    assert "other-1" not in listed and "view-2" in listed
    assert command(tmp_path, "models", path=(site,)) == (listed, False)


def test_another_pythonpath_is_seen_and_each_is_remembered(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    install(one, "1.0", "view-one")
    install(two, "1.0", "view-two", dist="hookchain-two", module=f"{MODULE}_two")
    assert "view-one" in command(tmp_path, "models", path=(one,))[0]
    listed, scanned = command(tmp_path, "models", path=(two,))
    assert "view-two" in listed and "view-one" not in listed and scanned
    listed, scanned = command(tmp_path, "models", path=(one,))
    assert "view-one" in listed and "view-two" not in listed and not scanned
    listed, scanned = command(tmp_path, "models")
    assert not {"view-one", "view-two"} & set(listed) and scanned


def test_a_dist_info_changed_in_place_is_seen(tmp_path):
    # Its parent directory keeps its modification time; the dist-info's changes.
    site = tmp_path / "site"
    install(site, "1.0", "view-1")
    install(site, "1.0", "view-b", dist="hookchain-b", module=f"{MODULE}_b")
    command(tmp_path, "models", path=(site,))
    stamp = os.stat(site).st_mtime_ns
    info = site / "hookchain_view-1.0.dist-info"
    (info / "entry_points.txt.new").write_text(f"[hookchain]\nview = {MODULE}_b\n")
    os.replace(info / "entry_points.txt.new", info / "entry_points.txt")
    assert os.stat(site).st_mtime_ns == stamp
    plugins = {p["name"]: p for p in command(tmp_path, "plugins", path=(site,))[0]}
    assert plugins["view"]["models"] == ["view-b"]


def test_a_state_changed_within_the_racy_window_is_not_remembered(tmp_path):
    # A directory changed just before a scan could change again within the same
    # clock tick, keeping its modification time: such a state is never reused.
    site = tmp_path / "site"
    install(site, "1.0", "view-1")
    stamp = os.stat(site).st_mtime_ns
    assert "view-1" in command(tmp_path, "models", path=(site,), racy_ns=str(3600 * 10**9))[0]
    install(site, "1.0", "other-1", dist="hookchain-other", module=f"{MODULE}_other")
    os.utime(site, ns=(stamp, stamp))  # the second install within the same tick as the first
    assert "other-1" in command(tmp_path, "models", path=(site,), racy_ns=str(3600 * 10**9))[0]


def test_a_cache_with_damaged_states_is_rebuilt(tmp_path):
    site = tmp_path / "site"
    install(site, "1.0", "view-1")
    command(tmp_path, "models", path=(site,))
    path = plugin_index.cache_path()
    data = json.loads(path.read_text())
    for views in ([[data["views"][0][0], ["not a key"]]], [["not a state"]], {"x": 1}):
        path.write_text(json.dumps({**data, "views": views}))
        listed, scanned = command(tmp_path, "models", path=(site,))
        assert "view-1" in listed and scanned
        assert json.loads(path.read_text())["views"] != views  # rewritten


def test_the_default_cache_directory_is_platformdirs_user_cache_dir(tmp_path):
    # Worked out without platformdirs where that gives the same answer (Linux).
    script = ("import json, platformdirs; from hookchain import plugin_index; "
              "print(json.dumps([plugin_index._user_cache_dir(), platformdirs.user_cache_dir('hookchain', appauthor=False)]))")
    cases = [{"XDG_CACHE_HOME": str(tmp_path / "xdg")}, {"XDG_CACHE_HOME": ""}, {"XDG_CACHE_HOME": "relative"},
             {"HOME": str(tmp_path / "home")}, {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": "  "}]
    for case in cases:
        environ = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "HOOKCHAIN_CACHE_DIR")}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                              env={**environ, **case})
        ours, theirs = json.loads(done.stdout)
        assert ours == theirs, case
