"""The otel handler against hookchain's callback-handler conformance suite."""

from hookchain.testing import CallbackHandlerConformance

from .conftest import free_port


class TestOtelConformance(CallbackHandlerConformance):
    handler_name = "otel"
    # nothing listens on that port: the suite's spans are dropped (one warning), never the runs
    handler_options = {"endpoint": f"http://127.0.0.1:{free_port()}/v1/traces", "service_name": "conformance",
                       "protocol": "http/protobuf", "capture_content": True}
    option_attributes = {}
    bad_option = ("protocol", "carrier-pigeon")
