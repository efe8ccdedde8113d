"""hookchain's chat-model conformance suite, run against the real LiteLLM proxy,
with its opt-in tool-calling and structured-output checks."""

from __future__ import annotations

import pytest

from hookchain.testing import ChatModelConformance


class TestOpenAIConformance(ChatModelConformance):
    model_name = "openai"
    bad_option = ("temperature", -1)
    # every call to this proxy model fails with a 500 (retries off, to stay quick)
    failing_model_options = {"model": "mock-broken", "max_retries": 0}
    # LiteLLM's mock_response answers ignore `stop` (a real model would stop);
    # test_openai_model.py checks that the request carries it.
    test_stop_sequence_honoured = None
    # bind_tools / with_structured_output (method="json_schema", the default)
    has_tool_calling = True
    has_structured_output = True

    @pytest.fixture(autouse=True)
    def _on_the_proxy(self, litellm_proxy, request):
        # The tool and structured-output checks talk to mock-tool-user, which
        # answers from the request as a tool-using model would (conftest.py);
        # the others to mock-gpt, whose fixed answer streams in many chunks.
        tools = request.node.name.startswith(("test_tool", "test_structured"))
        self.model_options = {"base_url": litellm_proxy.base_url, "model": "mock-tool-user" if tools else "mock-gpt",
                              "api_key": litellm_proxy.key, "retry_backoff": 0.01}
