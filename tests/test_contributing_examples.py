"""CONTRIBUTING.md's example model and handler pass the conformance suites the
document recommends, so the guide cannot drift from what it asks of authors.

The ```python blocks defining ``ShoutModel`` and ``TokenCounter`` are taken from
the document as written, registered in code (so the entry-point check is off)
and run through ``ChatModelConformance`` / ``CallbackHandlerConformance`` in a
pytest subprocess.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "CONTRIBUTING.md"

SUITES = '''

import types as _types

from hookchain.plugins import register_plugin as _register_plugin
from hookchain.testing import CallbackHandlerConformance, ChatModelConformance

_plugin = _types.SimpleNamespace(register_models=register_models, register_handlers=register_handlers)
_register_plugin(_plugin, name="contributing_examples")


class TestShoutModel(ChatModelConformance):
    test_discovered_through_entry_point = None  # registered in code here
    model_name = "shout"
    model_options = {"exclamations": 2}
    bad_option = ("exclamations", "many")
    deterministic = True
    error_input = []


class TestTokenCounter(CallbackHandlerConformance):
    test_discovered_through_entry_point = None  # registered in code here
    handler_name = "count"
    handler_options = {"label": "streamed tokens"}
    bad_option = ("label", ["not", "a", "str"])
'''


def example(name: str) -> str:
    """The one ```python block of CONTRIBUTING.md that defines class ``name``."""
    found = [b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S) if f"class {name}(" in b]
    assert len(found) == 1, f"CONTRIBUTING.md has {len(found)} python blocks defining {name}"
    return found[0]


def test_examples_pass_the_conformance_suites(tmp_path):
    model, handler = example("ShoutModel"), example("TokenCounter")
    # Each block ends with its own register_* hookimpl; keep both under their names.
    module = model + "\n" + handler + SUITES
    (tmp_path / "test_contributing_examples.py").write_text(module, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_contributing_examples.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "HOOKCHAIN_CONFIG": "", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 30, proc.stdout[-2000:]
