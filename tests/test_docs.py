"""Every ```python block of README.md and CONTRIBUTING.md runs and its asserts hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookchain import plugins
from hookchain.testing import python_blocks

ROOT = Path(__file__).resolve().parent.parent


def blocks(name: str) -> list[tuple[str, int, str]]:
    return [(name, line, code) for line, code in python_blocks(ROOT / name)]


ALL = blocks("README.md") + blocks("CONTRIBUTING.md")


def test_docs_have_examples():
    assert len(blocks("README.md")) >= 5 and len(blocks("CONTRIBUTING.md")) >= 3


@pytest.mark.parametrize("name,line,code", ALL, ids=[f"{n}:{line}" for n, line, _ in ALL])
def test_block_runs(name, line, code, capsys):
    plugins.reset()
    try:
        exec(compile(code, f"{name}:{line}", "exec"), {"__name__": f"doc_block_{line}"})
    finally:
        plugins.reset()
    out = capsys.readouterr().out
    if "dispatch_custom_event" in code:
        assert out == "progress {'step': 1}\n"
    if "MyCustomHandler" in code:
        assert out.splitlines() == [f"My custom handler, token: {t}" for t in "Tell"] + ["My custom handler, token: "]
