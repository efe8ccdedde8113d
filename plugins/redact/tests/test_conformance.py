"""The redact handler against hookchain's callback-handler conformance suite
(as a handler object passed in callbacks it must behave; its model-call hooks
are covered by the other test modules)."""

from hookchain.testing import CallbackHandlerConformance


class TestRedactConformance(CallbackHandlerConformance):
    handler_name = "redact"
    handler_options = {"kinds": ["email", "api_key"], "patterns": {"ticket": "TCK-[0-9]{6}"}, "restore": True,
                       "fail_closed": False}
    bad_option = ("patterns", {"broken": "([unclosed"})


class TestRedactDefaultsConformance(CallbackHandlerConformance):
    handler_name = "redact"
    bad_option = ("kinds", ["no-such-kind"])
    # fail_closed (the default) sets raise_error on purpose: a failure while
    # masking must stop the call rather than send the unmasked messages. The
    # handler implements no callback event, so nothing else is affected.
    test_raising_handler_never_breaks_a_run = None
