"""Text-completion models (``hookchain.language_models.BaseLLM``/``LLM`` and
the fakes): behaviour not covered by the differential tests (lazy import,
old-style ``_call`` without ``run_manager``, argument errors, run ids,
handler failures, ``llm_output`` per prompt)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any, Optional

import pytest

from hookchain.callbacks import BaseCallbackHandler
from hookchain.language_models import LLM, BaseLLM, FakeListLLM
from hookchain.outputs import Generation, LLMResult


class Events(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def on_llm_start(self, serialized, prompts, **kwargs):
        self.seen.append(("start", (prompts, kwargs["run_id"], kwargs["invocation_params"], kwargs.get("name"))))

    def on_llm_end(self, response, **kwargs):
        self.seen.append(("end", (response, kwargs["run_id"])))

    def on_llm_error(self, error, **kwargs):
        self.seen.append(("error", (error, kwargs["run_id"])))


class OldStyle(LLM):
    """A ``_call`` without ``run_manager`` (LangChain calls it without one)."""

    def _call(self, prompt: str, stop: Optional[list[str]] = None) -> str:  # type: ignore[override]
        return prompt.upper()

    @property
    def _llm_type(self) -> str:
        return "old"


class Usage(BaseLLM):
    """``_generate`` with provider output (token usage) for all prompts."""

    def _generate(self, prompts, stop=None, run_manager=None, **kwargs):
        return LLMResult([[Generation(p[::-1])] for p in prompts], llm_output={"token_usage": {"total": 9}, "model": "u"})

    @property
    def _llm_type(self) -> str:
        return "usage"


def test_import_hookchain_does_not_load_llms():
    code = "import sys, hookchain, hookchain.language_models; print(sorted(m for m in sys.modules if m.endswith(('.llms', '.fake'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_call_without_run_manager_parameter():
    h = Events()
    assert OldStyle().invoke("abc", {"callbacks": [h]}) == "ABC"
    assert [e for e, _ in h.seen] == ["start", "end"]
    assert h.seen[0][1][2] == {"_type": "old", "stop": None}


def test_run_id_and_run_name_from_config():
    h = Events()
    run_id = uuid.uuid4()
    FakeListLLM(responses=["x"]).invoke("p", {"callbacks": [h], "run_id": run_id, "run_name": "mine"})
    assert h.seen[0][1][1] == run_id and h.seen[0][1][3] == "mine"
    assert h.seen[1][1][1] == run_id


def test_generate_per_prompt_arguments_are_checked():
    llm = FakeListLLM(responses=["x"])
    with pytest.raises(ValueError, match="callbacks must be the same length as prompts"):
        llm.generate(["a", "b"], callbacks=[[Events()]])
    with pytest.raises(ValueError, match="tags must be a list of the same length as prompts"):
        llm.generate(["a", "b"], callbacks=[None, None], tags=["t"])
    with pytest.raises(ValueError, match="run_id has 1 ids for 2 prompts"):
        llm.generate(["a", "b"], run_id=[uuid.uuid4()])


def test_generate_run_ids_per_prompt():
    h = Events()
    ids = [uuid.uuid4(), uuid.uuid4()]
    FakeListLLM(responses=["x"]).generate(["a", "b"], callbacks=[h], run_id=ids)
    assert [rid for e, (_, rid, *rest) in h.seen if e == "start"] == ids


def test_llm_output_token_usage_counted_once():
    # As LangChain's LLMResult.flatten: only the first prompt's run keeps the usage.
    h = Events()
    result = Usage().generate(["ab", "cd"], callbacks=[h])
    ends = [args[0] for e, args in h.seen if e == "end"]
    assert [r.llm_output for r in ends] == [{"token_usage": {"total": 9}, "model": "u"}, {"token_usage": {}, "model": "u"}]
    assert [r.generations for r in ends] == [[[Generation("ba")]], [[Generation("dc")]]]
    assert result.llm_output == {"token_usage": {"total": 9}, "model": "u"}


class Failing(BaseCallbackHandler):
    def on_llm_start(self, *args, **kwargs):
        raise RuntimeError("handler broke")

    def on_llm_end(self, *args, **kwargs):
        raise RuntimeError("handler broke")


def test_failing_handler_does_not_break_the_run():
    h = Events()
    llm = FakeListLLM(responses=["fine"])
    assert llm.invoke("p", {"callbacks": [Failing(), h]}) == "fine"
    assert [e for e, _ in h.seen] == ["start", "end"]


def test_unknown_option_is_an_error():
    with pytest.raises(Exception, match="bogus"):
        FakeListLLM(responses=["x"], bogus=1)


def test_asdict_and_str():
    llm = FakeListLLM(responses=["x"])
    assert llm.asdict() == {"responses": ["x"], "_type": "fake-list"}
    assert "FakeListLLM" in str(llm) and "Params: {'responses': ['x']}" in str(llm)
