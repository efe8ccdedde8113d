"""The cache handler against hookchain's callback-handler conformance suite
(as a handler object passed in callbacks it must behave; its model-call hooks
are covered by the other test modules)."""

import os
import tempfile

from hookchain.testing import CallbackHandlerConformance


class TestCacheConformance(CallbackHandlerConformance):
    handler_name = "cache"
    # never opened: the suite passes the handler as a callback, it does not enable it
    handler_options = {"path": os.path.join(tempfile.gettempdir(), "hookchain-cache-conformance.sqlite")}
    option_attributes = {"path": None}  # kept as a pathlib.Path in .path (checked in test_cache.py)
    bad_option = ("path", ["not", "a", "path"])
