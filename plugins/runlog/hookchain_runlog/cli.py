"""``hookchain logs ...``: list, show, search, summarise and prune the run log
(added through the ``register_commands`` hook).

Which file: ``--path``, else ``path`` of the config's ``[handlers.runlog]``
table (``--config``, else the file ``hookchain run`` reads), else the default
path in the user data dir.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time
from typing import Any, Callable, Optional

import click
from rich.markup import escape

__all__ = ["logs_group", "log_path", "parse_age"]

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> float:
    """Seconds in ``text``: a number and a unit, ``s``/``m``/``h``/``d``/``w``
    (``"30d"``, ``"12h"``). Raises ``click.BadParameter`` otherwise."""
    found = _AGE.match(text)
    if not found:
        raise click.BadParameter(f"{text!r} is not an age: write a number and a unit s, m, h, d or w, e.g. 30d or 12h")
    return float(found.group(1)) * _UNIT[found.group(2)]


def _since(text: Optional[str]) -> Optional[float]:
    """``--since``: an age (``2h``: runs of the last two hours) or an ISO date/time (local time)."""
    if text is None:
        return None
    if _AGE.match(text):
        return time.time() - parse_age(text)
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither an age (2h, 7d) nor an ISO date/time (2026-11-29 or 2026-11-29T08:00)",
                                 param_hint="--since") from None


def log_path(path: Optional[str], config_path: Optional[str]) -> str:
    """The run log the commands read (see the module docstring)."""
    import os

    from hookchain import config as cfg
    from hookchain.errors import HookchainError

    from hookchain_runlog.store import default_path

    if not path:
        try:
            config = cfg.load(config_path) if config_path else cfg.find()
        except HookchainError as e:
            raise click.ClickException(str(e)) from None
        path = (config.handlers.get("runlog") or {}).get("path") if config is not None else None
        if path is not None and not isinstance(path, str):
            raise click.ClickException(f"{config.source}: [handlers.runlog] path must be a string, got {path!r}")
    return os.path.expanduser(path) if path else str(default_path())


def _with_store(func: Callable) -> Callable:
    """Adds ``--path``/``--config`` and passes an open ``RunStore`` as ``store``;
    a file that does not exist or cannot be read is a one-line error."""
    import functools

    @click.option("--path", "path", type=click.Path(dir_okay=False), help="The run log file (default: see `hookchain logs --help`).")
    @click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), help="Read [handlers.runlog] path from this config file.")
    @functools.wraps(func)
    def command(path: Optional[str], config_path: Optional[str], **kwargs: Any) -> Any:
        from pathlib import Path

        from hookchain_runlog.store import RunLogError, RunStore

        file = log_path(path, config_path)
        if not Path(file).exists():
            raise click.ClickException(f"no run log at {file} yet: enable the handler with [handlers.runlog] in hookchain.toml and run something")
        store = RunStore(file)
        try:
            return func(store=store, **kwargs)
        except (RunLogError, sqlite3.DatabaseError) as e:
            raise click.ClickException(f"cannot read the run log {file}: {e}") from None
        finally:
            store.close()

    return command


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _when(t: Optional[float]) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S") if t else "-"


def _duration(start: Optional[float], end: Optional[float]) -> str:
    if start is None or end is None:
        return "-"
    seconds = end - start
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _tokens(row: Any) -> str:
    if row["total_tokens"] is None:
        return "-"
    return f"{row['total_tokens']} ({row['input_tokens'] or 0}+{row['output_tokens'] or 0})"


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> Any:
    """A borderless rich table of ``rows`` (markup strings) as wide as the
    terminal: every column keeps its widest cell, the last one gets the rest
    of the line (at least 10 cells) and is cut with an ellipsis."""
    from rich.table import Table
    from rich.text import Text

    cells = [[Text.from_markup(cell) for cell in row] for row in rows]
    widths = [max([len(c), *(row[i].cell_len for row in cells)]) for i, c in enumerate(columns[:-1])]
    last = max(10, _console().width - sum(widths) - len(widths))
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0))
    for column, width in zip(columns, [*widths, last]):
        table.add_column(column, no_wrap=True, overflow="ellipsis", width=width)
    for row in cells:
        table.add_row(*row)
    return table


def _dicts(rows: list[Any], drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{k: row[k] for k in row.keys() if k not in drop} for row in rows]


@click.group("logs")
def logs_group() -> None:
    """The hookchain-runlog run log: every run tree the `runlog` handler wrote.

    The file is --path, else `path` in the config's [handlers.runlog] table,
    else runlog.sqlite in the user data directory (`hookchain logs path`).
    """


@logs_group.command("path")
@click.option("--path", "path", type=click.Path(dir_okay=False), help="The run log file.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), help="Read [handlers.runlog] path from this config file.")
def path_command(path: Optional[str], config_path: Optional[str]) -> None:
    """Print the run log file's path (it may not exist yet)."""
    click.echo(log_path(path, config_path))


@logs_group.command("list")
@_with_store
@click.option("-n", "limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many run trees.")
@click.option("--model", help="Only trees with a run of this model.")
@click.option("--since", help="Only trees started since: an age (2h, 7d) or an ISO date/time.")
@click.option("--errors", is_flag=True, help="Only trees whose root run failed.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per tree, in a list.")
def list_command(store: Any, limit: int, model: Optional[str], since: Optional[str], errors: bool, as_json: bool) -> None:
    """The latest run trees, newest first: time, model, duration, tokens, first words."""
    rows = store.traces(limit=limit, model=model, since=_since(since), errors=errors)
    if as_json:
        click.echo(json.dumps(_dicts(rows), indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no runs match")
        return
    _console().print(_table(("id", "started", "name", "model", "duration", "tokens", "text"), [
        (row["root_id"][:8], _when(row["start_time"]), escape(row["name"] or "-"), escape(row["model"] or "-"),
         _duration(row["start_time"], row["end_time"]), _tokens(row),
         ("[red]✗[/red] " if row["error"] is not None else "") + escape(row["preview"] or ""))
        for row in rows]))


@logs_group.command("show")
@_with_store
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="The tree's runs as a JSON list.")
def show_command(store: Any, run_id: str, as_json: bool) -> None:
    """Draw the whole tree RUN_ID belongs to (a prefix of the id is enough)."""
    found = store.resolve(run_id.strip().lower())
    if not found:
        raise click.ClickException(f"no run with id {run_id!r} in {store.path} (`hookchain logs list` shows the ids)")
    if len(found) > 1:
        raise click.ClickException(f"{run_id!r} is the start of several run ids; give more of it")
    runs = store.tree(found[0])
    if as_json:
        click.echo(json.dumps(_dicts(runs), indent=2, ensure_ascii=False))
        return
    from rich.tree import Tree

    def label(run: Any) -> str:
        parts = [f"[bold]{escape(run['name'] or '-')}[/bold] [dim]{run['run_type']}[/dim] {run['id'][:8]}",
                 _duration(run["start_time"], run["end_time"])]
        if run["model"]:
            parts.append(f"model {escape(run['model'])}")
        if run["total_tokens"] is not None:
            parts.append(f"tokens {_tokens(run)}")
        text = "  ".join(parts)
        if run["error"]:
            text += f"\n[red]error: {escape(run['error'])}[/red]"
        if run["prompt"]:
            text += "\n" + "\n".join(f"[cyan]{escape(line)}[/cyan]" for line in run["prompt"].splitlines())
        if run["response"] is not None and run["run_type"] in ("chat_model", "llm"):
            text += f"\n[green]→ {escape(run['response'])}[/green]"
        return text

    nodes: dict[str, Any] = {}
    root = None
    for run in runs:
        parent = nodes.get(run["parent_id"])
        if parent is None:
            node = Tree(label(run)) if root is None else root.add(label(run))
            root = root or node
        else:
            node = parent.add(label(run))
        nodes[run["id"]] = node
    console = _console()
    console.print(f"started {_when(runs[0]['start_time'])}, {len(runs)} run(s)")
    console.print(root)


@logs_group.command("search")
@_with_store
@click.argument("text")
@click.option("-n", "limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="The matching runs as a JSON list.")
def search_command(store: Any, text: str, limit: int, as_json: bool) -> None:
    """Model runs whose prompt or response contains TEXT (SQLite FTS5: plain
    words match as a phrase; "a OR b", prefix* and quotes work as in FTS5)."""
    try:
        rows = store.search(text, limit)
    except sqlite3.OperationalError as e:
        raise click.ClickException(f"bad search {text!r}: {e}") from None
    if as_json:
        click.echo(json.dumps(_dicts(rows, drop=("snippet",)), indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no runs match")
        return
    _console().print(_table(("run", "root", "started", "model", "match"), [
        (row["id"][:8], row["root_id"][:8], _when(row["start_time"]), escape(row["model"] or "-"),
         escape(" ".join((row["snippet"] or "").split())).replace("\x02", "[bold yellow]").replace("\x03", "[/]"))
        for row in rows]))


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of sorted ``values``."""
    rank = max(1, -(-len(values) * q // 100))
    return values[int(rank) - 1]


@logs_group.command("stats")
@_with_store
@click.option("--since", help="Only runs started since: an age (2h, 7d) or an ISO date/time.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stats_command(store: Any, since: Optional[str], as_json: bool) -> None:
    """Per model: runs, errors, tokens and latency percentiles (p50, p90, p99, in seconds)."""
    per: dict[str, dict[str, Any]] = {}
    for row in store.model_runs(_since(since)):
        entry = per.setdefault(row["model"] or "-", {"runs": 0, "errors": 0, "input_tokens": 0, "output_tokens": 0,
                                                      "total_tokens": 0, "latencies": []})
        entry["runs"] += 1
        entry["errors"] += row["error"] is not None
        for column in ("input_tokens", "output_tokens", "total_tokens"):
            entry[column] += row[column] or 0
        if row["end_time"] is not None:
            entry["latencies"].append(row["end_time"] - row["start_time"])
    out: dict[str, dict[str, Any]] = {}
    for model, entry in sorted(per.items()):
        latencies = sorted(entry.pop("latencies"))
        out[model] = {**entry, **{f"p{q}": round(_percentile(latencies, q), 4) if latencies else None for q in (50, 90, 99)}}
    trees, runs = store.counts()
    if as_json:
        click.echo(json.dumps({"trees": trees, "runs": runs, "models": out}, indent=2))
        return
    click.echo(f"{trees} run tree(s), {runs} run(s) in {store.path}")
    if not out:
        click.echo("no model runs")
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("model", "runs", "errors", "input tokens", "output tokens", "p50 s", "p90 s", "p99 s"):
        table.add_column(column, no_wrap=True, justify="left" if column == "model" else "right")
    for model, e in out.items():
        table.add_row(model, str(e["runs"]), str(e["errors"]), str(e["input_tokens"]), str(e["output_tokens"]),
                      *("-" if e[p] is None else f"{e[p]:.3f}" for p in ("p50", "p90", "p99")))
    _console().print(table)


@logs_group.command("prune")
@_with_store
@click.option("--older-than", "older_than", required=True, help="Delete run trees started longer ago than this age (30d, 12h).")
def prune_command(store: Any, older_than: str) -> None:
    """Delete the run trees started before a given age, with all their runs."""
    removed = store.prune(time.time() - parse_age(older_than))
    click.echo(f"deleted {removed} run tree{'' if removed == 1 else 's'} older than {older_than.strip()} from {store.path}")
