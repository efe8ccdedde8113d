"""The runlog handler against hookchain's callback-handler conformance suite."""

import os
import tempfile

from hookchain.testing import CallbackHandlerConformance


class TestRunLogConformance(CallbackHandlerConformance):
    handler_name = "runlog"
    handler_options = {"path": os.path.join(tempfile.gettempdir(), f"hookchain-runlog-conformance-{os.getpid()}.sqlite")}
    option_attributes = {"path": None}  # kept as a pathlib.Path in .path (checked in test_runlog.py)
    bad_option = ("path", ["not", "a", "path"])


def teardown_module() -> None:
    """The suite's runs were written to that file: remove it with its WAL files."""
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(TestRunLogConformance.handler_options["path"] + suffix)
        except FileNotFoundError:
            pass
