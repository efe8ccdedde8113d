"""A batch's OUTPUT: a JSONL file written one finished row at a time.

Crash safety: each record is one line, written by a single ``os.write`` on a
file opened with ``O_APPEND``, so once ``append`` returns the line is in the
kernel: a ``kill -9`` or a Ctrl-C afterwards cannot lose or tear it. The file
is ``fsync``-ed at most every ``fsync_interval`` seconds (default 1) and when
it is closed, so a power cut loses at most the last second's rows, and can
leave a truncated last line. On ``resume``, the rows already in the file are
read back (their ids are skipped), and a last line that is incomplete (no
newline) or not valid JSON is cut off, so that row is done again. A bad line
anywhere else is not something a crash makes: it is an error.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Union

from hookchain.batch.rows import BatchInputError, require_pyarrow

__all__ = ["OutputLog", "write_parquet"]


class OutputLog:
    """The OUTPUT file, open for appending.

    Attributes:
        path: the file.
        records: the records already in it when opened (resume), by row id.
        cut: bytes of a torn last line removed on resume (0: none).

    Raises ``BatchInputError`` when the file exists and is not empty without
    ``resume``, or holds a bad line before its last one.
    """

    def __init__(self, path: Union[str, Path], resume: bool = False, fsync_interval: float = 1.0) -> None:
        self.path = Path(path)
        self.fsync_interval = fsync_interval
        self.records: dict[str, dict[str, Any]] = {}
        self.cut = 0
        existing = self.path.exists() and self.path.stat().st_size > 0
        if existing and not resume:
            raise BatchInputError(f"{self.path}: OUTPUT already has rows; pass --resume to finish it "
                                  "(rows already there are skipped), or choose another OUTPUT")
        if existing:
            self._read_back()
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            raise BatchInputError(f"{self.path}: cannot open OUTPUT for writing: {e.strerror or e}") from None
        self._synced = time.monotonic()

    def _read_back(self) -> None:
        data = self.path.read_bytes()
        *lines, tail = data.split(b"\n")  # tail: an unfinished last line, or b""
        good = 0  # bytes of complete, valid lines
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or "id" not in record:
                if number == len(lines) and not tail:  # a torn last line: cut, that row is done again
                    break
                raise BatchInputError(f"{self.path}:{number}: not a batch record (a JSON object with an 'id'); "
                                      "OUTPUT must be the JSONL file a batch wrote")
            self.records[str(record["id"])] = record
            good += len(line) + 1
        if good < len(data):
            self.cut = len(data) - good
            os.truncate(self.path, good)

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line (one ``os.write``), then ``fsync`` if
        the last one is ``fsync_interval`` seconds old."""
        data = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:  # a regular file takes it whole; loop only on a short write
            view = view[os.write(self._fd, view):]
        if time.monotonic() - self._synced >= self.fsync_interval:
            self.sync()

    def sync(self) -> None:
        os.fsync(self._fd)
        self._synced = time.monotonic()

    def close(self) -> None:
        if self._fd >= 0:
            try:
                self.sync()
            finally:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> "OutputLog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def write_parquet(jsonl: Union[str, Path], parquet: Union[str, Path]) -> int:
    """Write every record of the JSONL file ``jsonl`` (a batch's OUTPUT) to the
    Parquet file ``parquet`` (replaced), one row per record, nested fields
    (``usage``) as structs. Returns the number of rows written. Raises
    ``BatchInputError`` without pyarrow."""
    pq = require_pyarrow(f"--parquet {parquet}")
    import pyarrow as pa

    with open(jsonl, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    pq.write_table(pa.Table.from_pylist(records), str(parquet))
    return len(records)
