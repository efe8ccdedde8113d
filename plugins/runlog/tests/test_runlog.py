"""The runlog handler: what a run tree looks like once written, secrets, and
failures that must not reach the run."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any, Optional

import pytest
from pydantic import SecretStr

import hookchain
from hookchain.callbacks import enable_handler, disable_handler
from hookchain.errors import OptionError
from hookchain.prompts import ChatPromptTemplate
from hookchain.runnables import RunnableLambda
from hookchain.testing.models import ConformanceChatModel, ConformanceFailure
from hookchain_echo import EchoChatModel

from hookchain_runlog import RunLogHandler, default_path

ADDRESS = "joe.bloggs@example.com"
API_KEY = "sk-runlogtest0123456789abcdefghijkl"


def chain(fail: bool = False) -> Any:
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "Tell me about {animal}")])
    return prompt | ConformanceChatModel(fail=fail) | RunnableLambda(lambda m: m.content.upper(), name="shout")


def runs_of(handler: RunLogHandler) -> list[dict[str, Any]]:
    assert handler.flush(60)
    conn = sqlite3.connect(handler.path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY start_time, rowid")]
    finally:
        conn.close()


def file_bytes(path: Path) -> bytes:
    """The database and its WAL: everything the run log wrote to disk."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_options_and_default_path(tmp_path):
    handler = hookchain.get_handler("runlog")
    assert handler.path == default_path()
    assert str(default_path()).startswith(str(tmp_path / "xdg-data"))  # platformdirs' user data dir
    assert hookchain.get_handler("runlog", path=str(tmp_path / "x.sqlite")).path == tmp_path / "x.sqlite"
    with pytest.raises(OptionError, match="path"):
        hookchain.get_handler("runlog", path="  ")
    with pytest.raises(OptionError, match="path"):
        hookchain.get_handler("runlog", colour="red")


def test_chain_run_is_recorded_as_its_tree(runlog):
    out = chain().invoke({"animal": "bears"}, config={"tags": ["t1"], "metadata": {"user": "u1"}})
    assert out == "TELL ME ABOUT BEARS"
    runs = runs_of(runlog)
    assert [(r["name"], r["run_type"]) for r in runs] == [
        ("RunnableSequence", "chain"), ("ChatPromptTemplate", "prompt"), ("ConformanceChatModel", "chat_model"),
        ("shout", "chain")]
    root = runs[0]
    assert root["parent_id"] is None
    assert all(r["root_id"] == root["id"] for r in runs)
    assert all(r["parent_id"] == root["id"] for r in runs[1:])
    assert all(r["end_time"] >= r["start_time"] for r in runs)
    assert json.loads(root["inputs"]) == {"animal": "bears"}
    assert json.loads(root["outputs"]) == "TELL ME ABOUT BEARS"
    assert json.loads(root["tags"]) == ["t1"] and json.loads(root["metadata"]) == {"user": "u1"}
    model = runs[2]
    assert model["model"] == "conformance"  # from the answer's response_metadata (no model in its params)
    assert (model["input_tokens"], model["output_tokens"], model["total_tokens"]) == (6, 4, 10)
    assert model["prompt"] == "system: Be brief.\nhuman: Tell me about bears"
    assert model["response"] == "Tell me about bears"
    assert [(m["type"], m["content"]) for m in json.loads(model["inputs"])["messages"][0]] == [("system", "Be brief."), ("human", "Tell me about bears")]
    trace = runlog.store.traces()[0]
    assert (trace["root_id"], trace["model"], trace["total_tokens"], trace["runs"], trace["error"]) == (root["id"], "conformance", 10, 4, None)
    assert trace["preview"] == "Tell me about bears"


def test_stream_batch_and_async_runs_are_whole_trees(runlog):
    c = chain()
    assert "".join(c.stream({"animal": "owls"})) == "TELL ME ABOUT OWLS"
    assert c.batch([{"animal": "cats"}, {"animal": "dogs"}]) == ["TELL ME ABOUT CATS", "TELL ME ABOUT DOGS"]

    async def both() -> Any:
        return await c.ainvoke({"animal": "eels"}), "".join([x async for x in c.astream({"animal": "yaks"})])

    assert asyncio.run(both()) == ("TELL ME ABOUT EELS", "TELL ME ABOUT YAKS")
    runs = runs_of(runlog)
    assert len(runs) == 5 * 4
    models = [r for r in runs if r["run_type"] == "chat_model"]
    assert sorted(r["response"] for r in models) == sorted(f"Tell me about {a}" for a in ("owls", "cats", "dogs", "eels", "yaks"))
    assert all(r["total_tokens"] == 10 for r in models)
    assert runlog.store.counts() == (5, 20)
    assert runlog.written == 20 and runlog.errors == 0


def test_failing_run_records_the_error(runlog):
    with pytest.raises(ConformanceFailure):
        chain(fail=True).invoke({"animal": "bears"})
    runs = runs_of(runlog)
    assert [r["run_type"] for r in runs] == ["chain", "prompt", "chat_model"]
    assert runs[2]["error"] == "ConformanceFailure: the conformance model was asked to fail"
    assert runs[0]["error"].startswith("ConformanceFailure")
    assert [t["root_id"] for t in runlog.store.traces(errors=True)] == [runs[0]["id"]]


@pytest.mark.parametrize("restore", [False, True])
@pytest.mark.parametrize("stream", [False, True])
def test_redacted_values_never_reach_the_file(runlog, restore, stream):
    redact = hookchain.get_handler("redact", restore=restore)
    enable_handler(redact)
    try:
        c = ChatPromptTemplate.from_messages([("human", "{q}")]) | EchoChatModel()
        question = f"mail {ADDRESS} with key {API_KEY}"
        answer = "".join(m.content for m in c.stream({"q": question})) if stream else c.invoke({"q": question}).content
        assert (ADDRESS in answer) is restore  # the caller gets the originals back only with restore
    finally:
        disable_handler(redact)
    runs = runs_of(runlog)
    model = next(r for r in runs if r["run_type"] == "chat_model")
    assert model["prompt"] == "human: mail <EMAIL_1> with key <API_KEY_1>"
    assert model["response"] == "mail <EMAIL_1> with key <API_KEY_1>"
    assert "<EMAIL_1>" in runs[0]["inputs"]  # the chain's input too: the originals of the call are replaced everywhere
    data = file_bytes(runlog.path)
    assert ADDRESS.encode() not in data and API_KEY.encode() not in data


class KeyedEcho(EchoChatModel):
    """An echo model with an API key in a SecretStr field, which it reports in
    its params (as a SecretStr) and, carelessly, in its answer's metadata."""

    api_key: Optional[SecretStr] = None

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {**super()._identifying_params, "api_key": self.api_key}

    def _answer(self, messages, stop):
        text, meta = super()._answer(messages, stop)
        return text, {**meta, "key_used": self.api_key.get_secret_value()}


def test_secret_str_values_are_never_stored(runlog):
    secret = "hookchain-runlog-secret-4f1e0c"
    KeyedEcho(api_key=SecretStr(secret)).invoke("hello")
    model = runs_of(runlog)[0]
    assert json.loads(model["params"])["api_key"] == "**********"
    assert json.loads(model["outputs"])["generations"][0]["message"]["response_metadata"]["key_used"] == "**********"
    assert secret.encode() not in file_bytes(runlog.path)


def test_a_failing_write_never_breaks_a_run(tmp_path, caplog):
    handler = RunLogHandler(path=str(tmp_path))  # a directory: SQLite cannot open it
    caplog.set_level(logging.WARNING, logger="hookchain_runlog")
    assert chain().invoke({"animal": "bears"}, config={"callbacks": [handler]}) == "TELL ME ABOUT BEARS"
    assert handler.flush(60)
    assert handler.errors == 1 and handler.written == 0
    assert "writing 1 run tree(s)" in caplog.text
    # and the next tree is tried again
    chain().invoke({"animal": "bears"}, config={"callbacks": [handler]})
    assert handler.flush(60) and handler.errors == 2


def test_callback_only_handler_stores_no_messages_while_other_hooks_may_mask_them(tmp_path):
    """Passed as a callback (not enabled) while redact is enabled: the
    callbacks' messages predate masking, so they are not stored."""
    handler = RunLogHandler(path=str(tmp_path / "runs.sqlite"))
    redact = hookchain.get_handler("redact")
    enable_handler(redact)
    try:
        EchoChatModel().invoke(f"write to {ADDRESS}", config={"callbacks": [handler]})
    finally:
        disable_handler(redact)
    model = runs_of(handler)[0]
    assert model["prompt"] is None and model["inputs"] is None and model["response"] is None and model["outputs"] is None
    assert ADDRESS.encode() not in file_bytes(handler.path)


def test_readme_config_enables_the_handler(tmp_path):
    from hookchain import config

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "hookchain.toml").write_text(block, encoding="utf-8")
    built = config.load(tmp_path / "hookchain.toml").build_handlers()
    assert [type(h) for h in built] == [RunLogHandler]
    assert built[0].path == Path("~/logs/llm-runs.sqlite").expanduser()
