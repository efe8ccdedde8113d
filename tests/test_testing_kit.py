"""hookchain.testing: the pytest plugin stays inert, the kit's pieces work."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap

from hookchain.hookspecs import CALLBACK_EVENTS


def _pytest(where, *args: str, autoload: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    if not autoload:  # faster: no other installed pytest plugins
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        args = ("-p", "hookchain.testing.pytest_plugin", *args)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=where,
                          capture_output=True, text=True, timeout=120, env=env)


def test_pytest_plugin_is_loaded_and_inert(tmp_path):
    # A project that has nothing to do with hookchain: the plugin is loaded
    # through the pytest11 entry point but imports no more than its package.
    (tmp_path / "test_unrelated.py").write_text(textwrap.dedent('''
        import sys

        def test_nothing_of_hookchain_is_imported(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("hookchain")
            loaded = sorted(m for m in sys.modules if m.split(".")[0] == "hookchain")
            assert loaded == ["hookchain", "hookchain._upcalls", "hookchain._version",
                              "hookchain.testing", "hookchain.testing.pytest_plugin"], loaded
            markers = pytestconfig.getini("markers")
            assert any(m.startswith("hookchain_conformance: ") for m in markers), markers
    '''))
    proc = _pytest(tmp_path, "-q")
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr


def test_suite_checks_are_marked_and_plugin_fixtures_work(tmp_path):
    (tmp_path / "test_mine.py").write_text(textwrap.dedent('''
        from hookchain.testing import ChatModelConformance, RecordingHandler
        from hookchain.testing import ConformanceChatModel


        class TestEcho(ChatModelConformance):
            model_name = "echo"


        def test_fixtures(hookchain_recorder, hookchain_isolated):
            assert isinstance(hookchain_recorder, RecordingHandler)
            ConformanceChatModel().invoke("hi", config={"callbacks": [hookchain_recorder]})
            assert hookchain_recorder.names == ["on_chat_model_start", "on_llm_end"]
    '''))
    selected = _pytest(tmp_path, "-q", "--co", "-m", "hookchain_conformance", autoload=False)
    assert "TestEcho::test_stop_sequence_honoured[invoke]" in selected.stdout and "test_fixtures" not in selected.stdout
    rest = _pytest(tmp_path, "-q", "-m", "not hookchain_conformance", autoload=False)
    assert rest.returncode == 0 and "1 passed" in rest.stdout, rest.stdout + rest.stderr


def test_samples_cover_every_event_with_consistent_runs():
    from hookchain.testing.samples import event_calls

    calls = event_calls()
    assert {event for event, _, _ in calls} == set(CALLBACK_EVENTS) and len(CALLBACK_EVENTS) == 19
    started = set()
    for event, args, kwargs in calls:
        assert "run_id" in kwargs, event
        if event.endswith("_start"):
            assert {"parent_run_id", "tags", "metadata"} <= set(kwargs), event
            started.add(kwargs["run_id"])
        elif event not in ("on_agent_action", "on_agent_finish", "on_custom_event"):
            assert kwargs["run_id"] in started, event


def test_recording_handler_records_sync_and_async_runs():
    from hookchain.prompts import ChatPromptTemplate
    from hookchain.testing import ConformanceChatModel, RecordingHandler

    recorder = RecordingHandler()
    chain = ChatPromptTemplate.from_template("{x}") | ConformanceChatModel()
    asyncio.run(chain.ainvoke({"x": "a b"}, config={"callbacks": [recorder]}))
    assert recorder.names == ["on_chain_start", "on_chain_start", "on_chain_end", "on_chat_model_start", "on_llm_end", "on_chain_end"]
    model_run = recorder.of("on_chat_model_start")[0]
    assert model_run.parent_run_id == recorder.events[0].run_id
    assert [e.name for e in recorder.of(run_id=model_run.run_id)] == ["on_chat_model_start", "on_llm_end"]
    recorder.clear()
    assert recorder.events == []


def test_isolated_hides_enabled_handlers_and_restores_them():
    from hookchain.callbacks import disable_handler, enable_handler, enabled_handlers
    from hookchain.testing import RecordingHandler, isolated

    handler = RecordingHandler()
    enable_handler(handler)
    try:
        with isolated():
            assert enabled_handlers() == ()
        assert handler in enabled_handlers()
    finally:
        disable_handler(handler)


def test_conformance_model_fails_on_request():
    import pytest

    from hookchain.testing import ConformanceChatModel, ConformanceFailure

    with pytest.raises(ConformanceFailure):
        ConformanceChatModel(fail=True).invoke("hi")
    assert ConformanceChatModel().invoke("one two three", stop=["two"]).content == "one two"
