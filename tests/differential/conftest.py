"""Readable failures: a LangChain-vs-hookchain mismatch is shown as a unified
diff of the two pretty-printed values."""

from __future__ import annotations

import difflib
import pprint
from typing import Any, Optional


def pytest_assertrepr_compare(op: str, left: Any, right: Any) -> Optional[list[str]]:
    if op != "==" or not isinstance(left, (list, tuple, dict)) or type(left) is not type(right):
        return None
    a = pprint.pformat(left, width=140).splitlines()
    b = pprint.pformat(right, width=140).splitlines()
    return ["LangChain (left) != hookchain (right):", *difflib.unified_diff(a, b, "left", "right", lineterm="", n=2)]
