"""Deferred imports for modules only some calls need (``asyncio`` costs ~15 ms
to import and a sync-only program never needs it)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_import(name: str) -> ModuleType:
    """``name``'s module, loaded on first attribute access (the standard
    library's ``importlib.util.LazyLoader`` recipe); already-imported modules
    are returned as they are."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
