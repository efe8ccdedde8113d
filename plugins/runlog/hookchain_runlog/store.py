"""The run log's SQLite file: runs, one summary row per run tree, and an FTS5
index over the prompts and responses of model runs.

Concurrency, by design (several threads and processes may write one file):

* WAL journal mode: readers never block the writer, the writer never blocks
  readers; one writer at a time across processes.
* ``busy_timeout``: a writer that finds the file locked waits (up to
  ``timeout`` seconds) instead of failing.
* A run tree is written in one ``BEGIN IMMEDIATE`` transaction (its runs, its
  summary, its index rows): a reader sees a whole tree or none of it.
* One connection per thread (``threading.local``), re-opened after ``fork``.

Tables (``PRAGMA user_version`` = ``SCHEMA_VERSION``):

* ``runs``: one row per run (``id`` is the run id as text; ``parent_id``,
  ``root_id``; times are Unix seconds; ``inputs``/``outputs``/``tags``/
  ``metadata``/``params`` are JSON text; ``prompt``/``response`` the text of
  a model run's messages and answer).
* ``traces``: one row per run tree, keyed by ``root_id``: what ``hookchain
  logs list`` shows (model, tokens, duration, error, a preview).
* ``runs_fts``: FTS5 over ``runs.prompt``/``runs.response`` (external
  content, kept in step by triggers).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence, Union

__all__ = ["RunStore", "RunLogError", "default_path", "RUN_COLUMNS", "TRACE_COLUMNS", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1

RUN_COLUMNS = (
    "id", "parent_id", "root_id", "name", "run_type", "start_time", "end_time", "inputs", "outputs", "error",
    "tags", "metadata", "params", "model", "input_tokens", "output_tokens", "total_tokens", "prompt", "response",
)
TRACE_COLUMNS = (
    "root_id", "name", "start_time", "end_time", "model", "input_tokens", "output_tokens", "total_tokens",
    "error", "preview", "runs",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, parent_id TEXT, root_id TEXT NOT NULL, name TEXT, run_type TEXT NOT NULL,
    start_time REAL NOT NULL, end_time REAL, inputs TEXT, outputs TEXT, error TEXT, tags TEXT, metadata TEXT,
    params TEXT, model TEXT, input_tokens INTEGER, output_tokens INTEGER, total_tokens INTEGER,
    prompt TEXT, response TEXT
);
CREATE INDEX IF NOT EXISTS runs_root ON runs (root_id);
CREATE INDEX IF NOT EXISTS runs_model ON runs (model, start_time) WHERE model IS NOT NULL;
CREATE TABLE IF NOT EXISTS traces (
    root_id TEXT PRIMARY KEY, name TEXT, start_time REAL NOT NULL, end_time REAL, model TEXT,
    input_tokens INTEGER, output_tokens INTEGER, total_tokens INTEGER, error TEXT, preview TEXT, runs INTEGER
);
CREATE INDEX IF NOT EXISTS traces_start ON traces (start_time);
CREATE VIRTUAL TABLE IF NOT EXISTS runs_fts USING fts5 (prompt, response, content='runs', content_rowid='rowid');
CREATE TRIGGER IF NOT EXISTS runs_fts_insert AFTER INSERT ON runs
    WHEN new.prompt IS NOT NULL OR new.response IS NOT NULL BEGIN
    INSERT INTO runs_fts (rowid, prompt, response) VALUES (new.rowid, new.prompt, new.response);
END;
CREATE TRIGGER IF NOT EXISTS runs_fts_delete AFTER DELETE ON runs
    WHEN old.prompt IS NOT NULL OR old.response IS NOT NULL BEGIN
    INSERT INTO runs_fts (runs_fts, rowid, prompt, response) VALUES ('delete', old.rowid, old.prompt, old.response);
END;
"""


class RunLogError(Exception):
    """The run log file cannot be used (not a database, another schema version...)."""


def default_path() -> Path:
    """``<user data dir>/hookchain/runlog.sqlite`` (``platformdirs.user_data_dir``),
    e.g. ``~/.local/share/hookchain/runlog.sqlite`` on Linux."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("hookchain", appauthor=False)) / "runlog.sqlite"


class RunStore:
    """Run trees in a SQLite file at ``path``; thread- and process-safe.

    Args:
        path: the database file (created, with its folder, on first use).
        timeout: seconds a statement waits for another connection's lock
            (``busy_timeout``) before failing with ``sqlite3.OperationalError``.
    """

    def __init__(self, path: Union[str, os.PathLike], timeout: float = 30.0) -> None:
        self.path = Path(os.path.expanduser(os.fspath(path)))
        self.timeout = timeout
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    def connect(self) -> sqlite3.Connection:
        """This thread's connection (opened, and the schema created, on first use).
        Raises ``RunLogError`` when the file is not a run log this plugin can read."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise RunLogError(f"{self.path} has run log schema version {version}; this plugin reads version {SCHEMA_VERSION}")
            if version == 0:
                conn.execute("BEGIN IMMEDIATE")  # one process creates the schema; the others wait, then find it
                for statement in _statements(_SCHEMA):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            conn.close()
            raise RunLogError(f"{self.path} is not a usable run log: {e}") from e
        except BaseException:
            conn.close()
            raise
        conn.row_factory = sqlite3.Row
        local.conn, local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    # -- writing ------------------------------------------------------------ #
    def write(self, trees: Iterable[tuple[Sequence[dict[str, Any]], dict[str, Any]]]) -> int:
        """Write run trees, each ``(runs, trace)`` (dicts keyed by ``RUN_COLUMNS``
        and ``TRACE_COLUMNS``), in one transaction; returns the number of runs.
        A run id already stored is kept as it was (``INSERT OR IGNORE``)."""
        conn = self.connect()
        run_sql = f"INSERT OR IGNORE INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * len(RUN_COLUMNS))})"
        trace_sql = f"INSERT OR REPLACE INTO traces ({', '.join(TRACE_COLUMNS)}) VALUES ({', '.join('?' * len(TRACE_COLUMNS))})"
        count = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            for runs, trace in trees:
                conn.executemany(run_sql, [tuple(r.get(c) for c in RUN_COLUMNS) for r in runs])
                conn.execute(trace_sql, tuple(trace.get(c) for c in TRACE_COLUMNS))
                count += len(runs)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return count

    def prune(self, before: float) -> int:
        """Delete the run trees started before ``before`` (Unix seconds); returns how many."""
        conn = self.connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            roots = "SELECT root_id FROM traces WHERE start_time < ?"
            conn.execute(f"DELETE FROM runs WHERE root_id IN ({roots})", (before,))
            removed = conn.execute("DELETE FROM traces WHERE start_time < ?", (before,)).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(removed)

    # -- reading ------------------------------------------------------------ #
    def traces(self, limit: int = 20, model: Optional[str] = None, since: Optional[float] = None,
               errors: bool = False) -> list[sqlite3.Row]:
        """The latest run trees, newest first; ``model`` matches a model name
        used anywhere in the tree, ``since`` is Unix seconds, ``errors`` keeps failed trees."""
        where, args = [], []  # type: list[str], list[Any]
        if model:
            where.append("root_id IN (SELECT root_id FROM runs WHERE model = ?)")
            args.append(model)
        if since is not None:
            where.append("start_time >= ?")
            args.append(since)
        if errors:
            where.append("error IS NOT NULL")
        sql = "SELECT * FROM traces" + (f" WHERE {' AND '.join(where)}" if where else "")
        return self.connect().execute(f"{sql} ORDER BY start_time DESC LIMIT ?", (*args, limit)).fetchall()

    def resolve(self, prefix: str) -> list[str]:
        """The run ids starting with ``prefix`` (at most 2: enough to tell ambiguity)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.connect().execute("SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (escaped + "%",))
        return [r[0] for r in rows]

    def tree(self, run_id: str) -> list[sqlite3.Row]:
        """Every run of the tree ``run_id`` belongs to, by start time."""
        conn = self.connect()
        row = conn.execute("SELECT root_id FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return []
        return conn.execute("SELECT * FROM runs WHERE root_id = ? ORDER BY start_time, rowid", (row[0],)).fetchall()

    def search(self, text: str, limit: int = 20) -> list[sqlite3.Row]:
        """Model runs whose prompt or response matches ``text`` (an FTS5 query;
        plain words are matched as a phrase), best match first, with a
        ``snippet`` column (the match between ``\x02`` and ``\x03``). Raises ``sqlite3.OperationalError`` for a bad query."""
        query = text if any(c in text for c in '"*:^()') or " OR " in text or " AND " in text else f'"{text}"'
        return self.connect().execute(
            "SELECT runs.*, snippet(runs_fts, -1, char(2), char(3), '…', 12) AS snippet FROM runs_fts "
            "JOIN runs ON runs.rowid = runs_fts.rowid WHERE runs_fts MATCH ? ORDER BY rank LIMIT ?",
            (query, limit)).fetchall()

    def model_runs(self, since: Optional[float] = None) -> list[sqlite3.Row]:
        """``(model, start_time, end_time, error, input_tokens, output_tokens, total_tokens)`` of every model run."""
        sql = ("SELECT model, start_time, end_time, error, input_tokens, output_tokens, total_tokens FROM runs "
               "WHERE run_type IN ('llm', 'chat_model')")
        if since is not None:
            return self.connect().execute(sql + " AND start_time >= ?", (since,)).fetchall()
        return self.connect().execute(sql).fetchall()

    def counts(self) -> tuple[int, int]:
        """``(run trees, runs)`` stored."""
        conn = self.connect()
        return (conn.execute("SELECT count(*) FROM traces").fetchone()[0], conn.execute("SELECT count(*) FROM runs").fetchone()[0])

    def integrity(self) -> str:
        """``PRAGMA integrity_check``'s answer (``"ok"`` for a sound file)."""
        return str(self.connect().execute("PRAGMA integrity_check").fetchone()[0])


def _statements(script: str) -> list[str]:
    """``script``'s statements (``sqlite3.complete_statement`` splits triggers correctly)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return [s for s in out if s]
