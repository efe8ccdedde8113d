"""The TOML config file (``hookchain.config``): schema validation, where it is
read from, and handlers it enables for every root run of the process.

Activation is process-global (``hookchain.callbacks.manager._enabled`` and
``_autoload_pending``); the ``isolated`` fixture saves and restores both, and
runs each test in an empty temporary working directory without
``HOOKCHAIN_CONFIG``.
"""

from __future__ import annotations

import asyncio
import re

import pytest

import hookchain
from hookchain import config
from hookchain.callbacks import enabled_handlers
from hookchain.callbacks import manager
from hookchain.errors import ConfigError, HookchainError, OptionError, UnknownNameError
from hookchain.prompts import ChatPromptTemplate
from hookchain_stdout import StdOutHandler

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def mask(text: str) -> str:
    return re.sub(UUID, "<uuid>", text)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No handler enabled, no config read yet, an empty cwd, no HOOKCHAIN_CONFIG;
    all restored after the test."""
    monkeypatch.setattr(manager, "_enabled", ())
    monkeypatch.setattr(manager, "_autoload_pending", False)
    monkeypatch.delenv("HOOKCHAIN_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def joke_chain():
    return ChatPromptTemplate.from_template("Tell me a joke about {animal}") | hookchain.get_model("echo")


#: What the stdout handler with runs=true, tokens=false prints for joke_chain().invoke.
JOKE_RUN_LINES = """\
Chain RunnableSequence started
Chain ChatPromptTemplate started
Chain ended, outputs: messages=[HumanMessage(content='Tell me a joke about bears')]
Chat model started
Chat model ended, response: generations=[[ChatGeneration(text='Tell me a joke about bears', message=AIMessage(content='Tell me a joke about bears', response_metadata={'model_name': 'echo', 'finish_reason': 'stop'}, id='run-<uuid>-0'))]] llm_output=None run=None
Chain ended, outputs: content='Tell me a joke about bears' response_metadata={'model_name': 'echo', 'finish_reason': 'stop'} id='run-<uuid>-0'
"""

RUNS_CONFIG = """\
model = "echo"

[models.echo]
n = 200

[handlers.stdout]
runs = true
tokens = false
"""


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #


def test_load_reads_the_schema(isolated):
    path = write(isolated / "conf.toml", RUNS_CONFIG)
    cfg = config.load(path)
    assert cfg.source == str(path)
    assert cfg.model == "echo"
    assert cfg.models == {"echo": {"n": 200}}
    assert cfg.handlers == {"stdout": {"runs": True, "tokens": False}}


def test_every_key_is_optional(isolated):
    cfg = config.load(write(isolated / "empty.toml", ""))
    assert (cfg.model, cfg.models, cfg.handlers) == (None, {}, {})
    assert config.activate(cfg) == []
    assert enabled_handlers() == ()


def test_embedded_default_config():
    cfg = config.load_default()
    assert cfg.source == str(config.DEFAULT_CONFIG)
    assert cfg.model == "echo"
    assert cfg.models == {"echo": {"n": 200}}
    assert cfg.handlers == {"stdout": {"runs": True, "tokens": False}}


# --------------------------------------------------------------------------- #
# Activation: enabled handlers join every root run
# --------------------------------------------------------------------------- #


def test_activated_handler_prints_the_run_lines(isolated, capsys):
    handlers = config.activate(config.load(write(isolated / "hookchain.toml", RUNS_CONFIG)))
    assert [type(h) for h in handlers] == [StdOutHandler]
    assert enabled_handlers() == tuple(handlers)
    message = joke_chain().invoke({"animal": "bears"})
    assert message.content == "Tell me a joke about bears"
    assert mask(capsys.readouterr().out) == JOKE_RUN_LINES


def test_activated_handler_fires_for_every_root_run(isolated, capsys):
    config.activate(config.load(write(isolated / "hookchain.toml", RUNS_CONFIG)))
    chain = joke_chain()
    chain.invoke({"animal": "bears"})
    chain.invoke({"animal": "bears"})
    assert mask(capsys.readouterr().out) == JOKE_RUN_LINES * 2
    # A model on its own is a root run too; so is an async run.
    hookchain.get_model("echo", n=2).invoke("hello")
    assert capsys.readouterr().out.splitlines()[0] == "Chat model started"
    asyncio.run(chain.ainvoke({"animal": "bears"}))
    assert mask(capsys.readouterr().out) == JOKE_RUN_LINES


def test_activated_handler_joins_runtime_and_constructor_callbacks(isolated, capsys, recorder):
    config.activate(config.load(write(isolated / "hookchain.toml", RUNS_CONFIG)))
    joke_chain().invoke({"animal": "bears"}, config={"callbacks": [recorder]})
    assert mask(capsys.readouterr().out) == JOKE_RUN_LINES
    assert [e[0] for e in recorder.events].count("on_chain_start") == 2


def test_handler_options_from_the_config_reach_the_handler(isolated, capsys):
    write(isolated / "hookchain.toml", '[handlers.stdout]\ntoken_format = "<{token}>"\n')
    config.activate(config.find())
    hookchain.get_model("echo", n=3, streaming=True).invoke("hello")
    assert capsys.readouterr().out == "<h><e><l><>\n"


def test_installed_handlers_stay_inert_without_a_config(isolated, capsys):
    assert "stdout" in hookchain.plugins.list_handlers()  # installed ...
    joke_chain().invoke({"animal": "bears"})
    hookchain.get_model("echo", streaming=True).invoke("hello")
    assert capsys.readouterr().out == ""  # ... but not enabled
    assert enabled_handlers() == ()


def test_config_without_handlers_enables_nothing(isolated, capsys):
    config.activate(config.load(write(isolated / "hookchain.toml", 'model = "echo"\n[models.echo]\nn = 3\n')))
    joke_chain().invoke({"animal": "bears"})
    assert capsys.readouterr().out == ""


def test_enabled_false_keeps_the_options_but_disables_the_handler(isolated, capsys):
    path = write(isolated / "hookchain.toml", "[handlers.stdout]\nruns = true\nenabled = false\n")
    cfg = config.load(path)
    assert cfg.handlers == {}
    assert cfg.handler_tables == {"stdout": {"runs": True}}  # for `hookchain run --handler stdout`
    assert config.activate(cfg) == []
    joke_chain().invoke({"animal": "bears"})
    assert capsys.readouterr().out == ""


def test_enabled_true_is_the_default(isolated):
    cfg = config.load(write(isolated / "hookchain.toml", "[handlers.stdout]\nenabled = true\nruns = true\n"))
    assert cfg.handlers == {"stdout": {"runs": True}}


def test_activate_none_enables_nothing_and_stops_autoload(isolated, monkeypatch, capsys):
    write(isolated / "hookchain.toml", RUNS_CONFIG)
    monkeypatch.setattr(manager, "_autoload_pending", True)
    assert config.activate(None) == []
    joke_chain().invoke({"animal": "bears"})
    assert capsys.readouterr().out == ""


# --------------------------------------------------------------------------- #
# Autoload: the file is read on the first root run
# --------------------------------------------------------------------------- #


def test_first_root_run_reads_hookchain_toml(isolated, monkeypatch, capsys):
    write(isolated / "hookchain.toml", RUNS_CONFIG)
    monkeypatch.setattr(manager, "_autoload_pending", True)
    joke_chain().invoke({"animal": "bears"})
    assert mask(capsys.readouterr().out) == JOKE_RUN_LINES
    assert manager._autoload_pending is False
    # Read once: a later change of the file does not matter to this process.
    write(isolated / "hookchain.toml", "this is not toml")
    joke_chain().invoke({"animal": "bears"})
    assert mask(capsys.readouterr().out) == JOKE_RUN_LINES


def test_first_root_run_without_a_config_file_enables_nothing(isolated, monkeypatch, capsys):
    monkeypatch.setattr(manager, "_autoload_pending", True)
    joke_chain().invoke({"animal": "bears"})
    assert capsys.readouterr().out == ""
    assert manager._autoload_pending is False


def test_first_root_run_reads_pyproject_tool_hookchain(isolated, monkeypatch, capsys):
    write(isolated / "pyproject.toml", '[project]\nname = "app"\n\n[tool.hookchain.handlers.stdout]\nruns = true\ntokens = false\n')
    monkeypatch.setattr(manager, "_autoload_pending", True)
    joke_chain().invoke({"animal": "bears"})
    assert mask(capsys.readouterr().out) == JOKE_RUN_LINES


def test_first_root_run_reports_a_bad_config(isolated, monkeypatch):
    write(isolated / "hookchain.toml", "[handlers.stdout]\nruns = 'sometimes'\n")
    monkeypatch.setattr(manager, "_autoload_pending", True)
    with pytest.raises(OptionError, match=r"hookchain\.toml: \[handlers\.stdout\]: .*option 'runs'"):
        joke_chain().invoke({"animal": "bears"})


# --------------------------------------------------------------------------- #
# Errors name the file and the key
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "text, expected",
    [
        ('modle = "echo"\n', "unknown key 'modle'; allowed keys: model, handler_timeout, models, handlers"),
        ('[handler.stdout]\nruns = true\n', "unknown key 'handler'; allowed keys: model, handler_timeout, models, handlers"),
        ("model = 3\n", "key 'model' must be a model name (string), got int"),
        ("models = 1\n", "key 'models' must be a table of option tables, got int"),
        ('handlers = ["stdout"]\n', "key 'handlers' must be a table of option tables, got list"),
        ("[models]\necho = 200\n", "key 'models.echo' must be a table of options (write [models.echo]), got int"),
        ("[handlers]\nstdout = true\n", "key 'handlers.stdout' must be a table of options (write [handlers.stdout]), got bool"),
        ('[handlers.stdout]\nenabled = "no"\n', "key 'handlers.stdout.enabled' must be true or false, got 'no'"),
    ],
    ids=["unknown-key", "misspelt-table", "model-type", "models-type", "handlers-type",
         "model-options-not-table", "handler-not-table", "enabled-type"],
)
def test_schema_errors_name_the_file_and_the_key(isolated, text, expected):
    path = write(isolated / "conf.toml", text)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(info.value) == f"{path}: {expected}"
    assert isinstance(info.value, ValueError) and isinstance(info.value, HookchainError)


@pytest.mark.parametrize("value, problem", [
    ("nan", "a finite number"), ("inf", "a finite number"), ("-inf", "a finite number"),
    ("-1", "greater than or equal to 0"), ("true", "a valid number"), ("'soon'", "a valid number"),
])
def test_handler_timeout_must_be_a_finite_number_of_seconds(isolated, value, problem):
    path = write(isolated / "conf.toml", f"handler_timeout = {value}\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: key 'handler_timeout' must be a finite number of seconds (>= 0), got ")
    assert problem in message and "\n" not in message


def test_handler_timeout_accepts_zero_and_integers(isolated):
    assert config.load(write(isolated / "a.toml", "handler_timeout = 0\n")).handler_timeout == 0
    assert config.load(write(isolated / "b.toml", "handler_timeout = 3\n")).handler_timeout == 3


@pytest.mark.parametrize("toml, got", [
    ('[tool]\nhookchain = "echo"\n', "str"),
    ("[tool]\nhookchain = [1, 2]\n", "list"),
    ("tool = 1\n", "int"),
], ids=["string", "array", "tool-not-a-table"])
def test_pyproject_tool_hookchain_must_be_a_table(isolated, toml, got):
    path = write(isolated / "pyproject.toml", toml)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(info.value) == f"{path}: [tool.hookchain] must be a table (keys under a [tool.hookchain] header), got {got}"


def test_config_path_that_is_a_directory_or_a_symlink_loop(isolated, monkeypatch):
    (isolated / "dir.toml").mkdir()
    with pytest.raises(ConfigError, match=r"^dir\.toml: cannot read the config file: Is a directory$"):
        config.load("dir.toml")
    (isolated / "loop.toml").symlink_to("loop.toml")
    with pytest.raises(ConfigError, match=r"^loop\.toml: cannot read the config file: Too many levels of symbolic links$"):
        config.load("loop.toml")
    # ./hookchain.toml that cannot be read is an error, not silently skipped.
    (isolated / "hookchain.toml").symlink_to("hookchain.toml")
    with pytest.raises(ConfigError, match=r"^hookchain\.toml: cannot read the config file: Too many levels"):
        config.find()


def test_malformed_toml_names_the_file_and_the_position(isolated):
    path = write(isolated / "conf.toml", 'model = "echo"\n[handlers.stdout\nruns = true\n')
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 2" in message


def test_non_utf8_config_names_the_file(isolated):
    path = isolated / "conf.toml"
    path.write_bytes(b'model = "\xe9cho"\n')
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: not valid UTF-8"):
        config.load(path)


def test_missing_config_file(isolated):
    with pytest.raises(ConfigError, match=r"^config file .*nowhere\.toml does not exist$"):
        config.load(isolated / "nowhere.toml")


def test_pyproject_errors_name_the_table(isolated):
    path = write(isolated / "pyproject.toml", "[tool.hookchain]\nmodel = 1\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(info.value) == f"{path} [tool.hookchain]: key 'model' must be a model name (string), got int"


def test_unknown_handler_option_names_file_handler_option_and_allowed(isolated):
    path = write(isolated / "hookchain.toml", '[handlers.stdout]\nruns = true\ncolour = "red"\n')
    cfg = config.load(path)  # handler options are checked by the handler, on activation
    with pytest.raises(OptionError) as info:
        config.activate(cfg)
    message = str(info.value)
    assert message.startswith(f"{path}: [handlers.stdout]: handler 'stdout' (plugin stdout (hookchain-stdout ")
    assert "unknown option 'colour'; allowed options: tokens, runs, token_format" in message
    assert enabled_handlers() == ()  # nothing half-enabled


def test_bad_handler_option_value_names_the_option(isolated):
    path = write(isolated / "hookchain.toml", "[handlers.stdout]\ntokens = 3.5\n")
    with pytest.raises(OptionError, match=rf"^{re.escape(str(path))}: \[handlers\.stdout\]: .*option 'tokens'.*got 3\.5"):
        config.activate(config.load(path))


def test_unknown_handler_name_names_file_and_known_handlers(isolated):
    path = write(isolated / "hookchain.toml", "[handlers.tracer]\n")
    with pytest.raises(UnknownNameError) as info:
        config.activate(config.load(path))
    assert str(info.value) == f"{path}: [handlers.tracer]: unknown handler 'tracer'; known handlers: stdout."
    assert enabled_handlers() == ()


# --------------------------------------------------------------------------- #
# Where the config comes from
# --------------------------------------------------------------------------- #


@pytest.fixture
def three_configs(isolated, monkeypatch):
    """A config in each place ``find`` looks, each naming a different model."""
    env = write(isolated / "env.toml", 'model = "from-env"\n')
    write(isolated / "hookchain.toml", 'model = "from-hookchain-toml"\n')
    write(isolated / "pyproject.toml", '[project]\nname = "x"\n\n[tool.hookchain]\nmodel = "from-pyproject"\n')
    monkeypatch.setenv("HOOKCHAIN_CONFIG", str(env))
    return env


def test_explicit_path_beats_everything(isolated, three_configs):
    explicit = write(isolated / "explicit.toml", 'model = "explicit"\n')
    assert config.load(explicit).model == "explicit"


def test_env_beats_local_files(three_configs):
    cfg = config.find()
    assert (cfg.model, cfg.source) == ("from-env", str(three_configs))


def test_hookchain_toml_beats_pyproject(three_configs, monkeypatch):
    monkeypatch.delenv("HOOKCHAIN_CONFIG")
    cfg = config.find()
    assert (cfg.model, cfg.source) == ("from-hookchain-toml", "hookchain.toml")


def test_pyproject_is_the_last_resort(isolated, three_configs, monkeypatch):
    monkeypatch.delenv("HOOKCHAIN_CONFIG")
    (isolated / "hookchain.toml").unlink()
    cfg = config.find()
    assert (cfg.model, cfg.source) == ("from-pyproject", "pyproject.toml [tool.hookchain]")


def test_pyproject_without_tool_hookchain_is_not_a_config(isolated):
    write(isolated / "pyproject.toml", '[project]\nname = "x"\ndependencies = ["hookchain"]\n')
    assert config.find() is None


@pytest.mark.parametrize("toml", [
    '[project]\nname = "x"\n\n[tool.hookchain.handlers.stdout]\nruns = true\n',
    'tool.hookchain.handlers.stdout.runs = true\n\n[project]\nname = "x"\n',
], ids=["sub-table", "dotted-key"])
def test_pyproject_tool_hookchain_defined_without_its_header(isolated, toml):
    write(isolated / "pyproject.toml", toml)
    cfg = config.find()
    assert cfg is not None and cfg.handlers == {"stdout": {"runs": True}}


def test_no_config_anywhere(isolated):
    assert config.find() is None


def test_empty_env_reads_no_file(three_configs, monkeypatch):
    monkeypatch.setenv("HOOKCHAIN_CONFIG", "")
    assert config.find() is None


def test_env_pointing_nowhere_is_an_error_not_a_fallback(three_configs, monkeypatch, isolated):
    monkeypatch.setenv("HOOKCHAIN_CONFIG", str(isolated / "gone.toml"))
    with pytest.raises(ConfigError, match="gone.toml does not exist"):
        config.find()


def test_env_relative_path_is_relative_to_the_cwd(isolated, monkeypatch):
    (isolated / "conf").mkdir()
    write(isolated / "conf" / "dev.toml", 'model = "dev"\n')
    monkeypatch.setenv("HOOKCHAIN_CONFIG", "conf/dev.toml")
    assert config.find().model == "dev"


def test_env_may_name_a_pyproject(isolated, monkeypatch):
    (isolated / "sub").mkdir()
    write(isolated / "sub" / "pyproject.toml", '[tool.hookchain]\nmodel = "sub"\n')
    monkeypatch.setenv("HOOKCHAIN_CONFIG", str(isolated / "sub" / "pyproject.toml"))
    cfg = config.find()
    assert cfg.model == "sub" and cfg.source.endswith("pyproject.toml [tool.hookchain]")


def test_handler_timeout_key(tmp_path, monkeypatch):
    from hookchain import config as cfg
    from hookchain.callbacks import manager
    from hookchain.errors import ConfigError

    monkeypatch.setattr(manager, "handler_timeout", None)
    path = tmp_path / "c.toml"
    path.write_text("handler_timeout = 2.5\n")
    cfg.activate(cfg.load(path))
    assert manager.handler_timeout == 2.5
    path.write_text("handler_timeout = 'soon'\n")
    with pytest.raises(ConfigError, match="key 'handler_timeout' must be a finite number of seconds"):
        cfg.load(path)
