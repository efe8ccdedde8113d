"""A batch's input: the rows of a JSONL, CSV or Parquet file, each keyed by an id.

The format comes from the file's suffix: ``.jsonl``/``.ndjson`` (one JSON
object per line; blank lines skipped), ``.csv`` (a header row, then one row per
line; every value a string) or ``.parquet`` (needs ``pyarrow``: ``pip install
'hookchain[parquet]'``). A row's fields fill the template's variables.

A row's id is the value of its ``id_field`` (as a string) when one is given,
else a hash of the row's content (the first 16 hex digits of the SHA-256 of
its fields as sorted JSON), with ``-2``, ``-3`` ... added to repeats of an
identical row, so the same file always gives the same ids: that is what lets
``--resume`` match the rows already written.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any, NamedTuple, Optional, Union

from hookchain.errors import HookchainError

__all__ = ["Row", "BatchInputError", "read_rows", "FORMATS"]

#: File suffix -> format name.
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


class BatchInputError(HookchainError, ValueError):
    """The batch's input (or output, on resume) cannot be used as it is; the
    message names the file, the line or row, and what to change."""


class Row(NamedTuple):
    """One input row: ``id`` (str, unique in the file) and ``fields`` (the
    template's variables, ``dict[str, Any]``)."""

    id: str
    fields: dict[str, Any]


def _jsonl(path: Path) -> list[tuple[str, dict[str, Any]]]:
    out = []
    with path.open("rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as e:
                raise BatchInputError(f"{path}:{number}: not valid JSON ({e}); each line must be one JSON object") from None
            if not isinstance(value, dict):
                raise BatchInputError(f"{path}:{number}: a JSON {type(value).__name__}, not an object; "
                                      "each line must be one JSON object of the row's fields")
            out.append((f"line {number}", value))
    return out


def _csv(path: Path) -> list[tuple[str, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            return []
        rows = []
        for row in reader:
            if None in row:
                raise BatchInputError(f"{path}:{reader.line_num}: more values than the header has columns")
            rows.append((f"line {reader.line_num}", row))
        return rows


def require_pyarrow(what: str) -> Any:
    """``pyarrow.parquet``, or ``BatchInputError`` saying ``what`` needs it and how to install it."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise BatchInputError(f"{what} needs pyarrow: pip install 'hookchain[parquet]'") from None
    return pq


def _parquet(path: Path) -> list[tuple[str, dict[str, Any]]]:
    pq = require_pyarrow(f"{path}: reading Parquet")
    return [(f"row {i + 1}", row) for i, row in enumerate(pq.read_table(path).to_pylist())]


def _content_id(fields: dict[str, Any]) -> str:
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_rows(path: Union[str, Path], id_field: Optional[str] = None) -> list[Row]:
    """The rows of ``path``, in file order.

    Args:
        path: a ``.jsonl``/``.ndjson``, ``.csv`` or ``.parquet`` file.
        id_field: the field holding each row's id; ``None``: a hash of the row.

    Raises:
        BatchInputError: unknown suffix, unreadable file, a line that is not a
            JSON object, a row without ``id_field``, two rows with one id,
            Parquet without pyarrow.
    """
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise BatchInputError(f"{path}: unknown input format {path.suffix or '(no suffix)'!r}; "
                              f"use one of {', '.join(FORMATS)}")
    try:
        raw = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}[kind](path)
    except OSError as e:
        raise BatchInputError(f"{path}: cannot read the input: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise BatchInputError(f"{path}: not valid UTF-8 ({e.reason} at byte {e.start}); re-encode it as UTF-8") from None
    rows: list[Row] = []
    where: dict[str, str] = {}
    for place, fields in raw:
        if id_field is None:
            base = _content_id(fields)
            row_id, n = base, 1
            while row_id in where:  # an identical row: numbered repeats
                n += 1
                row_id = f"{base}-{n}"
        else:
            if id_field not in fields or fields[id_field] is None:
                raise BatchInputError(f"{path}: {place} has no {id_field!r} field (--id-field); give every row "
                                      f"one, or leave out --id-field to key rows by a hash of their content")
            row_id = str(fields[id_field])
            if row_id in where:
                raise BatchInputError(f"{path}: {place} repeats the id {row_id!r} of {where[row_id]} "
                                      f"(--id-field {id_field}); ids must be unique")
        where[row_id] = place
        rows.append(Row(row_id, fields))
    return rows
