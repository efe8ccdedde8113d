"""The echo model against hookchain's chat-model conformance suite."""

from hookchain.testing import ChatModelConformance, LLMConformance


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


class TestEchoLLMConformance(LLMConformance):
    """``echo-llm``, the text-completion echo."""

    model_name = "echo-llm"
    model_options = {"n": 120}
    bad_option = ("n", -1)
    deterministic = True


def test_echo_llm_cuts_after_a_stop_sequence_and_streams_characters():
    import hookchain

    model = hookchain.get_model("echo-llm", n=11)
    assert model.invoke("hello world, again") == "hello world"
    assert model.invoke("hello world", stop=["lo"]) == "hello"
    assert list(model.stream("abc")) == ["a", "b", "c"]
