"""A handler that prints to stdout: streamed tokens (seed 000's
``MyCustomHandler``) and, with ``runs=True``, the run lines of seed 003's
``LoggingHandler``.

In Python it prints to ``sys.stdout`` (looked up at each write, so redirection
works), as LangChain's ``StdOutCallbackHandler`` does. Under ``hookchain run``
that is stderr: the command's stdout carries only the answer."""

import sys
from typing import Any, Dict, List, Optional, TextIO
from uuid import UUID

from hookchain.callbacks import BaseCallbackHandler
from hookchain.messages import BaseMessage
from hookchain.outputs import LLMResult
from pydantic import BaseModel, ConfigDict


class StdOutOptions(BaseModel):
    """Options of the ``stdout`` handler."""

    model_config = ConfigDict(extra="forbid")

    tokens: bool = True
    """Print each streamed token as it arrives (no separator), newline at the end."""
    runs: bool = False
    """Print 'Chain X started', 'Chat model started', '... ended' lines."""
    token_format: str = "{token}"
    """How a token is printed; ``{token}`` is replaced (e.g. "token: {token}\\n")."""


class StdOutHandler(BaseCallbackHandler):
    """Prints streamed tokens and, optionally, run start/end lines to stdout."""

    options_model = StdOutOptions

    def __init__(self, tokens: bool = True, runs: bool = False, token_format: str = "{token}",
                 file: Optional[TextIO] = None) -> None:
        self.tokens, self.runs, self.token_format = tokens, runs, token_format
        self._file = file
        self._streamed: set = set()

    @property
    def file(self) -> TextIO:
        return self._file or sys.stdout

    def _line(self, text: str, run_id: Optional[UUID] = None) -> None:
        # After streamed tokens the cursor is mid-line: start a new one.
        if run_id is not None and run_id in self._streamed:
            self._streamed.discard(run_id)
            text = "\n" + text
        print(text, file=self.file, flush=True)

    def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        if self.tokens:
            self._streamed.add(run_id)
            self.file.write(self.token_format.replace("{token}", token))
            self.file.flush()

    def on_chat_model_start(self, serialized: Dict[str, Any], messages: List[List[BaseMessage]], **kwargs: Any) -> None:
        if self.runs:
            self._line("Chat model started")

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        if self.runs:
            self._line(f"Chat model ended, response: {response}", run_id)
        elif self.tokens and run_id in self._streamed:
            print(file=self.file, flush=True)  # end the line of tokens (one newline)
        self._streamed.discard(run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        if self.runs:
            self._line(f"Chat model failed: {error!r}", run_id)
        self._streamed.discard(run_id)

    def on_chain_start(self, serialized: Dict[str, Any], inputs: Any, **kwargs: Any) -> None:
        if self.runs:
            self._line(f"Chain {kwargs.get('name') or (serialized or {}).get('name')} started")

    def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        if self.runs:
            self._line(f"Chain ended, outputs: {outputs}")

    def on_chain_error(self, error: BaseException, **kwargs: Any) -> None:
        if self.runs:
            self._line(f"Chain failed: {error!r}")
