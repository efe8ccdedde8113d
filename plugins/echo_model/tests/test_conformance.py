"""The echo model against hookchain's chat-model conformance suite."""

from hookchain.testing import ChatModelConformance


class TestEchoConformance(ChatModelConformance):
    model_name = "echo"
    model_options = {"n": 120}
    bad_option = ("n", "not-an-int")
    deterministic = True
    error_input = []  # no messages at all: EchoChatModel raises ValueError


class TestEchoShortAnswers(ChatModelConformance):
    """With n smaller than the prompts, answers are cut (finish_reason 'length')."""

    model_name = "echo"
    model_options = {"n": 30}
    bad_option = ("n", -1)
    deterministic = True
    error_input = []
