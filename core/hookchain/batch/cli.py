"""The ``hookchain batch`` command (registered lazily by ``hookchain.cli``)."""

from __future__ import annotations

import sys
from typing import Any, Optional

import click

from hookchain.cli import _pairs
from hookchain.errors import HookchainError

__all__ = ["batch"]


@click.command("batch")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@click.argument("output_path", metavar="OUTPUT", type=click.Path(dir_okay=False))
@click.option("--template", help="The prompt; {field} takes the row's field.")
@click.option("--template-file", type=click.Path(exists=True, dir_okay=False), help="Read the prompt from a file.")
@click.option("--system", help="A system message sent before the prompt.")
@click.option("-m", "--model", "model_name", help="Model name (default: the config's `model`).")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE", help="A model option.")
@click.option("-H", "--handler", "handler_names", multiple=True, metavar="NAME",
              help="Enable a handler (options from the config's [handlers.NAME]).")
@click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True,
              help="Model calls in flight at once (per Ray task with --executor ray).")
@click.option("--rate", help="At most this many calls per time unit, e.g. 60/min, 5/s (default: no limit).")
@click.option("--retries", type=click.IntRange(min=0), default=2, show_default=True,
              help="Further attempts for a retryable error (rate limit, timeout, connection), with backoff.")
@click.option("--id-field", help="The field holding each row's id (default: a hash of the row).")
@click.option("--resume", is_flag=True, help="OUTPUT has rows already: skip them and do the rest.")
@click.option("--executor", default="local", show_default=True, help="Where rows run: local, or a plugin's (ray).")
@click.option("-X", "--executor-option", "executor_options", multiple=True, metavar="KEY=VALUE",
              help="An option of the executor.")
@click.option("--ray-address", help="With --executor ray: the cluster (default: start a local one); same as -X address=...")
@click.option("--parquet", "parquet_path", type=click.Path(dir_okay=False),
              help="Also write every record of OUTPUT to this Parquet file at the end (needs pyarrow).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file (default: as `run`).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def batch(input_path: str, output_path: str, template: Optional[str], template_file: Optional[str], system: Optional[str],
          model_name: Optional[str], options: tuple[str, ...], handler_names: tuple[str, ...], concurrency: int,
          rate: Optional[str], retries: int, id_field: Optional[str], resume: bool, executor: str,
          executor_options: tuple[str, ...], ray_address: Optional[str], parquet_path: Optional[str],
          config_path: Optional[str], debug: bool) -> None:
    """Run the prompt over every row of INPUT (JSONL, CSV, Parquet) into OUTPUT (JSONL).

    One line per row, in completion order: id, answer, usage, latency, error.
    Each line is written as its row finishes, so after a crash or Ctrl-C
    `--resume` does exactly the rows not yet in OUTPUT. Progress goes to
    stderr. Exit status 0 only when every row succeeded (1 otherwise)."""
    from hookchain.batch import run_batch
    from hookchain.batch.progress import make_reporter, summary

    if (template is None) == (template_file is None):
        raise click.UsageError("give the prompt with either --template TEXT or --template-file FILE")
    if template_file is not None:
        with open(template_file, encoding="utf-8") as f:
            template = f.read().removesuffix("\n")
    extra: dict[str, Any] = _pairs(executor_options, "-X")
    if ray_address:
        extra["address"] = ray_address
    reporter = make_reporter()
    seen: list[Any] = []  # the last progress, for the summary (also after Ctrl-C)

    def progress(state: Any) -> None:
        seen[:] = [state]
        reporter(state)

    try:
        state = run_batch(
            input_path, output_path, template=template or "", system=system, model=model_name,
            model_options=_pairs(options, "-o"), handlers={name: {} for name in handler_names}, config=config_path,
            concurrency=concurrency, rate=rate, retries=retries, id_field=id_field, resume=resume,
            executor=executor, executor_options=extra, progress=progress, parquet=parquet_path,
        )
    except (HookchainError, TypeError, ValueError) as e:
        if debug:
            raise
        raise click.ClickException(str(e)) from None
    finally:
        reporter.close()
        if seen:
            click.echo(summary(seen[0], output_path), err=True)
    if not state.succeeded:
        sys.exit(1)

