"""The ``hookchain`` command line (click).

``hookchain run`` renders a template, runs ``prompt | model`` and streams the
answer to stdout through the enabled handlers; ``hookchain plugins``,
``hookchain models`` and ``hookchain handlers`` list what is installed. Errors
from bad input exit with a non-zero status and one line on stderr; ``--debug`` shows the
traceback instead. Ctrl-C at any moment prints ``interrupted`` and exits with
status 130.
"""

from __future__ import annotations

import os
import signal
import sys

from hookchain._version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is imported below: not before --version and --help are answered
    from typing import Any


def _interrupted_while_starting(signum: int, frame: object) -> None:
    os.write(2, b"interrupted\n")
    os._exit(130)


#: What ``hookchain --help`` prints depends on, besides this module and the installed plugins.
_HELP_ENV = ("HOOKCHAIN_PLUGINS", "HOOKCHAIN_DISABLE_PLUGINS", "HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD", "COLUMNS",
             "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def _help_cache() -> tuple[Any, Any]:
    """Where ``hookchain --help``'s text is kept, and what it was made from:
    this module (version, modification time), the program name, the terminal
    width, ``_HELP_ENV``, the ``sys.path`` directories (an install there, of
    click too, changes them) and every installed plugin's record in the plugin
    index; no key (``None``) when the index would have to read the installed
    distributions' metadata, or a plugin failed (its warning goes to stderr)."""
    from hookchain import plugin_index

    path = plugin_index.cache_path()
    path = path.with_name(f"{path.stem}-help.json")
    known = plugin_index.remembered()
    if known is None or any(record["error"] for _, record in known[1]):
        return path, None
    state, indexed = known
    plugins = [[ep.name, ep.value, ep.dist and ep.dist.name, ep.dist and ep.dist.version, record["commands"]]
               for ep, record in indexed]
    try:  # the width click wraps to is $COLUMNS (in _HELP_ENV), else this (shutil.get_terminal_size)
        width: Any = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        width = None
    return path, [__version__, os.stat(__file__).st_mtime_ns, os.path.basename(sys.argv[0]), width,
                  [os.environ.get(v) for v in _HELP_ENV], state, plugins]


def _print_cached_help() -> None:
    """Print ``hookchain --help`` as click rendered it last time and exit, when
    nothing it was made from changed (``_help_cache``); else return."""
    import json

    try:
        path, key = _help_cache()
        if key is not None:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("key") == key and isinstance(data.get("text"), str):
                sys.stdout.write(data["text"] + "\n")  # as click.echo
                sys.stdout.flush()
                sys.exit(0)
    except (OSError, ValueError):
        pass


# Ctrl-C while this program's modules load: one line, no traceback. (Only when
# the hookchain program runs: a process importing this module keeps its own.)
_sigint = None
_program = __name__ == "__main__" or os.path.basename(getattr(sys.modules["__main__"], "__file__", None) or "") == "hookchain"
#: The ``hookchain`` console script: ``--version`` and ``--help`` are answered before click loads (~30 ms).
_console = _program and __name__ != "__main__"
if _program:
    if _console and sys.argv[1:] == ["--version"]:  # as click's version_option
        print(f"{os.path.basename(sys.argv[0])}, version {__version__}")
        sys.exit(0)
    if _console and sys.argv[1:] in (["--help"], ["-h"]):
        _print_cached_help()
    with __import__("contextlib").suppress(ValueError):  # not the main thread
        _sigint = signal.signal(signal.SIGINT, _interrupted_while_starting)

import contextlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
from typing import Any, Iterator, NoReturn, Optional, TextIO  # noqa: E402

import click  # noqa: E402

from hookchain.errors import HookchainError, PromptInputError, UnknownNameError  # noqa: E402

if _sigint is not None:
    signal.signal(signal.SIGINT, _sigint)


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=what)
        out[key] = value
    return out


def _read_stdin() -> str:
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise click.ClickException(f"stdin is not valid UTF-8 (byte {e.start}: {data[e.start:e.start + 1]!r}); re-encode it as UTF-8") from None


class _IndexedCommand(click.Command):
    """A plugin's command as the plugin index lists it (name and help, for
    ``--help``); ``_PluginGroup`` swaps in the real command when it runs."""

    def __init__(self, name: str, plugin: str, text: dict[str, Any]) -> None:
        super().__init__(name, help=text.get("help"), short_help=text.get("short_help"))
        self.plugin = plugin


class _PluginGroup(click.Group):
    """A click group with the commands plugins add (``register_commands``).

    They are listed from the plugin index without importing any plugin; the
    plugin that provides a command is imported when that command runs. A
    command the index does not know (a plugin registered in code, an index out
    of date) makes every plugin add its commands."""

    _everything = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        from hookchain.plugins import add_plugin_commands, plugin_commands

        add_plugin_commands(self)  # plugins already registered in this process (no import)
        return sorted({*super().list_commands(ctx), *plugin_commands()})

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        from hookchain.plugins import call_registration_hook, plugin_commands

        indexed = plugin_commands().get(name)
        if indexed is not None:
            return _IndexedCommand(name, *indexed)
        if not self._everything:
            self._everything = True
            call_registration_hook("register_commands", cli=self)
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[Optional[str], Optional[click.Command], list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _IndexedCommand):
            from hookchain.plugins import add_plugin_commands

            plugin = command.plugin
            add_plugin_commands(self, plugin)
            command = self.commands.get(name or "")
            if command is None:
                ctx.fail(f"plugin {plugin!r} did not add its command {name!r}; see `hookchain plugins`")
        return name, command, rest


class _Interrupted(Exception):
    """Ctrl-C, carried past click (which would print "Aborted!")."""


class _Cli(_PluginGroup):
    """The ``hookchain`` group: every error is one line on stderr, ``Error: ...``
    (usage errors: status 2, as click; other errors: 1); Ctrl-C prints
    ``interrupted`` and exits with status 130 (128 + SIGINT), as shells report."""

    def main(self, args: Any = None, prog_name: Optional[str] = None, complete_var: Optional[str] = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            hint = f"; try '{e.ctx.command_path} --help' for help." if e.ctx is not None else ""
            click.echo(f"Error: {e.format_message().rstrip('.')}{hint}", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except (_Interrupted, KeyboardInterrupt, click.Abort):
            click.echo("interrupted", err=True)
            sys.exit(130)
        sys.exit(code or 0)  # click.exceptions.Exit's code (e.g. 0 after --help), else 0

    def get_help(self, ctx: click.Context) -> str:
        """As click's; ``hookchain --help`` keeps its text for the next time (``_help_cache``)."""
        text = super().get_help(ctx)
        if _console and ctx.parent is None and sys.argv[1:] in (["--help"], ["-h"]) and "\x1b" not in text:
            from hookchain.plugin_index import write_json

            path, key = _help_cache()
            if key is not None:
                write_json(path, {"key": key, "text": text})
        return text

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, but each command's summary in full (click cuts it with "...")."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=sys.maxsize)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            raise _Interrupted from None

    def invoke(self, ctx: click.Context) -> None:
        try:
            super().invoke(ctx)  # a command's return value is not an exit status
        except KeyboardInterrupt:
            raise _Interrupted from None


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__)
def main() -> None:
    """hookchain: prompt -> model pipelines with plugin models and handlers."""


class _Output:
    """stdout carries only the answer: while ``hookchain run`` runs, whatever
    else writes to ``sys.stdout`` or ``sys.stderr`` (handlers, plugins,
    warnings) goes to stderr.

    When stdout and stderr are the same terminal, pipe or file (``2>&1``), a
    line written to one first ends an unfinished line of the other, so the
    streamed answer and handler lines never share a line.
    """

    def __init__(self) -> None:
        self.out, self.err = sys.stdout, sys.stderr
        try:
            self.shared = os.path.samestat(os.fstat(self.out.fileno()), os.fstat(self.err.fileno()))
        except (AttributeError, OSError, ValueError):  # not real files (e.g. click's CliRunner)
            self.shared = False
        self._open: Any = None  # the stream whose last line is unfinished

    def write(self, stream: TextIO, text: str) -> None:
        if not text:
            return
        if self.shared:
            if self._open is not None and self._open is not stream:
                self._open.write("\n")
                self._open.flush()
            self._open = None if text.endswith("\n") else stream
        stream.write(text)
        if self.shared or stream is self.out:
            stream.flush()

    def answer(self, text: str) -> None:
        """Write a piece of the answer to stdout and flush it (each streamed
        token shows at once, on a terminal or through a pipe)."""
        if self.shared and (self._open is not self.out or text.endswith("\n")):
            self.write(self.out, text)  # ends a handler's unfinished line first; tracks the answer's
        elif text:  # what write() does for it otherwise, inline: called per streamed token
            self.out.write(text)
            self.out.flush()

    def end_answer(self) -> None:
        """End the answer's line (unless a handler line already did, on a shared terminal)."""
        if not self.shared or self._open is self.out:
            self.write(self.out, "\n")

    @contextlib.contextmanager
    def redirected(self) -> Iterator[None]:
        """``sys.stdout`` and ``sys.stderr`` both write to stderr, through ``write``."""
        side = _Stderr(self)
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = side  # type: ignore[assignment]
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved


class _Stderr:
    """The file object handed out as ``sys.stdout``/``sys.stderr`` during a run."""

    def __init__(self, output: _Output) -> None:
        self._output = output

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # as a text stream does (click probes with b"")
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._output.write(self._output.err, text)
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding...
        return getattr(self._output.err, name)


def _end_on_broken_pipe() -> NoReturn:
    """The reader of stdout left (``hookchain run ... | head -c 3``): end quietly
    with status 141, as a Unix tool killed by SIGPIPE (128 + 13)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the exit-time flush must not fail again
    sys.exit(141)


@main.command()
@click.argument("template")
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE", help="A template variable.")
@click.option("-m", "--model", "model_name", help="Model name (default: the config's `model`).")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE", help="A model option.")
@click.option("-H", "--handler", "handler_names", multiple=True, metavar="NAME",
              help="Enable a handler for this run, with its options from the config (even if disabled there).")
@click.option("-O", "--handler-option", "handler_options", multiple=True, metavar="NAME.KEY=VALUE",
              help="A handler option; enables the handler NAME.")
@click.option("--system", help="A system message sent before the template.")
@click.option("--no-stream", is_flag=True, help="Print the answer when complete instead of streaming it.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file (default: see docs).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def run(template: str, variables: tuple[str, ...], model_name: Optional[str], options: tuple[str, ...],
        handler_names: tuple[str, ...], handler_options: tuple[str, ...], system: Optional[str], no_stream: bool,
        config_path: Optional[str], debug: bool) -> None:
    """Render TEMPLATE ('-' reads stdin) and stream the model's answer.

    The answer goes to stdout, alone; handler output goes to stderr."""
    output = _Output()
    try:
        with output.redirected():
            _run(output, template, _pairs(variables, "--var"), model_name, _pairs(options, "-o"),
                 _handler_pairs(handler_names, handler_options), system, no_stream, config_path)
    except BrokenPipeError:
        _end_on_broken_pipe()
    except (HookchainError, TypeError, ValueError) as e:
        if debug:
            raise
        raise click.ClickException(_missing_variables(e, variables) if isinstance(e, PromptInputError) else str(e)) from None


def _missing_variables(error: PromptInputError, variables: tuple[str, ...]) -> str:
    """The template's missing variables, as a command-line user passes them."""
    received = sorted(item.partition("=")[0] for item in variables)
    return (f"the template is missing variable(s) {', '.join(map(repr, error.missing))} "
            f"(received: {', '.join(map(repr, received)) or 'none'}): pass "
            f"{' '.join(f'--var {name}=VALUE' for name in error.missing)}; to print a literal brace in the "
            f"template, double it: '{{{{{error.missing[0]}}}}}'")


def _find_config(config_path: Optional[str]) -> tuple[Any, str]:
    """The config ``hookchain run`` uses (``--config``, else ``hookchain.config.find``,
    else the embedded default) and where it comes from, for people."""
    from hookchain import config as cfg

    if config_path:
        return cfg.load(config_path), config_path
    config = cfg.find()
    if config is None:
        return cfg.load_default(), f"embedded default ({cfg.DEFAULT_CONFIG})"
    return config, f"{config.source} (from $HOOKCHAIN_CONFIG)" if os.environ.get("HOOKCHAIN_CONFIG") else config.source


def _handler_pairs(names: tuple[str, ...], options: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """``{handler name: {option: value}}`` from ``--handler NAME`` and ``-O NAME.KEY=VALUE``."""
    out: dict[str, dict[str, str]] = {name: {} for name in names}
    for item, value in _pairs(options, "-O").items():
        name, dot, key = item.rpartition(".")
        if not name or not key:
            raise click.BadParameter(f"{item + '=' + value!r} is not NAME.KEY=VALUE", param_hint="-O")
        out.setdefault(name, {})[key] = value
    return out


def _run(output: _Output, template: str, variables: dict[str, str], model_name: Optional[str], options: dict[str, str],
         handler_options: dict[str, dict[str, str]], system: Optional[str], no_stream: bool, config_path: Optional[str]) -> None:
    from hookchain import config as cfg
    from hookchain.messages import SystemMessage
    from hookchain.plugins import get_model
    from hookchain.language_models import BaseLLM
    from hookchain.prompts import ChatPromptTemplate, PromptTemplate

    config, _ = _find_config(config_path)
    if config.source == str(cfg.DEFAULT_CONFIG):  # the embedded default: use what of it is installed
        from hookchain.plugins import list_handlers

        installed = list_handlers()
        for name in [n for n in config.handlers if n not in installed]:
            del config.handlers[name]
            click.echo(f"note: handler {name!r} of the default config is not installed; running without it", err=True)
    # A handler named on the command line: -O options over the config's table
    # for it (even with enabled = false), over the embedded default config's
    # (stdout: run lines, no tokens, since the answer is already on stdout).
    command_line = {}
    for name, given in handler_options.items():
        if name in config.handlers and not given:
            continue  # enabled by the config as it is
        table = config.handler_tables.get(name)
        if table is None:
            table = cfg.load_default().handler_tables.get(name, {})
        command_line[name] = {**table, **given}
        config.handlers.pop(name, None)
    cfg.activate(config)
    if command_line:
        from hookchain.callbacks import enable_handler
        from hookchain.plugins import get_handler

        for name, options_ in command_line.items():
            enable_handler(get_handler(name, **options_))
    if template == "-":
        template = _read_stdin().removesuffix("\n")
    model_name = model_name or config.model
    default = not model_name
    if default:  # a config without `model` (e.g. a handler project's [tool.hookchain]): the default model
        model_name = cfg.load_default().model
    try:
        model = get_model(model_name, **{**config.models.get(model_name, {}), **options})
    except UnknownNameError as e:
        if default:
            e.args = (f"{e.args[0]} {config.source} sets no `model`, so the default model {model_name!r} was used: "
                      f"set `model` there or pass -m NAME", *e.args[1:])
        raise
    if isinstance(model, BaseLLM):  # a text-completion model completes the text itself
        if system:
            raise click.UsageError(f"--system needs a chat model; {model_name!r} is a text-completion model")
        prompt: Any = PromptTemplate.from_template(template)
    else:
        parts: list[Any] = [SystemMessage(system)] if system else []
        prompt = ChatPromptTemplate.from_messages([*parts, ("human", template)])
    chain = prompt | model
    if no_stream:
        output.answer(_text(chain.invoke(variables)))
        output.end_answer()
        return
    # closing(): an interrupt (Ctrl-C) or a closed pipe ends every open run
    # with an error event and closes the model's stream at once.
    with contextlib.closing(chain.stream(variables)) as stream:
        answer = output.answer
        for chunk in stream:
            answer(_text(chunk))
    output.end_answer()


def _text(output: Any) -> str:
    """The text of a chat model's message (chunk) or a text-completion model's str."""
    if isinstance(output, str):
        return output
    content = output.content
    return content if content.__class__ is str else output.text


def _plugins_table(as_json: bool) -> None:
    from hookchain.plugins import list_plugins

    plugins = list_plugins()
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in plugins], indent=2))
        return
    if not plugins:
        click.echo("no plugins installed (entry-point group 'hookchain')")
    for p in plugins:
        click.echo(f"{p.name}  {p.distribution or '-'} {p.version or ''}".rstrip())
        click.echo(f"  hooks:    {', '.join(p.hooks) or '-'}")
        click.echo(f"  models:   {', '.join(p.models) or '-'}")
        click.echo(f"  handlers: {', '.join(p.handlers) or '-'}")
        if p.error:
            click.secho(f"  error:    {p.error}", fg="red")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--refresh", is_flag=True, help="Rebuild the plugin index first (imports every installed plugin).")
def plugins(as_json: bool, refresh: bool) -> None:
    """List installed plugins, what they register, and load errors."""
    if refresh:
        from hookchain.plugins import refresh as rebuild_index

        rebuild_index()
    _plugins_table(as_json)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models(as_json: bool) -> None:
    """List registered model names and the plugins providing them."""
    from hookchain.plugins import list_models

    _names(list_models(), as_json)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def handlers(as_json: bool) -> None:
    """List registered handler names and the plugins providing them."""
    from hookchain.plugins import list_handlers

    _names(list_handlers(), as_json)


def _names(table: dict[str, list[str]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    for name, providers in table.items():
        click.echo(f"{name}  ({', '.join(providers)})")



class _LazyCommand(click.Command):
    """A built-in command whose module is imported only when it runs (or its
    own ``--help`` shows): ``hookchain --help`` lists it from ``short_help``."""

    def __init__(self, name: str, target: str, short_help: str) -> None:
        super().__init__(name, short_help=short_help, help=short_help)
        self.target = target

    def make_context(self, info_name: Optional[str], args: list[str], parent: Optional[click.Context] = None,
                     **extra: Any) -> click.Context:
        module, _, attr = self.target.partition(":")
        command = getattr(__import__(module, fromlist=[attr]), attr)
        return command.make_context(info_name, args, parent=parent, **extra)


main.add_command(_LazyCommand("batch", "hookchain.batch.cli:batch",
                              "Run a prompt over every row of a dataset into JSONL, with progress and --resume."))


@main.command("new-plugin")
@click.argument("name")
@click.option("--kind", type=click.Choice(["model", "llm", "handler"]), required=True,
              help="A chat model plugin, a text-completion model (llm) plugin or a callback handler plugin.")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Where to write the project (default: ./hookchain-NAME); must not exist or be empty.")
def new_plugin(name: str, kind: str, directory: Optional[str]) -> None:
    """Write a plugin project NAME, ready to install and test.

    It holds a pyproject.toml with the `hookchain` entry point, the package
    with its hookimpl (a working model or handler), a README, and tests that
    run hookchain's conformance suite."""
    from hookchain.scaffold import create_plugin

    try:
        target, files = create_plugin(name, kind, directory)
    except HookchainError as e:
        raise click.ClickException(str(e)) from None
    for path in files:
        click.echo(f"created {path}")
    click.echo(f"next: cd {target} && pip install -e '.[test]' && pytest")


@main.command("config")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file (default: as `run`).")
def config_command(config_path: Optional[str]) -> None:
    """Show the config `run` uses: file, model, enabled handlers (secrets masked).

    Exits with status 1 when a model or handler it names cannot be built."""
    from hookchain import config as cfg
    from hookchain.plugins import get_handler, get_model

    try:
        config, where = _find_config(config_path)
    except HookchainError as e:
        raise click.ClickException(str(e)) from None
    model = config.model or cfg.load_default().model
    note = "" if config.model else f" (the default: {config.source} sets no `model`)"
    click.echo(f"file:     {where}")
    click.echo(f"model:    {model}{note}")
    failed = _show_options(config.models.get(model, {}), lambda options: get_model(model, **options), "  ")
    timeout = config.handler_timeout
    click.echo(f"handler_timeout: {'none' if timeout is None else f'{timeout:g} s'}")
    click.echo("handlers:" if config.handlers else "handlers: none")
    for name, options in config.handlers.items():
        click.echo(f"  {name}")
        failed |= _show_options(options, lambda options, name=name: get_handler(name, **options), "    ")
    if failed:
        sys.exit(1)


_SECRET_WORDS = {"key", "apikey", "token", "secret", "password", "passwd", "pwd", "credential", "credentials",
                 "auth", "authorization", "cookie"}
_URL_PASSWORD = re.compile(r"(://[^/@:\s]*:)[^/@\s]+@")


def _show_options(options: dict[str, Any], build: Any, indent: str) -> bool:
    """Print ``options`` as ``key = value`` lines with secrets masked: the
    ``SecretStr`` fields of the model or handler ``build(options)`` makes (its
    ``options_model``, else its own fields), keys that look secret (``api_key``,
    ``Authorization``, ...: the last word of the name) at any depth, and
    passwords in URLs. Prints the error and returns True when ``build`` fails."""
    from hookchain.plugins import _secret_fields

    error, secret = None, set()
    try:
        built = build(options)
        secret = _secret_fields(getattr(type(built), "options_model", None) or type(built))
    except HookchainError as e:
        error = str(e)
    for key, value in options.items():
        shown = _masked(value, key in secret or _looks_secret(key))
        click.echo(f"{indent}{key} = {json.dumps(shown, ensure_ascii=False, default=str)}")
    if error:
        click.echo(f"{indent}error: {error}")
    return error is not None


def _looks_secret(key: str) -> bool:
    return re.split(r"[^a-z0-9]+", key.lower())[-1] in _SECRET_WORDS


def _masked(value: Any, secret: bool) -> Any:
    if secret:
        return "********"
    if isinstance(value, dict):
        return {k: _masked(v, _looks_secret(str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, False) for v in value]
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\1********@", value)
    return value


if __name__ == "__main__":  # pragma: no cover
    main()
