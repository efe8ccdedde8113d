"""hookchain's chat-model conformance suite, run against the real LiteLLM proxy."""

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

    @pytest.fixture(autouse=True)
    def _on_the_proxy(self, litellm_proxy):
        self.model_options = {"base_url": litellm_proxy.base_url, "model": "mock-gpt", "api_key": litellm_proxy.key,
                              "retry_backoff": 0.01}
