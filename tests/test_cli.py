"""The ``hookchain`` command line, run as a subprocess in an empty temporary
working directory (so no ``hookchain.toml``/``pyproject.toml`` is found unless a
test writes one) with every ``HOOKCHAIN_*`` variable removed from the
environment.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ECHO_VERSION = version("hookchain-echo")
STDOUT_VERSION = version("hookchain-stdout")

JOKE = "Tell me a joke about bears"


def mask(text: str) -> str:
    return re.sub(UUID, "<uuid>", text)


class Cli:
    """Runs ``python -m hookchain.cli ARGS`` in ``cwd``."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKCHAIN_") or k == "HOOKCHAIN_DISABLE_PLUGINS"}

    def __call__(self, *args: str, input: bytes | str | None = None, env: dict[str, str] | None = None,
                 command: list[str] | None = None, merged: bool = False) -> subprocess.CompletedProcess:
        """Run and wait; ``merged``: stderr goes to the stdout pipe (``2>&1``)."""
        if isinstance(input, str):
            input = input.encode("utf-8")
        proc = subprocess.run(
            [*(command or [sys.executable, "-m", "hookchain.cli"]), *args],
            cwd=self.cwd, env={**self.env, **(env or {})}, input=input if input is not None else b"",
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merged else subprocess.PIPE, timeout=60,
        )
        proc.stdout = proc.stdout.decode("utf-8")
        proc.stderr = (proc.stderr or b"").decode("utf-8")
        return proc

    def start(self, *args: str, env: dict[str, str] | None = None, **popen: object) -> subprocess.Popen:
        """Start without waiting (stdin, stdout and stderr are pipes unless given)."""
        streams = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
        return subprocess.Popen([sys.executable, "-m", "hookchain.cli", *args], cwd=self.cwd,
                                env={**self.env, **(env or {})}, **streams)


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def quiet(tmp_path) -> Path:
    """A config with the echo model (n=9) and no handler."""
    path = tmp_path / "quiet.toml"
    path.write_text('model = "echo"\n\n[models.echo]\nn = 9\n')
    return path


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def answer(proc: subprocess.CompletedProcess) -> str:
    """stdout of a successful run; handler lines may be on stderr."""
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
    return proc.stdout


def one_line_error(proc: subprocess.CompletedProcess, code: int = 1) -> str:
    """The single ``Error: ...`` line of a failed command (no traceback)."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("Error: ")
    return errors[0]


# --------------------------------------------------------------------------- #
# hookchain run
# --------------------------------------------------------------------------- #

#: hookchain run "Tell me a joke about {animal}" --var animal=bears, default config,
#: as a terminal shows it (stdout and stderr merged): the streamed answer (stdout)
#: is on its own line between the model's start and end lines (stderr).
DEFAULT_RUN = [
    "Chain RunnableSequence started",
    "Chain ChatPromptTemplate started",
    f"Chain ended, outputs: messages=[HumanMessage(content='{JOKE}')]",
    "Chat model started",
    JOKE,
    re.compile(
        r"Chat model ended, response: generations=\[\[ChatGeneration(Chunk)?\(text='Tell me a joke about bears', "
        r"message=AIMessage(Chunk)?\(content='Tell me a joke about bears', response_metadata=\{'model_name': 'echo', "
        r"'finish_reason': 'stop'\}, id='run-<uuid>'\)\)\]\] llm_output=None run=None"
    ),
    f"Chain ended, outputs: content='{JOKE}' response_metadata={{'model_name': 'echo', 'finish_reason': 'stop'}} id='run-<uuid>'",
]


def assert_lines(out: str, expected: list) -> None:
    lines = mask(out).rstrip("\n").split("\n")
    assert len(lines) == len(expected), lines
    for line, want in zip(lines, expected):
        if isinstance(want, str):
            assert line == want
        else:
            assert want.fullmatch(line), line


def test_run_without_config_uses_the_embedded_default(cli):
    assert_lines(answer(cli("run", "Tell me a joke about {animal}", "--var", "animal=bears", merged=True)), DEFAULT_RUN)


def test_stdout_carries_only_the_answer_handler_lines_go_to_stderr(cli):
    proc = cli("run", "Tell me a joke about {animal}", "--var", "animal=bears")
    assert answer(proc) == JOKE + "\n"
    assert_lines(proc.stderr, [line for line in DEFAULT_RUN if line != JOKE])


def test_stdout_handler_named_on_the_command_line_does_not_repeat_the_answer(cli, quiet):
    # With a config that has no [handlers.stdout], --handler stdout takes the
    # embedded default config's options (runs = true, tokens = false).
    proc = cli("run", "Hello world", "--handler", "stdout", "--config", str(quiet))
    assert answer(proc) == "Hello wor\n"
    lines = proc.stderr.splitlines()
    assert lines[lines.index("Chat model started") + 1].startswith("Chat model ended, response: ")
    # Tokens asked for explicitly are printed by the handler on stderr.
    (quiet.parent / "tokens.toml").write_text('model = "echo"\n[models.echo]\nn = 5\n[handlers.stdout]\ntoken_format = "<{token}>"\n')
    proc = cli("run", "Hello world", "--config", "tokens.toml")
    assert (answer(proc), proc.stderr) == ("Hello\n", "<H><e><l><l><o><>\n")


def test_streamed_answer_and_handler_tokens_on_one_pipe_never_share_a_line(cli, tmp_path):
    # 2>&1: each switch between the answer (stdout) and a handler's output
    # (stderr) first ends the other's unfinished line; every piece is there
    # in order (the answer is written per token, flushed each time).
    (tmp_path / "tokens.toml").write_text('model = "echo"\n[models.echo]\nn = 3\n[handlers.stdout]\ntoken_format = "<{token}>"\n')
    out = answer(cli("run", "Hello world", "--config", "tokens.toml", merged=True))
    assert out == "<H>\nH\n<e>\ne\n<l>\nl\n<>\n"


def test_print_in_a_handler_goes_to_stderr(cli, tmp_path, quiet):
    site = tmp_path / "site"
    info = site / "hookchain_printer-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hookchain-printer\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[hookchain]\nprinter = hc_cli_printer\n")
    (site / "hc_cli_printer.py").write_text(
        "import hookchain\nfrom hookchain.callbacks import BaseCallbackHandler\nprint('imported')\n"
        "class Printer(BaseCallbackHandler):\n"
        "    def on_llm_new_token(self, token, **kwargs):\n        print(f'token {token!r}')\n"
        "@hookchain.hookimpl\ndef register_handlers(register):\n    register('printer', Printer)\n"
    )
    proc = cli("run", "Hi", "--handler", "printer", "--config", str(quiet), env={"PYTHONPATH": str(site)})
    assert answer(proc) == "Hi\n"
    assert proc.stderr.splitlines() == ["imported", "token 'H'", "token 'i'", "token ''"]


def test_broken_pipe_ends_quietly_with_status_141(cli, quiet):
    # Like `hookchain run ... | head -c 3`: the reader leaves while the answer
    # (longer than a pipe's buffer) is still streaming.
    proc = cli.start("run", "-", "--config", str(quiet), "-o", "n=200000")
    proc.stdin.write(b"x" * 200_000)
    proc.stdin.close()
    assert proc.stdout.read(3) == b"xxx"
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert stderr == ""
    # Nobody reading at all (`| true`): the same.
    read, write = os.pipe()
    os.close(read)
    proc = cli.start("run", "hello", "--config", str(quiet), stdout=write)
    os.close(write)
    assert (proc.wait(timeout=60), proc.stderr.read()) == (141, b"")


def test_broken_pipe_with_handlers_prints_no_handler_error(cli, tmp_path):
    with (tmp_path / "stderr").open("w+b") as err:  # a file: the run lines hold the 200 kB prompt
        proc = cli.start("run", "-", "-o", "n=200000", stderr=err)
        proc.stdin.write(b"x" * 200_000)
        proc.stdin.close()
        assert proc.stdout.read(3) == b"xxx"
        proc.stdout.close()
        assert proc.wait(timeout=60) == 141
    lines = (tmp_path / "stderr").read_text().splitlines()
    # The handler reports the cut run as LangChain does (on_llm_error with GeneratorExit), nothing else.
    assert lines[-3:] == ["Chat model started", "Chat model failed: GeneratorExit()", "Chain failed: GeneratorExit()"]


def test_run_with_config_file(cli, quiet):
    out = ok(cli("run", "Tell me a joke about {animal}", "--var", "animal=bears", "--config", str(quiet)))
    assert out == "Tell me a\n"  # [models.echo] n = 9, no handler enabled


def test_model_and_option(cli, quiet):
    assert ok(cli("run", JOKE, "-m", "echo", "-o", "n=4", "--config", str(quiet))) == "Tell\n"
    # -o wins over the config's [models.echo]; an option may be given twice (last wins).
    assert ok(cli("run", JOKE, "-o", "n=1", "-o", "n=2", "--config", str(quiet))) == "Te\n"


def test_model_option_with_the_default_config(cli):
    out = answer(cli("run", JOKE, "-m", "echo", "-o", "n=4", merged=True))
    lines = out.splitlines()
    assert lines[lines.index("Chat model started") + 1] == "Tell"


def test_no_stream(cli, quiet):
    assert ok(cli("run", JOKE, "--no-stream", "--config", str(quiet))) == "Tell me a\n"


def test_no_stream_with_the_default_config_prints_the_answer_last(cli):
    out = mask(answer(cli("run", JOKE, "--no-stream", merged=True)))
    lines = out.splitlines()
    assert lines[-1] == JOKE
    i = lines.index("Chat model started")
    assert lines[i + 1].startswith("Chat model ended, response: generations=[[ChatGeneration(text=")
    assert lines[i + 1].endswith(f"id='run-<uuid>-0'))]] llm_output=None run=None")


def test_system_message(cli, quiet):
    # The echo model answers with the last message: the template, not the system message.
    assert ok(cli("run", "Hi there", "--system", "Be brief", "--config", str(quiet))) == "Hi there\n"
    proc = cli("run", "Hi there", "--system", "Be brief", "--no-stream")
    assert answer(proc) == "Hi there\n"
    assert "Chain ended, outputs: messages=[SystemMessage(content='Be brief'), HumanMessage(content='Hi there')]" in proc.stderr.splitlines()


def test_text_completion_model_completes_the_raw_template(cli, quiet):
    # A text-completion model gets the rendered template itself (a PromptTemplate),
    # not a chat prompt's "Human: ..." buffer string; its str chunks stream.
    assert ok(cli("run", "Tell me about {x}", "--var", "x=bears", "-m", "echo-llm", "--config", str(quiet))) == "Tell me about bears\n"
    assert ok(cli("run", JOKE, "-m", "echo-llm", "-o", "n=4", "--no-stream", "--config", str(quiet))) == "Tell\n"
    proc = cli("run", JOKE, "-m", "echo-llm", "--system", "Be brief", "--config", str(quiet))
    assert one_line_error(proc, 2).startswith("Error: --system needs a chat model; 'echo-llm' is a text-completion model")


def test_system_message_is_not_a_template(cli, quiet):
    assert ok(cli("run", "ok", "--system", "Answer in {braces}", "--config", str(quiet))) == "ok\n"


def test_template_from_stdin(cli, quiet):
    out = ok(cli("run", "-", "--var", "x=bears", "--config", str(quiet), "-o", "n=100",
                 input="Tell me about {x}, é ✓"))
    assert out == "Tell me about bears, é ✓\n"


def test_non_utf8_stdin_is_a_one_line_error(cli, quiet):
    proc = cli("run", "-", "--config", str(quiet), input=b"Tell me \xff about it")
    assert proc.returncode != 0
    error = one_line_error(proc, proc.returncode)
    assert "stdin is not valid UTF-8" in error and "byte 8" in error
    assert proc.stdout == ""


def test_unknown_model_lists_the_known_models(cli):
    proc = cli("run", "hi", "-m", "gpt-9")
    assert one_line_error(proc) == "Error: unknown model 'gpt-9'; known models: echo, echo-llm."
    assert proc.stdout == ""


def test_debug_shows_the_traceback(cli):
    proc = cli("run", "hi", "-m", "gpt-9", "--debug")
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "UnknownNameError" in proc.stderr


def test_missing_variable_names_it(cli, quiet):
    proc = cli("run", "Tell me a joke about {animal} in {place}", "--var", "place=Paris", "--config", str(quiet))
    error = one_line_error(proc)
    assert "missing variable(s) 'animal'" in error and "'place'" in error  # received: ['place']
    assert proc.stdout == ""


def test_missing_variable_with_the_default_handler(cli):
    proc = cli("run", "Tell me a joke about {animal}")
    assert "missing variable(s) 'animal'" in one_line_error(proc)
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[-2].startswith("Chain failed: PromptInputError(")


def test_unknown_option(cli, quiet):
    error = one_line_error(cli("run", "hi", "-o", "temperature=0.2", "--config", str(quiet)))
    assert error.startswith(f"Error: model 'echo' (plugin echo (hookchain-echo {ECHO_VERSION})): unknown option 'temperature'")
    assert "allowed options:" in error and " n" in error


def test_bad_option_value(cli, quiet):
    error = one_line_error(cli("run", "hi", "-o", "n=lots", "--config", str(quiet)))
    assert "option 'n'" in error and "'lots'" in error


@pytest.mark.parametrize("args, what", [(["-o", "n"], "-o"), (["--var", "animal"], "--var")])
def test_malformed_key_value(cli, quiet, args, what):
    proc = cli("run", "hi", *args, "--config", str(quiet))
    error = one_line_error(proc, 2)
    assert what in error and "is not KEY=VALUE" in error


@pytest.mark.parametrize("args", [
    ["run", "hi", "--var", "who"],
    ["run", "hi", "--bogus"],
    ["run"],
    ["run", "hi", "-O", "runs=true"],
    ["new-plugin", "x", "--kind", "tool"],
    ["no-such-command"],
], ids=["var-without-equals", "unknown-option", "missing-argument", "handler-option", "bad-choice", "unknown-command"])
def test_usage_error_is_one_line_with_status_2(cli, args):
    proc = cli(*args)
    assert proc.returncode == 2 and proc.stdout == "", proc
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("Error: "), proc.stderr
    assert proc.stderr.rstrip().endswith("--help' for help."), proc.stderr


def test_missing_variable_tells_how_to_pass_it(cli, quiet):
    error = one_line_error(cli("run", "{greeting}, {name}!", "--config", str(quiet)))
    assert "pass --var greeting=VALUE --var name=VALUE" in error
    assert "'{{greeting}}'" in error  # how to print a literal brace
    assert "input dict" not in error  # the Python advice is not for a CLI user


def test_missing_config_file(cli):
    error = one_line_error(cli("run", "hi", "--config", "nowhere.toml"))
    assert error == "Error: config file nowhere.toml does not exist"


@pytest.mark.parametrize("make", ["directory", "symlink-loop"])
def test_unreadable_config_is_a_one_line_error(cli, tmp_path, make):
    if make == "directory":
        (tmp_path / "conf.toml").mkdir()
        (tmp_path / "hookchain.toml").mkdir()
    else:
        (tmp_path / "conf.toml").symlink_to("conf.toml")
        (tmp_path / "hookchain.toml").symlink_to("hookchain.toml")
    for args in (["run", "hi", "--config", "conf.toml"], ["run", "hi"], ["config"]):
        proc = cli(*args)
        assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
        assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("Error: "), proc.stderr
        assert ("conf.toml" if "--config" in args else "hookchain.toml") in proc.stderr


def test_invalid_config_names_file_and_key(cli, tmp_path):
    (tmp_path / "bad.toml").write_text('model = "echo"\n[handlers]\nstdout = true\n')
    error = one_line_error(cli("run", "hi", "--config", "bad.toml"))
    assert error == "Error: bad.toml: key 'handlers.stdout' must be a table of options (write [handlers.stdout]), got bool"


def test_unknown_handler_option_in_config(cli, tmp_path):
    (tmp_path / "hookchain.toml").write_text('model = "echo"\n[handlers.stdout]\ncolour = "red"\n')
    error = one_line_error(cli("run", "hi"))
    assert error.startswith("Error: hookchain.toml: [handlers.stdout]: handler 'stdout'")
    assert "unknown option 'colour'; allowed options: tokens, runs, token_format" in error


def test_unknown_handler_in_config(cli, tmp_path):
    (tmp_path / "hookchain.toml").write_text('model = "echo"\n[handlers.tracer]\n')
    error = one_line_error(cli("run", "hi"))
    assert error == "Error: hookchain.toml: [handlers.tracer]: unknown handler 'tracer'; known handlers: stdout."


def test_config_without_model_uses_the_default_model(cli, tmp_path):
    (tmp_path / "hookchain.toml").write_text("[models.echo]\nn = 2\n")
    assert ok(cli("run", "hello")) == "he\n"  # the embedded default config's model, echo
    assert ok(cli("run", "hi", "-m", "echo")) == "hi\n"


def test_config_precedence(cli, tmp_path):
    """--config > $HOOKCHAIN_CONFIG > ./hookchain.toml > ./pyproject.toml [tool.hookchain] > embedded default."""
    def conf(n: int) -> str:
        return f'model = "echo"\n[models.echo]\nn = {n}\n'

    (tmp_path / "explicit.toml").write_text(conf(4))
    (tmp_path / "env.toml").write_text(conf(3))
    (tmp_path / "hookchain.toml").write_text(conf(2))
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.hookchain]\nmodel = "echo"\n\n[tool.hookchain.models.echo]\nn = 1\n'
    )
    env = {"HOOKCHAIN_CONFIG": "env.toml"}
    assert ok(cli("run", JOKE, "--config", "explicit.toml", env=env)) == "Tell\n"
    assert ok(cli("run", JOKE, env=env)) == "Tel\n"
    assert ok(cli("run", JOKE)) == "Te\n"
    (tmp_path / "hookchain.toml").unlink()
    assert ok(cli("run", JOKE)) == "T\n"
    (tmp_path / "pyproject.toml").unlink()
    assert_lines(answer(cli("run", "Tell me a joke about {animal}", "--var", "animal=bears", merged=True)), DEFAULT_RUN)


def test_empty_hookchain_config_means_the_embedded_default(cli, tmp_path):
    (tmp_path / "hookchain.toml").write_text('model = "echo"\n[models.echo]\nn = 2\n')
    out = answer(cli("run", "Tell me a joke about {animal}", "--var", "animal=bears", env={"HOOKCHAIN_CONFIG": ""}, merged=True))
    assert_lines(out, DEFAULT_RUN)


def test_handler_named_on_the_command_line_is_not_doubled(cli):
    # The default config already enables stdout; --handler stdout adds nothing.
    proc = cli("run", "hi", "--handler", "stdout", "--no-stream")
    assert answer(proc) == "hi\n"
    assert proc.stderr.splitlines().count("Chat model started") == 1


def test_handler_named_on_the_command_line_uses_its_disabled_config_table(cli, tmp_path):
    (tmp_path / "hookchain.toml").write_text(
        'model = "echo"\n[models.echo]\nn = 2\n[handlers.stdout]\nenabled = false\ntoken_format = "<{token}>"\n')
    proc = cli("run", "Hi there")
    assert (answer(proc), proc.stderr) == ("Hi\n", "")  # disabled ...
    proc = cli("run", "Hi there", "--handler", "stdout")
    assert (answer(proc), proc.stderr) == ("Hi\n", "<H><i><>\n")  # ... but its options are kept
    proc = cli("run", "Hi there", "-H", "stdout", "-O", "stdout.token_format=[{token}]")
    assert (answer(proc), proc.stderr) == ("Hi\n", "[H][i][]\n")  # -O wins over the table


def test_handler_options_on_the_command_line(cli, quiet):
    # -O NAME.KEY=VALUE enables the handler with that option (as a [handlers.NAME] table does),
    # over the embedded default config's table for it (runs = true, tokens = false).
    proc = cli("run", "Hi there", "-O", "stdout.token_format={token}|", "-O", "stdout.runs=false",
               "-O", "stdout.tokens=true", "--config", str(quiet))
    assert (answer(proc), proc.stderr) == ("Hi there\n", "H|i| |t|h|e|r|e||\n")
    # Over the options of a handler the config enables.
    (quiet.parent / "hookchain.toml").write_text('model = "echo"\n[handlers.stdout]\nruns = true\ntokens = false\n')
    proc = cli("run", "Hi", "-O", "stdout.runs=no")
    assert (answer(proc), proc.stderr) == ("Hi\n", "")
    error = one_line_error(cli("run", "Hi", "-O", "stdout.runs=sometimes"))
    assert "handler 'stdout'" in error and "option 'runs'" in error and "'sometimes'" in error
    error = one_line_error(cli("run", "Hi", "-O", "runs=true"), 2)
    assert "-O" in error and "'runs=true' is not NAME.KEY=VALUE" in error


def test_unknown_handler_on_the_command_line(cli, quiet):
    error = one_line_error(cli("run", "hi", "--handler", "tracer", "--config", str(quiet)))
    assert error == "Error: unknown handler 'tracer'; known handlers: stdout."


# --------------------------------------------------------------------------- #
# Ctrl-C
# --------------------------------------------------------------------------- #

#: A plugin that stalls (prints a marker line to stderr, then sleeps) where it is told:
#: at import (STALL_AT_IMPORT=1) or in one handler event (-O stall.at=EVENT).
STALL_PLUGIN = """\
import os, sys, time
import hookchain
from hookchain.callbacks import BaseCallbackHandler
from hookchain.language_models import BaseChatModel


def stall(where):
    sys.__stderr__.write(f"stalled at {where}\\n")
    sys.__stderr__.flush()
    time.sleep(120)


if os.environ.get("STALL_AT_IMPORT") and sys.argv[0] != "-c":  # not in hookchain's plugin-indexing child
    stall("import")


class Stall(BaseCallbackHandler):
    def __init__(self, at=""):
        self.at = at

    def on_chain_start(self, serialized, inputs, **kwargs):
        if self.at == "on_chain_start" and kwargs.get("name") == "ChatPromptTemplate":
            stall(self.at)

    def on_llm_new_token(self, token, **kwargs):
        if self.at == "on_llm_new_token" and token == "l":
            stall(self.at)


@hookchain.hookimpl
def register_handlers(register):
    register("stall", Stall)
"""


@pytest.fixture
def stall_site(tmp_path) -> dict[str, str]:
    site = tmp_path / "site"
    info = site / "hookchain_stall-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hookchain-stall\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[hookchain]\nstall = hc_cli_stall\n")
    (site / "hc_cli_stall.py").write_text(STALL_PLUGIN)
    return {"PYTHONPATH": str(site)}


def interrupt_at(proc: subprocess.Popen, marker: str) -> tuple[int, list[str]]:
    """Wait for the stderr line ``marker``, send SIGINT, return the exit status
    and the rest of stderr (``-X importtime`` lines left out)."""
    for line in proc.stderr:
        if line.decode().rstrip("\n") == marker or re.search(marker, line.decode()):
            break
    else:
        pytest.fail(f"never saw {marker!r}; status {proc.wait(timeout=60)}")
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read().decode().splitlines()
    code = proc.wait(timeout=60)
    proc.stdin.close()
    proc.stdout.close()
    return code, [line for line in rest if not line.startswith("import time:")]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
@pytest.mark.parametrize("args, env, marker", [
    (["run", "Hello", "-m", "echo", "--handler", "stall"], {"STALL_AT_IMPORT": "1"}, "stalled at import"),
    (["run", "Hello", "-m", "echo", "-O", "stall.at=on_chain_start"], {}, "stalled at on_chain_start"),
    (["run", "Hello", "-m", "echo", "-O", "stall.at=on_llm_new_token"], {}, "stalled at on_llm_new_token"),
], ids=["plugin-import", "rendering", "streaming"])
def test_ctrl_c_prints_interrupted_and_exits_130(cli, quiet, stall_site, args, env, marker):
    proc = cli.start(*args, "--config", str(quiet), env={**stall_site, **env})
    assert interrupt_at(proc, marker) == (130, ["interrupted"])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_during_startup_prints_interrupted_and_exits_130(cli, quiet):
    # SIGINT as soon as hookchain.cli has imported part of click: it lands while
    # the rest of click loads, the arguments are parsed, or stdin is read.
    # (Before hookchain.cli starts, in the interpreter's start and `import
    # hookchain`, Python's own KeyboardInterrupt traceback is unavoidable.)
    proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "hookchain.cli", "run", "-", "--config", str(quiet)],
                            cwd=cli.cwd, env=cli.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert interrupt_at(proc, r"\|\s+click\.") == (130, ["interrupted"])


# --------------------------------------------------------------------------- #
# hookchain config
# --------------------------------------------------------------------------- #


def test_config_shows_the_embedded_default(cli):
    out = ok(cli("config"))
    assert out.splitlines() == [
        f"file:     embedded default ({Path(__import__('hookchain.config').config.DEFAULT_CONFIG)})",
        "model:    echo",
        "  n = 200",
        "handler_timeout: none",
        "handlers:",
        "  stdout",
        "    runs = true",
        "    tokens = false",
    ]


def test_config_shows_the_file_in_effect(cli, tmp_path, quiet):
    (tmp_path / "hookchain.toml").write_text("handler_timeout = 2.5\n[handlers.stdout]\ntokens = true\n"
                                             "[handlers.off]\nenabled = false\n")
    assert ok(cli("config")).splitlines() == [
        "file:     hookchain.toml",
        "model:    echo (the default: hookchain.toml sets no `model`)",
        "handler_timeout: 2.5 s",
        "handlers:",
        "  stdout",
        "    tokens = true",
    ]
    assert ok(cli("config", env={"HOOKCHAIN_CONFIG": str(quiet)})).splitlines()[:3] == [
        f"file:     {quiet} (from $HOOKCHAIN_CONFIG)", "model:    echo", "  n = 9"]
    assert ok(cli("config", "--config", str(quiet))).splitlines()[-1] == "handlers: none"


def test_config_masks_secrets(cli, tmp_path):
    site = tmp_path / "site"
    info = site / "hookchain_vault-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hookchain-vault\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[hookchain]\nvault = hc_cli_vault\n")
    (site / "hc_cli_vault.py").write_text(
        "import hookchain\nfrom pydantic import BaseModel, SecretStr\n"
        "from hookchain.callbacks import BaseCallbackHandler\n"
        "class Options(BaseModel):\n    dsn: SecretStr\n    url: str = ''\n    api_key: str = ''\n    headers: dict = {}\n"
        "class Vault(BaseCallbackHandler):\n    options_model = Options\n"
        "    def __init__(self, **options):\n        pass\n"
        "@hookchain.hookimpl\ndef register_handlers(register):\n    register('vault', Vault)\n"
    )
    (tmp_path / "hookchain.toml").write_text(
        'model = "echo"\n[handlers.vault]\ndsn = "db-hunter2"\nurl = "https://user:pw123@example.com/v1"\n'
        'api_key = "sk-123"\nheaders = {Authorization = "Bearer abc", Accept = "json"}\n'
    )
    out = ok(cli("config", env={"PYTHONPATH": str(site)}))
    for secret in ("hunter2", "pw123", "sk-123", "abc"):
        assert secret not in out
    lines = out.splitlines()
    assert lines[lines.index("  vault") + 1:] == [
        '    dsn = "********"',  # a SecretStr field of the handler's options_model
        '    url = "https://user:********@example.com/v1"',
        '    api_key = "********"',  # looks secret by its name
        '    headers = {"Authorization": "********", "Accept": "json"}',
    ]


def test_config_shows_a_handler_it_cannot_build(cli, tmp_path):
    (tmp_path / "hookchain.toml").write_text('[handlers.tracer]\npassword = "pw"\n')
    proc = cli("config")
    assert proc.returncode == 1 and "pw" not in proc.stdout.replace("password", "")
    assert proc.stdout.splitlines()[-3:] == ["  tracer", '    password = "********"',
                                              "    error: unknown handler 'tracer'; known handlers: stdout."]


# --------------------------------------------------------------------------- #
# Listing commands
# --------------------------------------------------------------------------- #


def test_plugins(cli):
    out = ok(cli("plugins"))
    blocks = {block.splitlines()[0]: block.splitlines()[1:] for block in re.split(r"\n(?=\S)", out.strip())}
    assert blocks == {
        f"echo  hookchain-echo {ECHO_VERSION}": [
            "  hooks:    register_models", "  models:   echo, echo-llm", "  handlers: -"],
        f"stdout  hookchain-stdout {STDOUT_VERSION}": [
            "  hooks:    register_handlers", "  models:   -", "  handlers: stdout"],
    }


def test_plugins_json(cli):
    data = json.loads(ok(cli("plugins", "--json")))
    assert sorted(data, key=lambda p: p["name"]) == [
        {"name": "echo", "distribution": "hookchain-echo", "version": ECHO_VERSION,
         "hooks": ["register_models"], "models": ["echo", "echo-llm"], "handlers": [], "error": None},
        {"name": "stdout", "distribution": "hookchain-stdout", "version": STDOUT_VERSION,
         "hooks": ["register_handlers"], "models": [], "handlers": ["stdout"], "error": None},
    ]


def test_models_and_handlers(cli):
    assert ok(cli("models")) == "echo  (echo)\necho-llm  (echo)\n"
    assert ok(cli("handlers")) == "stdout  (stdout)\n"
    assert json.loads(ok(cli("models", "--json"))) == {"echo": ["echo"], "echo-llm": ["echo"]}
    assert json.loads(ok(cli("handlers", "--json"))) == {"stdout": ["stdout"]}


def test_version(cli):
    assert ok(cli("--version")).endswith(f", version {version('hookchain')}\n")


def test_console_script(cli):
    script = Path(sys.executable).with_name("hookchain")
    if not script.exists():
        pytest.skip("the hookchain script is not installed next to this interpreter")
    assert ok(cli("models", command=[str(script)])) == "echo  (echo)\necho-llm  (echo)\n"
    assert ok(cli("--version", command=[str(script)])) == f"hookchain, version {version('hookchain')}\n"


@pytest.fixture
def broken_site(tmp_path) -> dict[str, str]:
    """A plugin distribution that fails to import, on PYTHONPATH."""
    site = tmp_path / "site"
    info = site / "hookchain_broken-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hookchain-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[hookchain]\nbroken = hc_cli_broken_mod\n")
    (site / "hc_cli_broken_mod.py").write_text('raise ImportError("needs libfoo")\n')
    return {"PYTHONPATH": str(site)}


def test_plugins_shows_load_errors_and_the_rest_still_works(cli, broken_site):
    proc = cli("plugins", env=broken_site)
    assert proc.returncode == 0
    assert "broken  hookchain-broken 1.0" in proc.stdout
    assert "  error:    failed to import 'hc_cli_broken_mod': ImportError: needs libfoo" in proc.stdout
    assert f"echo  hookchain-echo {ECHO_VERSION}" in proc.stdout
    data = {p["name"]: p for p in json.loads(cli("plugins", "--json", env=broken_site).stdout)}
    assert data["broken"]["error"] == "failed to import 'hc_cli_broken_mod': ImportError: needs libfoo"
    assert data["echo"]["error"] is None
    out = cli("run", "hi", "-m", "echo", "-o", "n=1", "--no-stream", env=broken_site).stdout
    assert out.splitlines()[-1] == "h"


def test_unknown_model_hints_at_broken_plugins(cli, broken_site):
    proc = cli("run", "hi", "-m", "libfoo-model", env=broken_site)
    # The load failure is also logged (a warning on stderr), once.
    assert proc.stderr.count("hookchain plugin broken (hookchain-broken 1.0): failed to import") == 1
    error = one_line_error(proc)
    assert "known models: echo, echo-llm." in error
    assert "Plugins that failed to load: broken (hookchain-broken 1.0)" in error


def test_plugin_autoload_disabled(cli):
    env = {"HOOKCHAIN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    assert ok(cli("plugins", env=env)) == "no plugins installed (entry-point group 'hookchain')\n"
    assert json.loads(ok(cli("plugins", "--json", env=env))) == []
    assert ok(cli("models", env=env)) == ""
    # The default config's stdout handler is skipped with a note; its model is missing.
    proc = cli("run", "hi", env=env)
    assert "unknown model 'echo'; known models: none (is a plugin installed?)" in one_line_error(proc)
    assert "note: handler 'stdout' of the default config is not installed; running without it" in proc.stderr


def test_hookchain_plugins_selects(cli, quiet):
    env = {"HOOKCHAIN_PLUGINS": "echo"}
    assert ok(cli("models", env=env)) == "echo  (echo)\necho-llm  (echo)\n"
    assert ok(cli("handlers", env=env)) == ""
    assert ok(cli("run", "hi", "--config", str(quiet), env=env)) == "hi\n"


def test_help_shows_every_command_summary_in_full(cli):
    from hookchain.cli import main

    out = ok(cli("--help", env={"COLUMNS": "80"}))
    assert "..." not in out.partition("Commands:")[2]
    text = " ".join(out.split())  # summaries may wrap
    for name, command in main.commands.items():
        summary = " ".join(command.help.split("\n\n")[0].split())
        assert f"{name} {summary}" in text, (name, summary)
