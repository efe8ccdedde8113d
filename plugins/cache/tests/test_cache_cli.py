"""End to end through the command line, in subprocesses: ``hookchain run`` with
a config enabling the cache and redact handlers, ``hookchain cache stats`` and
``hookchain cache clear``. Each runs in an empty temporary directory with the
``HOOKCHAIN_*`` variables removed, only the echo, cache and redact plugins
loaded, and the user cache dir pointed into it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ADDRESS = "bob@example.com"


class Cli:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKCHAIN_")}
        self.env["XDG_CACHE_HOME"] = str(cwd / "xdg-cache")
        # Load only the plugins these tests use (still through their entry
        # points): others installed beside them only slow every start-up.
        self.env["HOOKCHAIN_PLUGINS"] = "echo,cache,redact"

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "hookchain.cli", *args], cwd=self.cwd,
                              env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=120)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "c.sqlite"


@pytest.fixture
def cfg(tmp_path, db) -> Path:
    path = tmp_path / "cfg.toml"
    path.write_text(f'[handlers.cache]\npath = "{db.as_posix()}"\n\n[handlers.redact]\n', encoding="utf-8")
    return path


def stored_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())


def test_run_twice_second_answer_from_the_cache_with_the_address_masked(cli, cfg, db):
    first = ok(cli("run", f"mail me at {ADDRESS}", "-m", "echo", "--config", str(cfg)))
    assert first == "mail me at <EMAIL_1>\n"  # echo answers with what the model saw
    second = ok(cli("run", f"mail me at {ADDRESS}", "-m", "echo", "--config", str(cfg)))
    assert second == first
    stats = ok(cli("cache", "stats", "--path", str(db)))
    assert "entries: 1\n" in stats and str(db) in stats
    assert ADDRESS.encode() not in stored_bytes(db)  # the cache never saw the address either

    # Proof that the second run did not reach the model: change the stored
    # answer, and a third run prints the changed one.
    with sqlite3.connect(db) as conn:
        planted = json.dumps([{"message": {"type": "AIMessageChunk", "data": {"content": "answered by the cache"}},
                               "generation_info": None}])
        assert conn.execute("UPDATE entries SET value = ?", (planted,)).rowcount == 1
    assert ok(cli("run", f"mail me at {ADDRESS}", "-m", "echo", "--config", str(cfg))) == "answered by the cache\n"
    # a different address masks to the same text: the same entry answers
    assert ok(cli("run", "mail me at alice@example.org", "-m", "echo", "--config", str(cfg))) == "answered by the cache\n"
    # --no-stream (invoke) reads the same entry
    assert ok(cli("run", f"mail me at {ADDRESS}", "-m", "echo", "--no-stream", "--config", str(cfg))) == "answered by the cache\n"
    # other messages miss
    assert ok(cli("run", "something else", "-m", "echo", "--config", str(cfg))) == "something else\n"
    assert json.loads(ok(cli("cache", "stats", "--path", str(db), "--json")))["entries"] == 2


def test_clear_uses_path_then_config_then_default(cli, cfg, db):
    ok(cli("run", "one", "-m", "echo", "--config", str(cfg)))
    ok(cli("run", "two", "-m", "echo", "--config", str(cfg)))
    # the path from the config found through $HOOKCHAIN_CONFIG
    stats = json.loads(ok(cli("cache", "stats", "--json", env={"HOOKCHAIN_CONFIG": str(cfg)})))
    assert stats["path"] == str(db) and stats["entries"] == 2 and stats["size"] > 0
    assert ok(cli("cache", "clear", env={"HOOKCHAIN_CONFIG": str(cfg)})) == f"cleared 2 entries from {db}\n"
    assert json.loads(ok(cli("cache", "stats", "--json", "--config", str(cfg))))["entries"] == 0
    ok(cli("run", "three", "-m", "echo", "--config", str(cfg)))
    assert ok(cli("cache", "clear", "--config", str(cfg))) == f"cleared 1 entry from {db}\n"
    assert ok(cli("cache", "clear", "--path", str(db))) == f"cleared 0 entries from {db}\n"
    # no --path and no config: the default file in the user cache dir, not created by stats or clear
    default = cli.cwd / "xdg-cache" / "hookchain" / "cache.sqlite"
    stats = json.loads(ok(cli("cache", "stats", "--json")))
    assert stats == {"path": str(default), "exists": False, "entries": 0, "size": 0}
    assert "(does not exist yet)" in ok(cli("cache", "stats"))
    assert ok(cli("cache", "clear")) == f"cleared 0 entries from {default}\n"
    assert not default.exists()


def test_commands_are_listed_and_bad_input_is_one_line(cli, tmp_path):
    assert "cache" in ok(cli("--help"))
    help_text = ok(cli("cache", "--help"))
    assert "stats" in help_text and "clear" in help_text
    bad = tmp_path / "bad.toml"
    bad.write_text("[handlers.cache]\npath = 3\n")
    proc = cli("cache", "stats", "--config", str(bad))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "path must be a string" in proc.stderr
    not_db = tmp_path / "text.sqlite"
    not_db.write_text("not a database" * 100)
    proc = cli("cache", "stats", "--path", str(not_db))
    assert proc.returncode == 1 and "cannot read the cache" in proc.stderr and proc.stderr.count("\n") == 1


def _future_schema(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE entries_v99 (k TEXT)")
        conn.execute("INSERT INTO entries_v99 VALUES ('kept')")
        conn.execute("PRAGMA user_version = 99")


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 40)


@pytest.mark.parametrize("make, reason", [(_future_schema, "cache schema version 99; this plugin reads version 1"), (_garbage, "file is not a database")])
def test_clear_recovers_a_file_it_cannot_read(cli, cfg, db, make, reason):
    make(db)
    before = db.read_bytes()
    # stats says the file is unusable, and how to fix it
    proc = cli("cache", "stats", "--path", str(db))
    assert proc.returncode == 1 and reason in proc.stderr and f"hookchain cache clear --path {db}" in proc.stderr
    # ... and that advice works
    out = ok(cli("cache", "clear", "--path", str(db)))
    moved = [p for p in db.parent.iterdir() if p.name.startswith("c.sqlite.unreadable-") and not p.name.endswith(("-wal", "-shm"))]
    assert len(moved) == 1 and out == (f"{db} was not a cache this plugin can read ({reason}): moved it to {moved[0]} "
                                       f"and created an empty cache in its place (delete the old file once you no "
                                       f"longer need it)\n")
    assert moved[0].read_bytes() == before or make is _future_schema  # nothing is lost
    if make is _future_schema:  # the moved database is intact, its log moved with it
        with sqlite3.connect(moved[0]) as conn:
            assert conn.execute("SELECT k FROM entries_v99").fetchall() == [("kept",)]
    ok(cli("run", "hello", "-m", "echo", "--config", str(cfg)))  # the new file is used
    assert json.loads(ok(cli("cache", "stats", "--json", "--path", str(db))))["entries"] == 1
