"""``hookchain new-plugin``: write a complete, installable plugin project.

``create_plugin("shout", "model", "hookchain-shout")`` writes::

    hookchain-shout/
      pyproject.toml            the distribution, with its ``hookchain`` entry point
      README.md                 install, use, test
      hookchain_shout/
        __init__.py             the hookimpl registering the model (or handler)
        model.py | handler.py   a working echo-like chat model or text-completion
                                model (--kind llm), or a working handler
      tests/
        test_conformance.py     subclasses hookchain.testing's conformance suite

``pip install -e '.[test]' && pytest`` in it passes as generated. Templates are
``string.Template`` strings (``$name`` placeholders) kept in this module.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from string import Template
from typing import Optional, Union

from hookchain.errors import HookchainError

__all__ = ["ScaffoldError", "KINDS", "create_plugin", "plugin_names"]

KINDS = ("model", "llm", "handler")
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


class ScaffoldError(HookchainError, ValueError):
    """The plugin name, kind or target directory cannot be used."""


def plugin_names(name: str) -> dict[str, str]:
    """The names derived from a plugin name: ``shout`` gives distribution
    ``hookchain-shout``, package ``hookchain_shout``, class prefix ``Shout``."""
    short = name[len("hookchain-"):] if name.startswith("hookchain-") else name
    if not _NAME.match(short) or len(short) > 40:
        raise ScaffoldError(
            f"plugin name {name!r} must be lowercase letters and digits, words separated by '-' or '_', "
            f"starting with a letter (e.g. 'shout' or 'my-model'), at most 40 characters"
        )
    if short == "hookchain":
        raise ScaffoldError("plugin name 'hookchain' is taken by hookchain itself; choose another")
    package = "hookchain_" + short.replace("-", "_")
    camel = "".join(part.capitalize() for part in re.split(r"[-_]", short))
    if keyword.iskeyword(short):
        raise ScaffoldError(f"plugin name {short!r} is a Python keyword; choose another")
    return {"name": short, "distribution": f"hookchain-{short}", "package": package, "Camel": camel}


def _refuse_installed(names: dict[str, str]) -> None:
    """Raise ``ScaffoldError`` when an installed plugin has this entry-point or
    distribution name, or registers a model or handler of this name: the new
    plugin would shadow it, or be shadowed (``hookchain run -m NAME`` would be
    ambiguous)."""
    from hookchain.plugins import list_plugins

    short = names["name"]
    for plugin in list_plugins():
        if short == plugin.name or names["distribution"] == plugin.distribution:
            why = ""
        elif short in plugin.models:
            why = f", which registers the model {short!r}"
        elif short in plugin.handlers:
            why = f", which registers the handler {short!r}"
        else:
            continue
        raise ScaffoldError(f"plugin name {short!r} is taken by the installed plugin {plugin.label}{why}; "
                            f"choose another name")


def _hookchain_requirement() -> str:
    from hookchain import __version__

    major, minor = __version__.split(".")[:2]
    return f"hookchain>={major}.{minor}"


PYPROJECT = Template('''\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "hookchain plugin: the $name $kind."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["$requirement"]

[project.optional-dependencies]
test = ["pytest>=8"]

# hookchain finds the plugin through this entry point: NAME = "module holding the hookimpls".
[project.entry-points.hookchain]
$name = "$package"

[tool.setuptools]
packages = ["$package"]

[tool.pytest.ini_options]
testpaths = ["tests"]

# `hookchain run` in this directory reads this table (hookchain.toml would win).
$config
''')

_CONFIG = {
    "model": '[tool.hookchain]\nmodel = "$name"\n\n[tool.hookchain.models.$name]\nn = 200',
    "llm": '[tool.hookchain]\nmodel = "$name"\n\n[tool.hookchain.models.$name]\nn = 200',
    "handler": ('# No `model` key: `hookchain run` uses the default model (echo) unless -m NAME is given.\n'
                '[tool.hookchain.handlers.$name]  # enables the handler for every run\nprefix = "[$name]"'),
}

MODEL_INIT = Template('''\
"""$distribution: registers the ``$name`` $kind with hookchain."""

from typing import Callable

import hookchain

from $package.model import $cls

__all__ = ["$cls"]


@hookchain.hookimpl
def register_models(register: Callable) -> None:
    register("$name", $cls)
''')

MODEL = Template('''\
"""The $name chat model.

It echoes the last message (its first ``n`` characters), streamed one word per
chunk. Replace ``_answer`` with a call to your model's API; keep the rest.
"""

from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Tuple

from pydantic import Field, SecretStr

from hookchain.language_models import BaseChatModel
from hookchain.messages import AIMessage, AIMessageChunk, BaseMessage
from hookchain.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


class ${Camel}ChatModel(BaseChatModel):
    """Options are pydantic fields: ``hookchain.get_model("$name", n=20)``, a
    config's ``[models.$name]`` table or ``hookchain run -m $name -o n=20``."""

    model_name: str = "$name-1"
    """Reported in ``_identifying_params`` and ``response_metadata``."""
    n: int = Field(default=200, ge=0)
    """How many characters of the last message to answer with."""
    api_key: Optional[SecretStr] = None
    """A real model's key: a SecretStr never shows in reprs or callbacks."""

    def _answer(self, messages: List[BaseMessage], stop: Optional[List[str]]) -> Tuple[List[str], Dict[str, Any]]:
        """The answer as chunks of text, and its response metadata."""
        if not messages:
            raise ValueError("${Camel}ChatModel needs at least one message")
        text = messages[-1].text[: self.n]
        finish_reason = "length" if len(messages[-1].text) > self.n else "stop"
        cut = None
        for s in stop or ():  # cut just after the first stop sequence, keeping it
            i = text.find(s) if s else -1
            if i >= 0 and (cut is None or i + len(s) < cut):
                cut = i + len(s)
        if cut is not None:
            text, finish_reason = text[:cut], "stop_sequence"
        words = text.split(" ")
        chunks = [w + " " for w in words[:-1]] + [words[-1]]
        return [c for c in chunks if c], {"model_name": self.model_name, "finish_reason": finish_reason}

    def _usage(self, messages: List[BaseMessage], chunks: List[str]) -> Dict[str, int]:
        n_in = sum(len(m.text.split()) for m in messages)
        return {"input_tokens": n_in, "output_tokens": len(chunks), "total_tokens": n_in + len(chunks)}

    def _generate(self, messages: List[BaseMessage], stop: Optional[List[str]] = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        chunks, metadata = self._answer(messages, stop)
        message = AIMessage(content="".join(chunks), response_metadata=metadata,
                            usage_metadata=self._usage(messages, chunks))
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(self, messages: List[BaseMessage], stop: Optional[List[str]] = None,
                         run_manager: Any = None, **kwargs: Any) -> ChatResult:
        return self._generate(messages, stop, **kwargs)

    def _stream(self, messages: List[BaseMessage], stop: Optional[List[str]] = None,
                run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        # hookchain fires on_llm_new_token for every chunk yielded here.
        chunks, metadata = self._answer(messages, stop)
        for text in chunks:
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))
        # Metadata and usage once, on a last empty chunk (chunks are added up).
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="", response_metadata=metadata, usage_metadata=self._usage(messages, chunks)))

    async def _astream(self, messages: List[BaseMessage], stop: Optional[List[str]] = None,
                       run_manager: Any = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._stream(messages, stop, **kwargs):
            yield chunk

    @property
    def _llm_type(self) -> str:
        return "$name"

    @property
    def _identifying_params(self) -> Dict[str, Any]:
        return {"model_name": self.model_name, "n": self.n}  # never the api_key
''')

MODEL_TESTS = Template('''\
"""The $name model against hookchain's chat-model conformance suite.

Run with ``pytest`` after ``pip install -e '.[test]'``. Each check says what is
wrong when it fails; see hookchain.testing.ChatModelConformance for the
settings below.
"""

from hookchain.testing import ChatModelConformance


class Test${Camel}Conformance(ChatModelConformance):
    model_name = "$name"
    model_options = {"n": 100}
    bad_option = ("n", "not-a-number")
    deterministic = True  # same input, same answer: enables the stricter checks
    error_input = []  # no messages: the model raises ValueError


def test_answers_with_the_start_of_the_last_message():
    import hookchain

    model = hookchain.get_model("$name", n=5)
    assert model.invoke("hello world").content == "hello"
''')

LLM = Template('''\
"""The $name text-completion model.

It echoes the prompt (its first ``n`` characters), streamed one word per
chunk. Replace ``_answer`` with a call to your model's API; keep the rest.
"""

from typing import Any, AsyncIterator, Dict, Iterator, List, Optional

from pydantic import Field, SecretStr

from hookchain.language_models import LLM
from hookchain.outputs import GenerationChunk


class ${Camel}LLM(LLM):
    """Options are pydantic fields: ``hookchain.get_model("$name", n=20)``, a
    config's ``[models.$name]`` table or ``hookchain run -m $name -o n=20``.
    A prompt string in, a string out; hookchain fires ``on_llm_start`` with the
    prompts and ``on_llm_new_token`` for each chunk ``_stream`` yields."""

    model_name: str = "$name-1"
    """Reported in ``_identifying_params``."""
    n: int = Field(default=200, ge=0)
    """How many characters of the prompt to answer with."""
    api_key: Optional[SecretStr] = None
    """A real model's key: a SecretStr never shows in reprs or callbacks."""

    def _answer(self, prompt: str, stop: Optional[List[str]]) -> List[str]:
        """The answer as chunks of text, cut just after the first stop sequence."""
        text = prompt[: self.n]
        cut = None
        for s in stop or ():
            i = text.find(s) if s else -1
            if i >= 0 and (cut is None or i + len(s) < cut):
                cut = i + len(s)
        if cut is not None:
            text = text[:cut]
        words = text.split(" ")
        return [c for c in [w + " " for w in words[:-1]] + [words[-1]] if c]

    def _call(self, prompt: str, stop: Optional[List[str]] = None, run_manager: Any = None, **kwargs: Any) -> str:
        return "".join(self._answer(prompt, stop))

    async def _acall(self, prompt: str, stop: Optional[List[str]] = None, run_manager: Any = None, **kwargs: Any) -> str:
        return self._call(prompt, stop, **kwargs)

    def _stream(self, prompt: str, stop: Optional[List[str]] = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[GenerationChunk]:
        for text in self._answer(prompt, stop):
            yield GenerationChunk(text=text)

    async def _astream(self, prompt: str, stop: Optional[List[str]] = None, run_manager: Any = None,
                       **kwargs: Any) -> AsyncIterator[GenerationChunk]:
        for chunk in self._stream(prompt, stop, **kwargs):
            yield chunk

    @property
    def _llm_type(self) -> str:
        return "$name"

    @property
    def _identifying_params(self) -> Dict[str, Any]:
        return {"model_name": self.model_name, "n": self.n}  # never the api_key
''')

LLM_TESTS = Template('''\
"""The $name model against hookchain's text-completion conformance suite.

Run with ``pytest`` after ``pip install -e '.[test]'``. Each check says what is
wrong when it fails; see hookchain.testing.LLMConformance for the settings.
"""

from hookchain.testing import LLMConformance


class Test${Camel}Conformance(LLMConformance):
    model_name = "$name"
    model_options = {"n": 100}
    bad_option = ("n", "not-a-number")
    deterministic = True  # same prompt, same answer: enables the stricter checks


def test_answers_with_the_start_of_the_prompt():
    import hookchain

    model = hookchain.get_model("$name", n=5)
    assert model.invoke("hello world") == "hello"
''')

HANDLER_INIT = Template('''\
"""$distribution: registers the ``$name`` callback handler with hookchain."""

from typing import Callable

import hookchain

from $package.handler import ${Camel}Handler

__all__ = ["${Camel}Handler"]


@hookchain.hookimpl
def register_handlers(register: Callable) -> None:
    register("$name", ${Camel}Handler)
''')

HANDLER = Template('''\
"""The $name callback handler: counts each chat model run's streamed tokens
and prints one line per run to stderr when it ends (or fails)."""

import sys
from typing import Any, Dict, Optional, TextIO
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from hookchain.callbacks import BaseCallbackHandler


class ${Camel}Options(BaseModel):
    """The handler's options, validated (a config's ``[handlers.$name]`` table,
    ``hookchain.get_handler("$name", ...)``); unknown ones are rejected."""

    model_config = ConfigDict(extra="forbid")

    prefix: str = "[$name]"
    """Printed at the start of each line."""
    show_errors: bool = True
    """Also print a line when a run fails."""


class ${Camel}Handler(BaseCallbackHandler):
    """Override only the events you need; accept ``**kwargs`` in each (run_id,
    parent_run_id, tags, metadata... arrive as keywords)."""

    options_model = ${Camel}Options

    def __init__(self, prefix: str = "[$name]", show_errors: bool = True, file: Optional[TextIO] = None) -> None:
        self.prefix = prefix
        self.show_errors = show_errors
        self.file = file
        self.tokens: Dict[UUID, int] = {}

    def _print(self, text: str) -> None:
        # stderr by default: stdout is where `hookchain run` streams the answer.
        print(f"{self.prefix} {text}", file=self.file or sys.stderr, flush=True)

    def on_chat_model_start(self, serialized: Dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.tokens[run_id] = 0

    def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        if token:  # a model may end its stream with an empty chunk carrying metadata
            self.tokens[run_id] = self.tokens.get(run_id, 0) + 1

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._print(f"run {run_id} ended after {self.tokens.pop(run_id, 0)} streamed tokens")

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.tokens.pop(run_id, None)
        if self.show_errors:
            self._print(f"run {run_id} failed: {error!r}")
''')

HANDLER_TESTS = Template('''\
"""The $name handler against hookchain's callback-handler conformance suite.

Run with ``pytest`` after ``pip install -e '.[test]'``. Each check says what is
wrong when it fails; see hookchain.testing.CallbackHandlerConformance.
"""

import io

from hookchain.testing import CallbackHandlerConformance, ConformanceChatModel

from $package import ${Camel}Handler


class Test${Camel}Conformance(CallbackHandlerConformance):
    handler_name = "$name"
    handler_options = {"prefix": ">>", "show_errors": False}
    bad_option = ("show_errors", "sometimes")


def test_prints_one_line_per_run_with_its_token_count():
    out = io.StringIO()
    handler = ${Camel}Handler(prefix="#", file=out)
    model = ConformanceChatModel(streaming=True)
    model.invoke("one two three", config={"callbacks": [handler]})
    assert out.getvalue().startswith("# run ") and out.getvalue().endswith(" ended after 3 streamed tokens\\n")
''')

README = Template('''\
# $distribution

A hookchain plugin: the `$name` $kind.

## Install and use

```bash
pip install -e .
hookchain plugins          # lists $name ($distribution)
$usage
```

## Develop

```bash
pip install -e '.[test]'
pytest
```

`tests/test_conformance.py` runs hookchain's conformance suite against the
plugin as installed (through its entry point); each failing check says what is
wrong. Change `$package/$module.py`, keep the suite passing, then publish
(`python -m build`, `twine upload`).
''')

_USAGE = {
    "model": 'hookchain run "hello {who}" --var who=world -o n=8   # -m $name: see [tool.hookchain] in pyproject.toml',
    "llm": 'hookchain run "hello {who}" --var who=world -o n=8   # -m $name: see [tool.hookchain] in pyproject.toml',
    "handler": ('hookchain run "hello {who}" --var who=world   # [tool.hookchain.handlers.$name] enables it here;\n'
                '                                              # the default model (echo) unless -m MODEL'),
}


_KIND_LABEL = {"model": "chat model", "llm": "text-completion model", "handler": "callback handler"}


def create_plugin(name: str, kind: str, directory: Optional[Union[str, Path]] = None) -> tuple[Path, list[Path]]:
    """Write the plugin project for ``name`` of ``kind`` ("model": a chat model,
    "llm": a text-completion model, or "handler")
    into ``directory`` (default ``./hookchain-NAME``), which must not exist or be
    empty. Returns the project directory and the files written.

    Raises ``ScaffoldError`` for a bad name or kind, a name an installed plugin
    already uses (as entry point, distribution, model or handler name), or a
    directory in the way."""
    if kind not in KINDS:
        raise ScaffoldError(f"plugin kind {kind!r} is not one of: {', '.join(KINDS)}")
    names = plugin_names(name)
    _refuse_installed(names)
    target = Path(directory) if directory is not None else Path(names["distribution"])
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not an empty directory; choose another --dir")
    module = "handler" if kind == "handler" else "model"
    values = {**names, "kind": _KIND_LABEL[kind], "module": module, "requirement": _hookchain_requirement(),
              "cls": names["Camel"] + ("LLM" if kind == "llm" else "ChatModel")}
    values["usage"] = Template(_USAGE[kind]).substitute(values)
    values["config"] = Template(_CONFIG[kind]).substitute(values)
    package = names["package"]
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"{package}/__init__.py": HANDLER_INIT if kind == "handler" else MODEL_INIT,
        f"{package}/{module}.py": {"model": MODEL, "llm": LLM, "handler": HANDLER}[kind],
        "tests/test_conformance.py": {"model": MODEL_TESTS, "llm": LLM_TESTS, "handler": HANDLER_TESTS}[kind],
    }
    written = []
    for relative, template in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.substitute(values), encoding="utf-8")
        written.append(path)
    return target, written
