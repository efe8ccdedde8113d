"""The ``runlog`` handler: every run tree, written to a local SQLite file.

Enable it in ``hookchain.toml``::

    [handlers.runlog]
    path = "~/logs/llm-runs.sqlite"   # optional; default: the user data dir

How a run is recorded:

* The callback events (``on_chain_start``, ``on_chat_model_start``,
  ``on_llm_end``, ``on_tool_error``...) open and close a record per run in
  memory: id, parent, root, name, run type, times, inputs, outputs, error,
  tags, metadata, invocation params, model name, token usage. Inputs and
  outputs are turned into JSON text by the writer thread, when the tree is
  written: an object changed in place after its run ended is stored as it is
  then. The messages and answer of a chat model run are the exception (see below).
* When the root run of a tree ends, the tree is handed to a writer thread,
  which writes the trees that ended within 0.1 s (at most 200) in one
  transaction (``store.RunStore``). A
  failed write is logged as a warning and counted in ``errors``; the run is
  never affected. ``flush()`` waits for the writer (also called at process exit).
* Chat model runs: the prompt and the response text, and the messages stored
  as the run's inputs and outputs, come from the chat-model hooks when this
  handler is enabled (``enable_handler``, a config file), i.e. as the model
  saw them: after the redact plugin masked them (its ``chat_model_start``
  wraps every other start hook) and before it restores anything (this
  handler's ``chat_model_chunk``/``chat_model_end`` are ``tryfirst``; redact's
  restoring ones ``trylast``). The originals redact replaced in a call are
  also replaced by their placeholders in every other text of the tree (the
  chain inputs that held them). When another plugin's hooks are enabled but
  this handler's are not (it was passed as a callback only), the messages of
  chat model runs are not stored, since a hook may have masked them.
* Secrets: a ``pydantic.SecretStr`` value is written as ``**********``
  wherever it appears in inputs, outputs, metadata or params, and the secret
  values of the called model's ``SecretStr`` fields (its API key) are
  replaced by ``**********`` in every text of the tree.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import weakref
from collections import deque
from typing import Any, Optional
from uuid import UUID

from pydantic import BaseModel, ConfigDict, SecretBytes, SecretStr, field_validator

import hookchain
from hookchain.callbacks import BaseCallbackHandler

from hookchain_runlog.store import RUN_COLUMNS, RunStore, default_path

__all__ = ["RunLogHandler", "RunLogOptions", "HIDDEN"]

logger = logging.getLogger("hookchain_runlog")

HIDDEN = "**********"  # how pydantic shows a SecretStr
_REDACT_STATE = "hookchain_redact:"  # prefix of the redact plugin's call.state entries ({"mapping": {placeholder: original}})
_TEXT_COLUMNS = ("inputs", "outputs", "error", "tags", "metadata", "params", "prompt", "response", "name")
_BATCH = 200  # trees per transaction at most
_LINGER = 0.1  # seconds the writer waits for more trees before a transaction
_MAX_CALLS = 10_000  # hook records waiting for their run's end


class RunLogOptions(BaseModel):
    """Options of the ``runlog`` handler."""

    model_config = ConfigDict(extra="forbid")

    path: Optional[str] = None
    """The SQLite file (``~`` expanded; relative to the working directory).
    Default: ``runlog.sqlite`` in the user data dir (``platformdirs``), e.g.
    ``~/.local/share/hookchain/runlog.sqlite`` on Linux."""

    @field_validator("path")
    @classmethod
    def _path(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not value.strip():
            raise ValueError("path must be a file path, not an empty string (leave it out for the default)")
        return value


def _json_default(value: Any) -> Any:
    from hookchain.messages import BaseMessage
    from hookchain.outputs import Generation

    if isinstance(value, (SecretStr, SecretBytes)):
        return HIDDEN
    if isinstance(value, BaseMessage):  # its type and the fields that are set (json.dumps reads them at once: no copies)
        data = {"type": value.type}
        for name in value._field_names:
            field = getattr(value, name)
            if field is not None and field != "" and field != [] and field != {}:
                data[name] = field
        return data
    if isinstance(value, Generation):
        return {name: getattr(value, name, None) for cls in type(value).__mro__ for name in getattr(cls, "__slots__", ())}
    if hasattr(value, "to_messages") and callable(value.to_messages):  # a PromptValue
        return {"messages": value.to_messages()}
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (UUID, bytes)):
        return str(value)
    return repr(value)


def to_json(value: Any) -> Optional[str]:
    """``value`` as JSON text (a message as its ``type`` and the fields that are set, secrets hidden,
    anything else by ``repr``); ``None`` stays ``None``."""
    if value is None:
        return None
    try:
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    except (TypeError, ValueError):  # circular, keys that are not strings...
        return json.dumps(repr(value), ensure_ascii=False)


class _Later:
    """A value to turn into JSON text when its tree is written (on the writer
    thread, off the run's path)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _messages_text(messages: Any) -> str:
    return "\n".join(f"{m.type}: {m.text}" for m in messages)


def _model_name(params: Optional[dict[str, Any]], metadata: Optional[dict[str, Any]]) -> Optional[str]:
    for source in (params or {}, metadata or {}):
        for key in ("model_name", "model", "ls_model_name", "model_id"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _response_model(response: Any) -> Optional[str]:
    """The ``model_name`` a chat model reported in its answer's ``response_metadata``."""
    for generations in getattr(response, "generations", None) or ():
        for generation in generations:
            value = (getattr(getattr(generation, "message", None), "response_metadata", None) or {}).get("model_name")
            if isinstance(value, str) and value:
                return value
    return None


def _usage(response: Any) -> tuple[Optional[int], Optional[int], Optional[int]]:
    """``(input, output, total)`` tokens of an ``LLMResult``: the messages'
    ``usage_metadata``, else ``llm_output["token_usage"]`` (OpenAI's names)."""
    found, inp, out, total = False, 0, 0, 0
    for generations in getattr(response, "generations", None) or ():
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if usage:
                found = True
                inp += usage.get("input_tokens") or 0
                out += usage.get("output_tokens") or 0
                total += usage.get("total_tokens") or 0
    if found:
        return inp, out, total or inp + out
    usage = (getattr(response, "llm_output", None) or {}).get("token_usage") or {}
    if isinstance(usage, dict) and usage:
        inp, out = usage.get("prompt_tokens"), usage.get("completion_tokens")
        return inp, out, usage.get("total_tokens") or ((inp or 0) + (out or 0))
    return None, None, None


def _response_text(response: Any) -> str:
    return "\n".join(g.text for gens in getattr(response, "generations", None) or () for g in gens)


def _model_secrets(model: Any) -> list[str]:
    """The secret values of ``model``'s ``SecretStr`` fields (non-empty ones)."""
    out = []
    for name in getattr(type(model), "model_fields", {}):
        value = getattr(model, name, None)
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            if secret:
                out.append(secret)
    return out


class _Tree:
    """The runs of one root, while it runs."""

    __slots__ = ("runs", "replace")

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.replace: dict[str, str] = {}  # original text -> what is stored instead


class RunLogHandler(BaseCallbackHandler):
    """Writes every run tree to a SQLite file (see the module docstring).

    Attributes:
        path: the database file (``pathlib.Path``).
        store: the ``RunStore``.
        written: runs written by this handler in this process.
        errors: failed writes (each logged as a warning).
    """

    options_model = RunLogOptions
    #: Called inline in async runs too: recording is cheap (the writes happen on the
    #: writer thread), and the hooks' and callbacks' records then meet in order.
    run_inline = True

    def __init__(self, path: Optional[str] = None) -> None:
        self.store = RunStore(path if path is not None else default_path())
        self.path = self.store.path
        self.written = self.errors = 0
        self._lock = threading.Lock()
        self._open: dict[UUID, tuple[dict[str, Any], _Tree]] = {}  # run id -> (record, its tree)
        self._calls: dict[UUID, dict[str, Any]] = {}  # chat run id -> what the hooks saw
        self._queue: deque = deque()
        self._wake = threading.Condition(self._lock)
        self._pending = 0  # trees queued or being written
        self._flushing = 0  # flush() calls waiting
        self._writer_pid: Optional[int] = None
        atexit.register(_flush_at_exit, weakref.ref(self))

    def __repr__(self) -> str:
        return f"RunLogHandler(path={str(self.path)!r})"

    # -- run records -------------------------------------------------------- #
    def _start(self, run_id: UUID, parent_run_id: Optional[UUID], run_type: str, name: Optional[str], inputs: Any,
               tags: Optional[list[str]], metadata: Optional[dict[str, Any]], **extra: Any) -> None:
        record = {
            "id": str(run_id), "parent_id": str(parent_run_id) if parent_run_id else None, "name": name,
            "run_type": run_type, "start_time": time.time(), "inputs": _Later(inputs),
            "tags": _Later(tags) if tags else None, "metadata": _Later(metadata) if metadata else None, **extra,
        }
        with self._lock:
            parent = self._open.get(parent_run_id) if parent_run_id else None
            if parent is None:  # a root (or a child whose parent this handler never saw)
                tree, record["root_id"] = _Tree(), record["id"]
            else:
                tree, record["root_id"] = parent[1], parent[0]["root_id"]
            tree.runs.append(record)
            self._open[run_id] = (record, tree)

    def _end(self, run_id: UUID, **fields: Any) -> None:
        end = time.time()
        with self._lock:
            found = self._open.pop(run_id, None)
            if found is None:
                return
            record, tree = found
            call = self._calls.pop(run_id, None)
            record.update(fields, end_time=end)
            if record["run_type"] in ("chat_model", "llm") and not record.get("model"):
                # the model named in the call's params, else in its answer, else the run's name
                record["model"] = record.pop("response_model", None) or record["name"]
            if record["run_type"] == "chat_model":
                _chat_fields(record, call, tree)
            if record["root_id"] != record["id"]:
                return
            for other in tree.runs:  # runs still open when their root ended (an abandoned stream)
                if other.get("end_time") is None:
                    self._open.pop(UUID(other["id"]), None)
            self._queue.append(tree)
            self._pending += 1
            self._ensure_writer()
            if len(self._queue) in (1, _BATCH):  # wake the writer: a first tree to wait for, or a full batch
                self._wake.notify_all()

    def _error(self, error: BaseException, run_id: UUID) -> None:
        self._end(run_id, error=f"{type(error).__name__}: {error}")

    # -- callback events ---------------------------------------------------- #
    def on_chain_start(self, serialized: Optional[dict[str, Any]], inputs: Any, *, run_id: UUID,
                       parent_run_id: Optional[UUID] = None, tags: Optional[list[str]] = None,
                       metadata: Optional[dict[str, Any]] = None, **kwargs: Any) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name")
        self._start(run_id, parent_run_id, kwargs.get("run_type") or "chain", name, inputs, tags, metadata)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, outputs=_Later(outputs))

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._error(error, run_id)

    def on_chat_model_start(self, serialized: Optional[dict[str, Any]], messages: list[list[Any]], *, run_id: UUID,
                            parent_run_id: Optional[UUID] = None, tags: Optional[list[str]] = None,
                            metadata: Optional[dict[str, Any]] = None, **kwargs: Any) -> None:
        from hookchain import model_hooks

        params = kwargs.get("invocation_params")
        name = kwargs.get("name") or (serialized or {}).get("name")
        # With another plugin's chat-model hooks on, these messages may be the unmasked ones: keep them
        # only until this handler's own hooks report what the model saw (else nothing is stored).
        hooks = model_hooks.active
        self._start(run_id, parent_run_id, "chat_model", name,
                    None if hooks else {"messages": messages}, tags, metadata,
                    params=_Later(params), model=_model_name(params, metadata),
                    prompt=None if hooks else "\n\n".join(_messages_text(m) for m in messages))

    def on_llm_start(self, serialized: Optional[dict[str, Any]], prompts: list[str], *, run_id: UUID,
                     parent_run_id: Optional[UUID] = None, tags: Optional[list[str]] = None,
                     metadata: Optional[dict[str, Any]] = None, **kwargs: Any) -> None:
        params = kwargs.get("invocation_params")
        name = kwargs.get("name") or (serialized or {}).get("name")
        self._start(run_id, parent_run_id, "llm", name, {"prompts": prompts}, tags, metadata,
                    params=_Later(params), model=_model_name(params, metadata), prompt="\n\n".join(prompts))

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        inp, out, total = _usage(response)
        hooked = run_id in self._calls  # the hooks recorded the answer (before any plugin changed it)
        self._end(run_id, response_model=_response_model(response), input_tokens=inp, output_tokens=out, total_tokens=total,
                  outputs=None if hooked else _Later({"generations": response.generations, "llm_output": response.llm_output}),
                  response=None if hooked else _response_text(response))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._error(error, run_id)

    def on_tool_start(self, serialized: Optional[dict[str, Any]], input_str: str, *, run_id: UUID,
                      parent_run_id: Optional[UUID] = None, tags: Optional[list[str]] = None,
                      metadata: Optional[dict[str, Any]] = None, **kwargs: Any) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name")
        inputs = kwargs.get("inputs")
        self._start(run_id, parent_run_id, "tool", name, inputs if inputs is not None else input_str, tags, metadata)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, outputs=_Later(output))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._error(error, run_id)

    def on_retriever_start(self, serialized: Optional[dict[str, Any]], query: str, *, run_id: UUID,
                           parent_run_id: Optional[UUID] = None, tags: Optional[list[str]] = None,
                           metadata: Optional[dict[str, Any]] = None, **kwargs: Any) -> None:
        name = kwargs.get("name") or (serialized or {}).get("name")
        self._start(run_id, parent_run_id, "retriever", name, {"query": query}, tags, metadata)

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, outputs=_Later(documents))

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._error(error, run_id)

    # -- the chat-model hooks (active when the handler is enabled) ------------ #
    def _call_state(self, call: Any) -> dict[str, Any]:
        state = call.state.get("hookchain_runlog")
        if state is None:
            state = call.state["hookchain_runlog"] = {"chunks": []}
        return state

    @hookchain.hookimpl(tryfirst=True)
    def chat_model_chunk(self, call: Any, chunk: Any) -> None:
        self._call_state(call)["chunks"].append(chunk.text)

    @hookchain.hookimpl(tryfirst=True)
    def chat_model_end(self, call: Any, result: Any) -> None:
        state = self._call_state(call)
        if call.streaming:
            response = "".join(state["chunks"])
        else:
            response = "\n".join(g.text for g in result.generations)
        self._saw(call, response, to_json({"generations": result.generations, "llm_output": result.llm_output}))

    @hookchain.hookimpl
    def chat_model_error(self, call: Any, error: BaseException) -> None:
        self._saw(call, "".join(self._call_state(call)["chunks"]) or None, None)

    def _saw(self, call: Any, response: Optional[str], outputs: Optional[str]) -> None:
        replace = {secret: HIDDEN for secret in _model_secrets(call.model)}
        for key, value in call.state.items():
            if isinstance(key, str) and key.startswith(_REDACT_STATE) and isinstance(value, dict):
                replace.update({original: placeholder for placeholder, original in (value.get("mapping") or {}).items()})
        seen = {"inputs": to_json({"messages": [call.messages]}), "prompt": _messages_text(call.messages),
                "response": response, "outputs": outputs, "replace": replace}
        with self._lock:
            self._calls[call.run_id] = seen
            if len(self._calls) > _MAX_CALLS:  # calls of runs this handler never saw end: forget the oldest
                del self._calls[next(iter(self._calls))]

    # -- the writer ----------------------------------------------------------- #
    def _ensure_writer(self) -> None:  # with self._lock held
        if self._writer_pid != os.getpid():  # first tree, or a forked child (threads do not survive fork)
            self._writer_pid = os.getpid()
            threading.Thread(target=self._write_loop, name="hookchain-runlog-writer", daemon=True).start()

    def _write_loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue:
                    self._wake.wait()
                # linger a little: trees ending meanwhile share the transaction (and the wake-up)
                deadline = time.monotonic() + _LINGER
                while len(self._queue) < _BATCH and not self._flushing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._wake.wait(remaining)
                trees = [self._queue.popleft() for _ in range(min(_BATCH, len(self._queue)))]
            try:
                items = [summarise(t) for t in trees]  # before the transaction: other processes wait less
                self.written += self.store.write(items)
            except Exception as e:  # noqa: BLE001 - sqlite3.Error, RunLogError, OSError: never the run's problem
                self.errors += 1
                logger.warning("hookchain-runlog: writing %d run tree(s) to %s failed; they are not logged: %r",
                               len(trees), self.path, e)
            with self._lock:
                self._pending -= len(trees)
                self._wake.notify_all()

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until every ended run tree is written (or failed to be);
        ``timeout`` in seconds (``None``: no limit). Returns whether all were."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._flushing += 1
            self._wake.notify_all()  # the writer stops lingering
            try:
                while self._pending and self._writer_pid == os.getpid():
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._wake.wait(remaining)
                return True
            finally:
                self._flushing -= 1


def _flush_at_exit(ref: "weakref.ref[RunLogHandler]") -> None:
    handler = ref()
    if handler is not None and not handler.flush(10.0):
        logger.warning("hookchain-runlog: run trees still unwritten to %s at exit after 10 s; they are lost", handler.path)


def _chat_fields(record: dict[str, Any], call: Optional[dict[str, Any]], tree: _Tree) -> None:
    """Put what the hooks saw of a chat model call into its record (the hook's
    messages replace the callback's, which may predate masking)."""
    if call is None:
        if record["prompt"] is None:  # hooks were on, but not this handler's: withhold the answer too
            record["outputs"] = record["response"] = None
        return
    tree.replace.update(call["replace"])
    record["inputs"], record["prompt"] = call["inputs"], call["prompt"]
    if call["response"] is not None:
        record["response"] = call["response"]
    if call["outputs"] is not None:
        record["outputs"] = call["outputs"]


def summarise(tree: _Tree) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``(runs, trace)`` to store for a finished tree: texts with the tree's
    replacements applied (longest original first), and the trace's summary."""
    runs = tree.runs
    for run in runs:
        for column, value in run.items():
            if isinstance(value, _Later):
                run[column] = to_json(value.value)
    if tree.replace:
        pairs = sorted(tree.replace.items(), key=lambda p: -len(p[0]))
        pairs += [(json.dumps(o, ensure_ascii=False)[1:-1], r) for o, r in pairs]  # as it appears inside JSON text
        pairs = [(o, r) for o, r in pairs if o]
        for run in runs:
            for column in _TEXT_COLUMNS:
                text = run.get(column)
                if text:
                    for original, replacement in pairs:
                        if original in text:
                            text = text.replace(original, replacement)
                    run[column] = text
    root = runs[0]
    models = [r for r in runs if r["run_type"] in ("chat_model", "llm")]
    tokens = [sum(r.get(c) or 0 for r in models) if any(r.get(c) is not None for r in models) else None
              for c in ("input_tokens", "output_tokens", "total_tokens")]
    preview = next((r["prompt"] for r in models if r.get("prompt")), None) or root.get("inputs") or ""
    trace = {
        "root_id": root["id"], "name": root.get("name"), "start_time": root["start_time"], "end_time": root.get("end_time"),
        "model": next((r["model"] for r in models if r.get("model")), None),
        "input_tokens": tokens[0], "output_tokens": tokens[1], "total_tokens": tokens[2],
        "error": root.get("error"), "preview": _preview(preview), "runs": len(runs),
    }
    return [{c: r.get(c) for c in RUN_COLUMNS} for r in runs], trace


def _preview(text: str, size: int = 120) -> str:
    """The last message's text of a prompt (``role: text`` lines), on one line, cut to ``size``."""
    last = text.rsplit("\nhuman: ", 1)[-1] if "\nhuman: " in text else text
    if last.startswith(("human: ", "system: ", "ai: ")):
        last = last.split(": ", 1)[1]
    last = " ".join(last.split())
    return last if len(last) <= size else last[: size - 1] + "…"
