"""Every ```python block of this plugin's README.md runs and its asserts hold
(in a temporary working directory, with no handler enabled beforehand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookchain.testing import python_blocks

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = python_blocks(README)


def test_the_readme_has_examples():
    assert BLOCKS


@pytest.mark.parametrize("line,code", BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_block_runs(line, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{README}:{line}", "exec"), {"__name__": f"readme_block_{line}"})
