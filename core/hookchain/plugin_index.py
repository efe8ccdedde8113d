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
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Optional

from hookchain._version import __version__
from hookchain.hookspecs import ENTRY_POINT_GROUP

__all__ = ["Record", "installed", "load", "build", "forget", "cache_path", "DEFAULT_TIMEOUT"]

logger = logging.getLogger("hookchain.plugins")

#: Seconds one plugin's import and registration may take while indexing.
DEFAULT_TIMEOUT = 20.0
_FORMAT = 1
#: A record: ``{"hooks", "models", "handlers": list[str], "commands":
#: {name: {"help", "short_help"}}, "imported": bool, "error": str | None}``.
Record = dict[str, Any]
_LISTS = ("hooks", "models", "handlers")


def installed() -> list[Any]:
    """The ``hookchain`` entry points of the installed distributions
    (``importlib.metadata.EntryPoint``), in ``sys.path`` order, without
    repeats of one ``(name, target)``; nothing is imported."""
    from importlib.metadata import entry_points

    seen, out = set(), []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if (ep.name, ep.value) not in seen:
            seen.add((ep.name, ep.value))
            out.append(ep)
    return out


def _key(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    path = getattr(dist, "_path", None)  # the *.dist-info directory
    try:
        stamp = os.stat(path).st_mtime_ns if path is not None else 0
    except OSError:
        stamp = 0
    return json.dumps([ep.name, ep.value, dist and dist.name, dist and dist.version, str(path), stamp])


def cache_path() -> Path:
    """The index file of this Python environment."""
    import hashlib

    directory = os.environ.get("HOOKCHAIN_CACHE_DIR")
    if not directory:
        from platformdirs import user_cache_dir

        directory = user_cache_dir("hookchain", appauthor=False)
    tag = hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]
    return Path(directory) / f"plugin-index-{tag}.json"


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
    return isinstance(parts, list) and len(parts) == 6 and isinstance(parts[4], str)


def _read(path: Path) -> dict[str, Record]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT or data.get("hookchain") != __version__:
            return {}
        records = data["records"]
        if isinstance(records, dict) and all(_valid(r) and _valid_key(k) for k, r in records.items()):
            return records
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return {}


def _write(path: Path, records: dict[str, Record]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"format": _FORMAT, "hookchain": __version__, "records": records}, f)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old or the new file
    except OSError as e:  # a read-only cache costs a rebuild per command, nothing else
        logger.debug("cannot write the plugin index %s: %s", path, e)


def load(refresh: bool = False) -> list[tuple[Any, Record]]:
    """``(entry point, record)`` for every installed plugin; records missing
    from the cache (or all of them, with ``refresh``) are built first."""
    eps = installed()
    keys = [_key(ep) for ep in eps]
    path = cache_path()
    cached = {} if refresh else _read(path)  # refresh: every record is rebuilt, none kept
    missing = [i for i, k in enumerate(keys) if k not in cached]
    if missing:
        for i, record in zip(missing, build([eps[i] for i in missing])):
            cached[keys[i]] = record
    # Records of distributions seen under another sys.path stay while their
    # dist-info exists (one environment, several PYTHONPATHs); removed ones go.
    current = set(keys)
    kept = {k: r for k, r in cached.items() if k in current or os.path.exists(json.loads(k)[4])}
    if missing or len(kept) != len(cached):
        _write(path, kept)
    return [(ep, cached[k]) for ep, k in zip(eps, keys)]


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
