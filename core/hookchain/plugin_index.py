"""The plugin index: what each installed plugin registers, known without
importing it.

``hookchain`` must not import every installed plugin to start: ``--help``
lists plugin commands, ``models`` lists model names and ``run -m echo`` finds
the one plugin that provides ``echo``, all from this index. At lookup time
``hookchain.plugins`` imports the providing plugin and registers it with
pluggy for real (the registration hooks stay the contract).

One record per entry point of the ``hookchain`` group: the plugin's hooks,
the models, handlers and commands it registers, and its load error. Records
are cached as JSON in ``$HOOKCHAIN_CACHE_DIR`` (default: the platformdirs user
cache directory, ``hookchain``), one file per Python environment, each
record keyed by its entry point (name, target), distribution (name, version,
``*.dist-info`` path and modification time). ``pip install``, ``uninstall``
and upgrades change those keys, so the next command rebuilds exactly the
records that changed; a cache that is unreadable, of another format or of
another hookchain version is ignored and rewritten, never trusted.

Finding the entry points reads the metadata of every installed distribution
(tens of milliseconds with a few hundred). The cache also remembers, for the
``sys.path`` it was built under, the modification time of every ``sys.path``
entry and which keys it found: a distribution installed, removed or upgraded
there adds or removes a ``*.dist-info`` directory, which changes its parent's
modification time (the test ``importlib``'s own path finder uses to see new
modules). While every entry and every listed ``*.dist-info`` directory is
unchanged, the entry points are taken from the cache without reading any
metadata; any difference (another ``sys.path``, a ``PYTHONPATH``, an install)
falls back to the full scan. A directory changed less than two seconds before
a scan is not remembered (a later change within the same clock tick would
keep its modification time).
``hookchain plugins --refresh`` rebuilds every record (e.g. after editing an
editable install's registration code without reinstalling it).

Building a record imports the plugin, in a child process, one plugin at a
time: a plugin that blocks (e.g. ``time.sleep(30)`` at import) is stopped
after ``$HOOKCHAIN_PLUGIN_TIMEOUT`` seconds (default 20) and recorded as
failing, and one that ends the process (``os._exit``, a crash) is recorded
with its exit status; the other plugins are indexed by a new child.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

TYPE_CHECKING = False  # typing (~6 ms) is not imported by `hookchain --help` answered from the cache
if TYPE_CHECKING:
    from typing import Any, Optional

from hookchain._version import __version__

__all__ = ["Record", "installed", "load", "remembered", "build", "forget", "cache_path", "write_json", "DEFAULT_TIMEOUT"]

#: Seconds one plugin's import and registration may take while indexing.
DEFAULT_TIMEOUT = 20.0
_FORMAT = 2
#: A ``sys.path`` entry changed this recently is not trusted to show the next change.
_RACY_NS = 2_000_000_000
#: How many ``sys.path`` states (a command line, ``python -c``, a ``PYTHONPATH``...) are remembered.
_VIEWS = 8
#: A record: ``{"hooks", "models", "handlers": list[str], "commands":
#: {name: {"help", "short_help"}}, "imported": bool, "error": str | None}``.
Record = dict  # dict[str, Any]
_LISTS = ("hooks", "models", "handlers")


def installed() -> list[Any]:
    """The ``hookchain`` entry points of the installed distributions
    (``importlib.metadata.EntryPoint``), in ``sys.path`` order, without
    repeats of one ``(name, target)``; nothing is imported."""
    from importlib.metadata import entry_points

    from hookchain.hookspecs import ENTRY_POINT_GROUP

    seen, out = set(), []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if (ep.name, ep.value) not in seen:
            seen.add((ep.name, ep.value))
            out.append(ep)
    return out


def _key(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    path = getattr(dist, "_path", None)  # the *.dist-info directory
    return json.dumps([ep.name, ep.value, dist and dist.name, dist and dist.version, str(path), _mtime(path)])


def _mtime(path: Any) -> int:
    try:
        return os.stat(path).st_mtime_ns if path is not None else 0
    except OSError:
        return 0


class _Distribution:
    """The ``name``, ``version`` and ``*.dist-info`` path of an
    ``importlib.metadata.Distribution``, as the index recorded them."""

    __slots__ = ("name", "version", "_path")

    def __init__(self, name: Optional[str], version: Optional[str], path: str) -> None:
        self.name, self.version, self._path = name, version, path


class _EntryPoint:
    """An ``importlib.metadata.EntryPoint`` rebuilt from its index key
    (``name``, ``value``, ``dist``, ``load()``) without reading any metadata."""

    __slots__ = ("name", "value", "dist")

    def __init__(self, key: str) -> None:
        self.name, self.value, name, version, path, _ = json.loads(key)
        self.dist = _Distribution(name, version, path) if name is not None else None

    def load(self) -> Any:
        """Import the target, as ``importlib.metadata.EntryPoint.load``."""
        from importlib.metadata import EntryPoint

        from hookchain.hookspecs import ENTRY_POINT_GROUP

        return EntryPoint(name=self.name, value=self.value, group=ENTRY_POINT_GROUP).load()


def _fresh(key: str) -> bool:
    """Whether ``key``'s ``*.dist-info`` directory is as it was when recorded."""
    parts = json.loads(key)
    return parts[2] is None or _mtime(parts[4]) == parts[5]


def _present(key: str) -> bool:
    """Whether ``key``'s ``*.dist-info`` directory exists."""
    return os.path.exists(json.loads(key)[4])


def _path_state() -> Optional[list[list[Any]]]:
    """``[[sys.path entry, modification time (ns) or None], ...]``, or ``None``
    when an entry changed too recently to be remembered (``_RACY_NS``)."""
    now = time.time_ns()
    state: list[list[Any]] = []
    for entry in sys.path:
        mtime: Optional[int] = _mtime(entry or ".") or None  # "": the current directory, as importlib reads it
        if mtime is not None and now - mtime < _RACY_NS:
            return None
        try:
            state.append([os.path.abspath(entry or "."), mtime])
        except OSError:  # the current directory was removed
            return None
    return state


def _user_cache_dir() -> str:
    """platformdirs' ``user_cache_dir("hookchain")``. On Linux with an absolute
    ``$XDG_CACHE_HOME`` or ``$HOME``, its answer is worked out here as it does
    (importing platformdirs, and tempfile and random with it, costs ~10 ms of
    every command's start); elsewhere platformdirs is asked."""
    xdg, home = os.environ.get("XDG_CACHE_HOME", ""), os.environ.get("HOME", "")
    if sys.platform == "linux" and "ANDROID_DATA" not in os.environ and (os.path.isabs(xdg) or os.path.isabs(home)):
        return os.path.join(xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache"), "hookchain")
    from platformdirs import user_cache_dir

    return user_cache_dir("hookchain", appauthor=False)


def cache_path() -> Path:
    """The index file of this Python environment."""
    import zlib

    directory = os.environ.get("HOOKCHAIN_CACHE_DIR") or _user_cache_dir()
    return Path(directory) / f"plugin-index-{zlib.crc32(sys.prefix.encode()):08x}.json"


def _valid(record: Any) -> bool:
    return (isinstance(record, dict)
            and all(isinstance(record.get(k), list) and all(isinstance(x, str) for x in record[k]) for k in _LISTS)
            and isinstance(record.get("commands"), dict)
            and all(isinstance(c, dict) for c in record["commands"].values())
            and isinstance(record.get("imported"), bool)
            and (record.get("error") is None or isinstance(record["error"], str)))


def _valid_key(key: str) -> bool:
    try:
        parts = json.loads(key)
    except ValueError:
        return False
    return (isinstance(parts, list) and len(parts) == 6 and all(isinstance(p, str) for p in parts[:2])
            and isinstance(parts[4], str) and isinstance(parts[5], int))


def _valid_view(view: Any, records: dict[str, Record]) -> bool:
    return (isinstance(view, list) and len(view) == 2 and isinstance(view[0], list) and isinstance(view[1], list)
            and all(k in records for k in view[1]))


def _read(path: Path) -> tuple[dict[str, Record], list[Any]]:
    """``(records by key, views)`` of the index file; ``({}, [])`` unless all of it is valid."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT or data.get("hookchain") != __version__:
            return {}, []
        records, views = data["records"], data["views"]
        if (isinstance(records, dict) and all(_valid(r) and _valid_key(k) for k, r in records.items())
                and isinstance(views, list) and all(_valid_view(v, records) for v in views)):
            return records, views
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return {}, []


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` (a file of the cache directory) atomically:
    a concurrent reader sees the old or the new file. A cache that cannot be
    written costs a rebuild per command, nothing else: ``OSError`` is logged (debug)."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError as e:
        import logging

        logging.getLogger("hookchain.plugins").debug("cannot write %s: %s", path, e)


def load(refresh: bool = False) -> list[tuple[Any, Record]]:
    """``(entry point, record)`` for every installed plugin; records missing
    from the cache (or all of them, with ``refresh``) are built first. With
    ``sys.path`` as a remembered state saw it, no distribution's metadata is
    read (see the module doc)."""
    path = cache_path()
    cached, views = ({}, []) if refresh else _read(path)  # refresh: every record is rebuilt, none kept
    state = _path_state()
    known = _remembered(cached, views, state)
    if known is not None:
        return known
    eps = installed()
    keys = [_key(ep) for ep in eps]
    missing = [i for i, k in enumerate(keys) if k not in cached]
    if missing:
        for i, record in zip(missing, build([eps[i] for i in missing])):
            cached[keys[i]] = record
    # Records of distributions seen under another sys.path stay while their
    # dist-info exists (one environment, several PYTHONPATHs); removed ones go.
    current = set(keys)
    kept = {k: r for k, r in cached.items() if k in current or _present(k)}
    others = [v for v in views if v[0] != state and all(k in kept for k in v[1])]
    remembered = ([[state, keys]] if state is not None else []) + others[:_VIEWS - 1]
    if missing or len(kept) != len(cached) or remembered != views:
        write_json(path, {"format": _FORMAT, "hookchain": __version__, "records": kept, "views": remembered})
    return [(ep, cached[k]) for ep, k in zip(eps, keys)]


def _remembered(cached: dict[str, Record], views: list[Any], state: Any) -> Optional[list[tuple[Any, Record]]]:
    """The entry points and records of the view of ``state``, if it still holds."""
    for seen, keys in views:
        # Also every other record's distribution still there: else the full scan drops it.
        if seen == state and all(map(_fresh, keys)) and all(map(_present, cached.keys() - set(keys))):
            return [(_EntryPoint(k), cached[k]) for k in keys]
    return None


def remembered() -> Optional[tuple[list[list[Any]], list[tuple[Any, Record]]]]:
    """``(the sys.path state, what load() returns)`` when ``load()`` would read
    no distribution's metadata (the state is remembered), else ``None``; builds nothing."""
    state = _path_state()
    known = _remembered(*_read(cache_path()), state)
    return None if known is None else (state, known)  # type: ignore[return-value]


def _failed(error: str) -> Record:
    return {"hooks": [], "models": [], "handlers": [], "commands": {}, "imported": False, "error": error}


def _timeout() -> float:
    try:
        value = float(os.environ.get("HOOKCHAIN_PLUGIN_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


def build(eps: list[Any]) -> list[Record]:
    """Records for ``eps``, built in child processes (see the module doc)."""
    specs = [[ep.name, ep.value] for ep in eps]
    timeout = _timeout()
    records: list[Record] = []
    while len(records) < len(specs):
        records.extend(_run_child(specs[len(records):], timeout))
    return records


_CHILD = ("import json, sys; sys.path[:] = json.loads(sys.stdin.readline()); "
          "from hookchain.plugin_index import _child; from hookchain.plugins import _inspect; _child(_inspect)")


def _run_child(specs: list[list[str]], timeout: float) -> list[Record]:
    """Records for a prefix of ``specs``: all of them, or up to the one that
    hung or ended the child (recorded as failing)."""
    import queue
    import subprocess
    import threading

    proc = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True, name="hookchain-plugin-index").start()
    out: list[Record] = []
    try:
        try:
            proc.stdin.write(json.dumps(sys.path) + "\n" + json.dumps(specs) + "\n")  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass  # the child is gone already: reported below
        while len(out) < len(specs):
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                out.append(_failed(f"importing or registering did not finish within {timeout:g} s "
                                   f"(HOOKCHAIN_PLUGIN_TIMEOUT); skipped until it is reinstalled or "
                                   f"`hookchain plugins --refresh`"))
                break
            if line is None:
                out.append(_failed(f"ended the process (exit status {proc.wait()}) while importing or registering"))
                break
            record = json.loads(line)
            out.append(record if _valid(record) else _failed("produced an unreadable index record"))
    finally:
        proc.kill()
        proc.wait()
    return out


def _child(inspect: Any) -> None:
    """The indexing child: reads the entry points (``[[name, target], ...]``)
    from stdin, writes one JSON record per line as each is done: ``inspect(entry
    point)``'s (``hookchain.plugins._inspect``, which the child's command line
    passes in: this module sits below ``hookchain.plugins``)."""
    from importlib.metadata import EntryPoint

    from hookchain.hookspecs import ENTRY_POINT_GROUP

    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # what plugins print must not reach the protocol
    sys.stdout = sys.stderr
    for name, value in json.loads(sys.stdin.readline()):
        record = inspect(EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP))
        protocol.write(json.dumps(record) + "\n")
        protocol.flush()




def forget() -> None:
    """Delete this environment's index file: the next command rebuilds it."""
    try:
        cache_path().unlink()
    except OSError:
        pass
