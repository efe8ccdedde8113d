"""The SQLite store: one table of answers by key, safe for several processes.

Concurrency, by design:

* WAL journal mode: readers never block the writer and the writer never blocks
  readers; one writer at a time, across processes.
* ``busy_timeout``: a writer that finds the database locked waits (up to
  ``timeout`` seconds) instead of failing at once.
* Every write is one ``INSERT OR REPLACE`` statement in autocommit mode, i.e.
  its own short transaction: no lock is held between statements.
* One connection per thread (``threading.local``), re-opened after a ``fork``
  (a connection is never shared by two threads or two processes).

Values are JSON text (messages through ``hookchain.messages.message_to_dict``):
a stored stream is a list of chunks, a stored ``invoke`` the final result.
Nothing but the key hash, the answer, the model's class and the time of
writing is stored: not the prompt.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Optional, Union

from hookchain.messages import AIMessageChunk, BaseMessageChunk, message_to_dict, messages_from_dict
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

__all__ = ["SQLiteCache", "default_path", "encode_chunk", "encode_result", "decode", "CacheError",
           "UnreadableCacheError"]

logger = logging.getLogger("hookchain_cache")

#: Written to ``PRAGMA user_version``; a file with another version is not read.
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key     TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    value   TEXT NOT NULL,
    model   TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class CacheError(Exception):
    """The cache file cannot be used (not a database, another schema version...)."""


class UnreadableCacheError(CacheError):
    """The file at the cache path is not a cache this plugin can read: not a
    SQLite database, a damaged one, or another cache schema version.
    ``SQLiteCache.replace_unreadable`` (``hookchain cache clear``) recovers.

    Attributes:
        reason: what is wrong, e.g. ``"file is not a database"``.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} is not a cache this plugin can read ({reason}); "
                         f"`hookchain cache clear --path {path}` moves it aside and starts an empty cache")
        self.reason = reason


def _is_unreadable(error: sqlite3.Error) -> bool:
    """A database error that says the file's content is wrong (not a database,
    damaged), as opposed to one about access (locked, read-only, cannot open)."""
    return isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError)


def default_path() -> Path:
    """``<user cache dir>/hookchain/cache.sqlite`` (``platformdirs.user_cache_dir``)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("hookchain", appauthor=False)) / "cache.sqlite"


# --------------------------------------------------------------------------- #
# Encoding: what a model answered, as JSON text, and back
# --------------------------------------------------------------------------- #


def _message_data(message: Any) -> dict[str, Any]:
    data = message_to_dict(message)
    # A replayed answer is a new run: the run assigns its own message id.
    data["data"]["id"] = None
    return data


def encode_chunk(chunk: Any) -> dict[str, Any]:
    """One chunk as JSON-ready data (a stored stream is the JSON list of these),
    checked to be serialisable now (raises ``TypeError`` otherwise)."""
    item = {"message": _message_data(chunk.message), "generation_info": chunk.generation_info}
    json.dumps(item)
    return item


def encode_result(result: ChatResult) -> str:
    """A ``ChatResult`` as JSON (kind ``"result"``)."""
    return json.dumps({
        "generations": [{"message": _message_data(g.message), "generation_info": g.generation_info}
                        for g in result.generations],
        "llm_output": result.llm_output,
    }, ensure_ascii=False)


def _chunk_message(data: dict[str, Any]) -> BaseMessageChunk:
    message = messages_from_dict([data])[0]
    if not isinstance(message, BaseMessageChunk):  # stored as a message: replay as its chunk
        message = AIMessageChunk(**{f: getattr(message, f) for f, _ in AIMessageChunk._fields if hasattr(message, f)})
    return message


def decode(kind: str, value: str) -> Union[ChatResult, list[ChatGenerationChunk]]:
    """What ``chat_model_cached`` returns for a stored entry: fresh objects every time."""
    data = json.loads(value)
    if kind == "chunks":
        return [ChatGenerationChunk(_chunk_message(item["message"]), item.get("generation_info")) for item in data]
    if kind == "result":
        generations = [ChatGeneration(messages_from_dict([g["message"]])[0], g.get("generation_info"))
                       for g in data["generations"]]
        return ChatResult(generations=generations, llm_output=data.get("llm_output"))
    raise CacheError(f"unknown entry kind {kind!r}")


# --------------------------------------------------------------------------- #
# The file
# --------------------------------------------------------------------------- #


class SQLiteCache:
    """Answers by key in a SQLite file at ``path``; thread- and process-safe.

    Args:
        path: the database file (created, with its directory, on first use).
        timeout: seconds a statement waits for a lock held by another
            connection (``busy_timeout``) before failing.
    """

    def __init__(self, path: Union[str, os.PathLike], timeout: float = 30.0) -> None:
        self.path = Path(os.path.expanduser(os.fspath(path)))
        self.timeout = timeout
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SQLiteCache({str(self.path)!r})"

    # -- connections ------------------------------------------------------- #
    def connect(self) -> sqlite3.Connection:
        """This thread's connection (opened, and the schema created, on first use)."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None, check_same_thread=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # e.g. a file system without shared memory
                logger.debug("hookchain-cache: %s uses journal mode %s, not WAL", self.path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise UnreadableCacheError(self.path, f"cache schema version {version}; this plugin reads version {SCHEMA_VERSION}")
            conn.execute(_SCHEMA)
            if version == 0:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as e:
            conn.close()
            if _is_unreadable(e):
                raise UnreadableCacheError(self.path, str(e)) from e
            raise CacheError(f"{self.path} is not a usable cache database: {e}") from e
        except BaseException:
            conn.close()
            raise
        local.conn, local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    # -- entries ----------------------------------------------------------- #
    def get(self, key: str) -> Optional[tuple[str, str]]:
        """``(kind, value)`` stored under ``key``, or ``None``."""
        row = self.connect().execute("SELECT kind, value FROM entries WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, key: str, kind: str, value: str, model: str) -> None:
        """Store (or replace) one entry, in one short transaction."""
        self.connect().execute(
            "INSERT OR REPLACE INTO entries (key, kind, value, model, created) VALUES (?, ?, ?, ?, ?)",
            (key, kind, value, model, time.time()),
        )

    def __len__(self) -> int:
        return int(self.connect().execute("SELECT count(*) FROM entries").fetchone()[0])

    def size(self) -> int:
        """Bytes on disk: the database file and its write-ahead log."""
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def stats(self) -> dict[str, Any]:
        """``{"path", "exists", "entries", "size"}``; reads, never creates, the file."""
        if not self.path.exists():
            return {"path": str(self.path), "exists": False, "entries": 0, "size": 0}
        return {"path": str(self.path), "exists": True, "entries": len(self), "size": self.size()}

    def clear(self) -> int:
        """Delete every entry and give the space back; returns how many there were.
        Raises ``UnreadableCacheError`` when the file is not a cache this plugin
        can read (then see ``replace_unreadable``), ``CacheError`` or
        ``sqlite3.Error`` when it cannot be used now (locked, read-only...)."""
        if not self.path.exists():
            return 0
        conn = self.connect()
        try:
            removed = conn.execute("DELETE FROM entries").rowcount
        except sqlite3.DatabaseError as e:  # e.g. "database disk image is malformed"
            if _is_unreadable(e):
                raise UnreadableCacheError(self.path, str(e)) from e
            raise
        for statement in ("PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM"):
            try:  # best effort: another process may be reading right now
                conn.execute(statement)
            except sqlite3.OperationalError as e:
                logger.debug("hookchain-cache: %s skipped: %s", statement, e)
        return int(removed)

    def replace_unreadable(self) -> Path:
        """Move the unreadable file at ``path`` aside, with its ``-wal`` and
        ``-shm`` files (so that a stale log is never applied to the new file),
        to ``<path>.unreadable-<UTC time>-<pid>``, and create an empty cache in
        its place. Nothing is deleted: the old file may not be a cache at all
        (a mistyped ``--path``). Returns the old file's new path. Raises
        ``OSError`` when the file cannot be moved, ``CacheError`` when the new
        one cannot be created."""
        self.close()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        moved = self.path.with_name(f"{self.path.name}.unreadable-{stamp}-{os.getpid()}")
        n = 1
        while moved.exists() or Path(f"{moved}-wal").exists():  # never overwrite an earlier one
            n += 1
            moved = self.path.with_name(f"{self.path.name}.unreadable-{stamp}-{os.getpid()}-{n}")
        os.rename(self.path, moved)  # same directory: atomic
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                os.rename(side, Path(f"{moved}{suffix}"))
        self.connect()
        return moved
