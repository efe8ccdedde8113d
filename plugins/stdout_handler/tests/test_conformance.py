"""The stdout handler against hookchain's callback-handler conformance suite."""

from hookchain.testing import CallbackHandlerConformance


class TestStdOutConformance(CallbackHandlerConformance):
    handler_name = "stdout"
    handler_options = {"tokens": True, "runs": True, "token_format": "<{token}>"}
    bad_option = ("runs", "sometimes")


class TestStdOutQuiet(CallbackHandlerConformance):
    handler_name = "stdout"
    handler_options = {"tokens": False, "runs": False}
    bad_option = ("token_format", 3)
