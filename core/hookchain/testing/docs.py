"""The ```python blocks of a Markdown file, for tests that run a plugin's
README examples (as hookchain's own ``tests/test_docs.py`` does)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Union

_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def python_blocks(path: Union[str, Path]) -> list[tuple[int, str]]:
    """``(line, code)`` for every ```python fenced block of the UTF-8 file
    ``path``, in order; ``line`` is the 1-based line of the opening fence (for
    ``compile(code, f"{path}:{line}", "exec")``). Raises ``OSError`` when the
    file cannot be read."""
    text = Path(path).read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in _BLOCK.finditer(text)]
