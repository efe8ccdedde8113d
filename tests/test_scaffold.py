"""``hookchain new-plugin``: the generated projects are complete.

The fast tests check the files; the slow one installs a generated model plugin
and handler plugin, with hookchain itself, into a fresh virtualenv (no system
site-packages), checks ``hookchain plugins`` lists them and runs each project's
own pytest (the conformance suites), as a plugin author would.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hookchain.cli import main
from hookchain.scaffold import ScaffoldError, create_plugin, plugin_names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_new_plugin_writes_a_model_project(tmp_path):
    result = CliRunner().invoke(main, ["new-plugin", "shout", "--kind", "model", "--dir", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    project = tmp_path / "p"
    files = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert files == ["README.md", "hookchain_shout/__init__.py", "hookchain_shout/model.py", "pyproject.toml", "tests/test_conformance.py"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "hookchain-shout"
    assert pyproject["project"]["entry-points"]["hookchain"] == {"shout": "hookchain_shout"}
    assert pyproject["project"]["dependencies"] == ["hookchain>=0.1"]
    for path in project.rglob("*.py"):
        ast.parse(path.read_text(), str(path))
    tests = (project / "tests/test_conformance.py").read_text()
    assert "class TestShoutConformance(ChatModelConformance):" in tests and 'model_name = "shout"' in tests
    assert "created " in result.output and "pip install -e '.[test]' && pytest" in result.output
    assert pyproject["tool"]["hookchain"] == {"model": "shout", "models": {"shout": {"n": 200}}}
    assert "hookchain run \"hello {who}\" --var who=world -o n=8" in (project / "README.md").read_text()


def test_new_plugin_writes_a_handler_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new-plugin", "hookchain-token-tally", "--kind", "handler"])
    assert result.exit_code == 0, result.output
    project = tmp_path / "hookchain-token-tally"  # the default --dir
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["hookchain"] == {"token-tally": "hookchain_token_tally"}
    assert pyproject["tool"]["hookchain"] == {"handlers": {"token-tally": {"prefix": "[token-tally]"}}}
    assert "class TokenTallyHandler(BaseCallbackHandler):" in (project / "hookchain_token_tally/handler.py").read_text()
    assert "class TestTokenTallyConformance(CallbackHandlerConformance):" in (project / "tests/test_conformance.py").read_text()


def test_new_plugin_writes_a_text_completion_model_project(tmp_path):
    result = CliRunner().invoke(main, ["new-plugin", "complete", "--kind", "llm", "--dir", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    project = tmp_path / "p"
    assert "class CompleteLLM(LLM):" in (project / "hookchain_complete/model.py").read_text()
    assert 'register("complete", CompleteLLM)' in (project / "hookchain_complete/__init__.py").read_text()
    assert "class TestCompleteConformance(LLMConformance):" in (project / "tests/test_conformance.py").read_text()
    assert "the `complete` text-completion model" in (project / "README.md").read_text()
    for path in project.rglob("*.py"):
        ast.parse(path.read_text(), str(path))


def test_generated_code_works_registered_in_process(tmp_path):
    # The generated model and handler, imported and registered in code (the
    # entry-point path is what the slow test covers).
    from hookchain import get_handler, get_model, plugins
    from hookchain.plugins import register_plugin

    create_plugin("shout", "model", tmp_path / "m")
    create_plugin("tally", "handler", tmp_path / "h")
    create_plugin("complete", "llm", tmp_path / "l")
    sys.path[:0] = [str(tmp_path / "m"), str(tmp_path / "h"), str(tmp_path / "l")]
    try:
        import hookchain_complete
        import hookchain_shout
        import hookchain_tally

        plugins.reset()
        register_plugin(hookchain_shout, name="shout")
        register_plugin(hookchain_tally, name="tally")
        register_plugin(hookchain_complete, name="complete")
        llm = get_model("complete", n=9)
        assert llm.invoke("hello big world", stop=["big"]) == "hello big"
        assert list(llm.stream("a b")) == ["a ", "b"]
        model = get_model("shout", n=9, api_key="sk-very-secret")
        assert model.invoke("hello big world", stop=["big"]).content == "hello big"
        assert "sk-very-secret" not in repr(model)
        assert [c.content for c in model.stream("a b")] == ["a ", "b", ""]
        assert get_handler("tally", prefix="#").prefix == "#"
    finally:
        plugins.reset()
        del sys.path[:3]
        for name in ("hookchain_shout", "hookchain_shout.model", "hookchain_tally", "hookchain_tally.handler",
                     "hookchain_complete", "hookchain_complete.model"):
            sys.modules.pop(name, None)


@pytest.mark.parametrize("name,problem", [
    ("Shout", "must be lowercase"),
    ("2fast", "starting with a letter"),
    ("a--b", "words separated by"),
    ("hookchain", "taken by hookchain"),
    ("class", "Python keyword"),
])
def test_bad_names_are_rejected(name, problem):
    with pytest.raises(ScaffoldError, match=problem):
        plugin_names(name)


def test_refuses_a_non_empty_directory_and_bad_kind(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "keep.txt").write_text("x")
    result = CliRunner().invoke(main, ["new-plugin", "shout", "--kind", "model", "--dir", str(tmp_path / "p")])
    assert result.exit_code == 1 and "already exists and is not an empty directory" in result.output
    assert (tmp_path / "p" / "keep.txt").read_text() == "x"
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["keep.txt"]
    result = CliRunner().invoke(main, ["new-plugin", "shout", "--kind", "tool"])
    assert result.exit_code == 2 and "'tool' is not one of 'model', 'llm', 'handler'" in result.output
    with pytest.raises(ScaffoldError, match="kind 'tool'"):
        create_plugin("shout", "tool", tmp_path / "q")
    (tmp_path / "empty").mkdir()
    assert create_plugin("shout", "model", tmp_path / "empty")[0] == tmp_path / "empty"


@pytest.mark.parametrize("name, kind, taken", [
    ("echo", "model", "the installed plugin echo (hookchain-echo "),
    ("hookchain-stdout", "handler", "the installed plugin stdout (hookchain-stdout "),
])
def test_refuses_the_name_of_an_installed_plugin(tmp_path, name, kind, taken):
    result = CliRunner().invoke(main, ["new-plugin", name, "--kind", kind, "--dir", str(tmp_path / "p")])
    assert result.exit_code == 1, result.output
    assert f"Error: plugin name {name.removeprefix('hookchain-')!r} is taken by {taken}" in result.output
    assert "choose another name" in result.output
    assert not (tmp_path / "p").exists()


def test_refuses_a_model_or_handler_name_already_registered(tmp_path):
    import types

    import hookchain
    from hookchain import plugins
    from hookchain.language_models import BaseChatModel

    module = types.SimpleNamespace(register_models=hookchain.hookimpl(lambda register: register("shout", BaseChatModel)))
    plugins.reset()
    try:
        plugins.register_plugin(module, name="loud-models")
        with pytest.raises(ScaffoldError, match=r"plugin name 'shout' is taken by the installed plugin loud-models, "
                                                r"which registers the model 'shout'"):
            create_plugin("shout", "handler", tmp_path / "p")
    finally:
        plugins.reset()


# --------------------------------------------------------------------------- #
# The real thing: a fresh virtualenv
# --------------------------------------------------------------------------- #


def _env() -> dict[str, str]:
    # The generated projects' runs must not see this process's settings.
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("HOOKCHAIN_", "PYTEST_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


def _run(args: list, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def _pip_can_target_other_pythons() -> bool:
    try:
        import pip
    except ImportError:
        return False
    return tuple(int(x) for x in pip.__version__.split(".")[:2]) >= (22, 3)


@pytest.mark.slow
def test_generated_plugins_install_into_a_fresh_venv_and_pass_their_suites(tmp_path):
    started = time.monotonic()
    _run([sys.executable, "-m", "hookchain.cli", "new-plugin", "shout", "--kind", "model", "--dir", "shout"], tmp_path)
    _run([sys.executable, "-m", "hookchain.cli", "new-plugin", "tally", "--kind", "handler", "--dir", "tally"], tmp_path)
    _run([sys.executable, "-m", "hookchain.cli", "new-plugin", "complete", "--kind", "llm", "--dir", "complete"], tmp_path)
    venv = tmp_path / "venv"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    packages = ["-e", ROOT, *(x for p in ("shout", "tally", "complete") for x in ("-e", f"{tmp_path / p}[test]"))]
    if _pip_can_target_other_pythons():
        # Fastest: no pip inside the new venv (ensurepip takes seconds); this
        # process's pip installs into it with --python.
        _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path)
        _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--disable-pip-version-check", *packages], tmp_path)
    else:  # pragma: no cover - old pip
        _run([sys.executable, "-m", "venv", venv], tmp_path)
        _run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages], tmp_path)
    # Fresh means fresh: none of this environment's packages are visible.
    probe = _run([python, "-c", "import sys, importlib.util as u; print(sys.prefix != sys.base_prefix, "
                                "u.find_spec('hookchain_echo') is None, u.find_spec('langchain_core') is None)"], tmp_path)
    assert probe.stdout.split() == ["True", "True", "True"]

    listed = json.loads(_run([venv / "bin" / "hookchain", "plugins", "--json"], tmp_path).stdout)
    by_name = {p["name"]: p for p in listed}
    assert by_name["shout"]["distribution"] == "hookchain-shout" and by_name["shout"]["models"] == ["shout"]
    assert by_name["tally"]["distribution"] == "hookchain-tally" and by_name["tally"]["handlers"] == ["tally"]
    assert by_name["complete"]["models"] == ["complete"]
    assert all(p["error"] is None for p in listed)
    text = _run([venv / "bin" / "hookchain", "plugins"], tmp_path).stdout
    assert "shout  hookchain-shout 0.1.0" in text and "tally  hookchain-tally 0.1.0" in text

    # The generated pyproject.toml files are configs: the model's names the
    # default model, the handler's enables the handler.
    hookchain = venv / "bin" / "hookchain"
    ran = _run([hookchain, "run", "hi {who}", "--var", "who=there", "-o", "n=6", "--handler", "tally"], tmp_path / "shout")
    assert ran.stdout == "hi the\n", ran.stdout
    assert ran.stderr.startswith("[tally] run ") and ran.stderr.endswith(" ended after 2 streamed tokens\n"), ran.stderr
    ran = _run([hookchain, "run", "hi {who}", "--var", "who=there", "-m", "shout"], tmp_path / "tally")
    assert ran.stdout == "hi there\n" and ran.stderr.startswith("[tally] run "), (ran.stdout, ran.stderr)
    ran = _run([hookchain, "run", "hi {who}", "--var", "who=there", "-o", "n=5"], tmp_path / "complete")
    assert ran.stdout == "hi th\n", (ran.stdout, ran.stderr)  # the text model completes the raw prompt

    for project, least in (("shout", 25), ("tally", 7), ("complete", 12)):
        result = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path / project)
        summary = result.stdout.strip().splitlines()[-1]
        assert " passed" in summary and "failed" not in summary and "error" not in summary, result.stdout
        assert int(summary.split(" passed")[0].split()[-1]) >= least, summary
    assert time.monotonic() - started < 240


def test_handler_project_config_runs_with_the_default_model(tmp_path):
    # A generated handler project's pyproject.toml enables its handler and sets
    # no model: `hookchain run` there uses the default model (echo).
    create_plugin("tally", "handler", tmp_path / "tally")
    info = tmp_path / "site" / "hookchain_tally-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hookchain-tally\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[hookchain]\ntally = hookchain_tally\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKCHAIN_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), str(tmp_path / "tally")])
    proc = subprocess.run([sys.executable, "-m", "hookchain.cli", "run", "hello {who}", "--var", "who=world"],
                          cwd=tmp_path / "tally", env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello world\n"
    assert proc.stderr.startswith("[tally] run ") and proc.stderr.endswith(" ended after 11 streamed tokens\n")


def test_default_model_not_installed_says_where_it_came_from(tmp_path):
    (tmp_path / "hookchain.toml").write_text("[models.echo]\nn = 2\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKCHAIN_")}
    proc = subprocess.run([sys.executable, "-m", "hookchain.cli", "run", "hi"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**env, "HOOKCHAIN_DISABLE_PLUGINS": "echo"})
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "unknown model 'echo'" in proc.stderr
    assert "hookchain.toml sets no `model`, so the default model 'echo' was used" in proc.stderr
    assert "set `model` there or pass -m NAME" in proc.stderr
