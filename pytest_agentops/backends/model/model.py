"""``FakeModel``: a scripted model speaking OpenAI Chat and Responses, Anthropic Messages and Gemini.

In a test (the ``fake_llm`` fixture) it is mounted on the tap at ``base_url``, so the official
SDKs reach it in-process with no socket, and every call is a ``fake_model`` event of the run
trace. ``serve()`` also puts it on a loopback port for subprocesses. Outside pytest, use
``serve()`` or ``with fake.intercept():``. See docs/fake-model.md.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pytest_agentops.backends.model import bedrock as _bedrock
from pytest_agentops.backends.model import gemini as _gemini
from pytest_agentops.backends.model import tokens as _tokens
from pytest_agentops.backends.model import wire
from pytest_agentops.backends.model.answers import Answers
from pytest_agentops.backends.model.answers import Mode as Mode
from pytest_agentops.backends.model.answers import Responder as Responder
from pytest_agentops.backends.model.answers import Variation as Variation
from pytest_agentops.backends.model.conversation import normalise
from pytest_agentops.backends.model.types import (
    Conversation,
    FakeError,
    FakeRequest,
    Message,
    Provider,
    Reply,
    ToolCall,
)

if TYPE_CHECKING:
    from pytest_agentops.backends.model.server import LoopbackServer
    from pytest_agentops.tap.routing import LiveRequest, Tap
    from pytest_agentops.trace.run import Run

OPENAI_HOST = "https://api.openai.com"
ANTHROPIC_HOST = "https://api.anthropic.com"
FAKE_OPENAI_KEY = "sk-agentops-fake-llm"
FAKE_ANTHROPIC_KEY = "sk-ant-agentops-fake-llm"
GEMINI_HOST = _gemini.HOST
FAKE_GEMINI_KEY = "agentops-fake-llm-gemini"


class FakeModel(Answers):
    """A deterministic model API for tests. ``fake_llm`` in pytest; ``FakeModel()`` anywhere else.

    Each request is answered by the first of these that gives an answer:

    1. a seeded failure (``vary(fail_rate=...)`` / ``script(..., fail_rate=...)``);
    2. the mode: ``gullible()`` obeys instructions planted in user content and tool results;
       ``adversarial()`` proposes tool calls drawn from the offered tools' schemas;
    3. the ``respond(fn)`` function (returning None passes to the script);
    4. the next turn of the ``script([...])``: exhausted, the answer is an HTTP 500 and the test fails;
    5. with nothing scripted, the text ``"Done."``.

    A ``vary(hook=...)`` hook may then replace the answer.
    """

    DEFAULT_BASE_URL = "https://fake-llm.agentops.local"

    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, run: Run | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.requests: list[FakeRequest] = []
        self.script_errors: list[BaseException] = []  # exceptions a respond() script raised on loopback
        self.loopback_url: str | None = None
        self.always_usage = False  # a usage chunk ends every Chat Completions stream, asked for or not
        self._run = run
        self._tap: Tap | None = None
        self._bare_tap: Tap | None = None  # writes loopback calls on ``run`` when no tap is attached
        self._server: LoopbackServer | None = None
        self._lock = threading.RLock()
        super().__init__()
        self._history: dict[str, list[Message]] = {}  # Responses: response id -> conversation after it
        self._default_hosts: list[str] = []
        self._saved_env: dict[str, str | None] = {}

    # ---- building turns ------------------------------------------------------------------------

    @staticmethod
    def tool_call(
        name: str, arguments: Mapping[str, Any] | None = None, /, *, call_id: str | None = None, **kwargs: Any
    ) -> ToolCall:
        """A tool call turn: ``tool_call("search", {"q": "x"})`` or ``tool_call("search", q="x")``.

        ``call_id`` fixes the call's id (default: ``call_fake<request>x<position>``, ``toolu_...``
        for Anthropic). An argument named ``call_id`` must go in the dict.
        """
        return ToolCall(name, {**(arguments or {}), **kwargs}, call_id)

    @staticmethod
    def tool_calls(*calls: ToolCall) -> list[ToolCall]:
        """Several tool calls in one turn (parallel tool calls)."""
        return list(calls)

    @staticmethod
    def reply(
        text: str | None = None,
        tool_calls: Iterable[ToolCall] = (),
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
    ) -> Reply:
        """A turn with text and/or tool calls, optionally overriding its token counts."""
        return Reply(text, list(tool_calls), input_tokens, output_tokens)

    @staticmethod
    def error(
        status: int = 500,
        message: str | None = None,
        *,
        type: str | None = None,
        retry: bool = True,
        retry_after: float = 0.01,
    ) -> FakeError:
        """An error turn: ``status`` with the provider's error body (see ``FakeError``)."""
        return FakeError(status, message, type, retry, retry_after)

    @staticmethod
    def count_tokens(text: str) -> int:
        """The fake's tokenizer: words and single punctuation characters (see ``fakes.tokens``)."""
        return _tokens.count_tokens(text)

    # ---- configuring answers (the script, modes and vary() are in Answers) ---------------------

    def always_include_usage(self, on: bool = True) -> FakeModel:
        """End every streamed Chat Completions answer with a usage chunk, as if the client had set
        ``stream_options.include_usage`` (llama-index never does; openai-agents' Chat model and
        ``ChatOpenAI`` do only against api.openai.com), so token and cost budgets have figures."""
        self.always_usage = on
        return self

    # ---- what happened -------------------------------------------------------------------------

    @property
    def last_request(self) -> FakeRequest:
        if not self.requests:
            raise AssertionError("the fake model has not been called")
        return self.requests[-1]

    # ---- where it is served --------------------------------------------------------------------

    @property
    def openai_base_url(self) -> str:
        """``base_url`` for ``openai.OpenAI(base_url=...)`` (the SDK adds ``/chat/completions``)."""
        return self.base_url + "/v1"

    @property
    def gemini_base_url(self) -> str:
        """``base_url`` for ``genai.Client(http_options={"base_url": ...})`` (the SDK adds ``/v1beta/...``)."""
        return self.base_url

    @property
    def bedrock_base_url(self) -> str:
        """``endpoint_url`` for ``boto3.client("bedrock-runtime", endpoint_url=...)`` (Converse)."""
        return self.base_url

    @property
    def anthropic_base_url(self) -> str:
        """``base_url`` for ``anthropic.Anthropic(base_url=...)`` (the SDK adds ``/v1/messages``)."""
        return self.base_url

    def attach(self, tap: Tap) -> FakeModel:
        """Serve ``base_url`` (and the loopback and default hosts, when used) in-process on ``tap``."""
        self._tap = tap
        if self._run is None:
            self._run = tap.run
        for url in (self.base_url, self.loopback_url, *self._default_hosts):
            if url:
                self._mount(url)
        return self

    def _mount(self, url: str) -> None:
        if self._tap is not None:
            self._tap.mount(url, self._tap_handler, backend="fake_model")

    def serve_default_hosts(
        self, *, openai: bool = True, anthropic: bool = True, gemini: bool = True, set_api_keys: bool = True
    ) -> FakeModel:
        """Also answer for ``https://api.openai.com``, ``https://api.anthropic.com`` and
        ``https://generativelanguage.googleapis.com`` (Gemini), in-process.

        Agent code that builds ``OpenAI()``/``Anthropic()``/``genai.Client()`` with default base URLs
        then reaches the fake unchanged (ahead of any cassette). ``set_api_keys`` sets
        ``OPENAI_API_KEY``/``ANTHROPIC_API_KEY``/``GEMINI_API_KEY`` to dummy values while unset (for
        Gemini: while ``GOOGLE_API_KEY`` is unset too), until ``close()``. Needs the tap: the
        ``fake_llm`` fixture or ``with fake.intercept():``.
        """
        hosts = [h for h, on in ((OPENAI_HOST, openai), (ANTHROPIC_HOST, anthropic), (GEMINI_HOST, gemini)) if on]
        for host in hosts:
            if host not in self._default_hosts:
                self._default_hosts.append(host)
                self._mount(host)
        if set_api_keys:
            keys = {"OPENAI_API_KEY": FAKE_OPENAI_KEY} if openai else {}
            keys.update({"ANTHROPIC_API_KEY": FAKE_ANTHROPIC_KEY} if anthropic else {})
            if gemini and not os.environ.get("GOOGLE_API_KEY"):
                keys["GEMINI_API_KEY"] = FAKE_GEMINI_KEY
            for name, value in keys.items():
                if not os.environ.get(name):
                    self._saved_env.setdefault(name, os.environ.get(name))
                    os.environ[name] = value
        return self

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> FakeModel:
        """Listen on a real loopback port too (``loopback_url``), e.g. for a subprocess agent.

        Requests it serves there are recorded in ``requests`` and, in a test, in the run trace.
        In-process clients pointed at ``loopback_url`` are served in-process like the rest.
        """
        if self._server is None:
            from pytest_agentops.backends.model.server import LoopbackServer

            self._server = LoopbackServer(self._serve_loopback, host, port)
            self.loopback_url = self._server.base_url
            self._mount(self.loopback_url)
        return self

    def env(self) -> dict[str, str]:
        """Environment for a subprocess agent: OpenAI/Anthropic base URLs and keys for ``loopback_url``."""
        self.serve()
        assert self.loopback_url is not None
        return {
            "OPENAI_BASE_URL": self.loopback_url + "/v1",
            "OPENAI_API_KEY": FAKE_OPENAI_KEY,
            "ANTHROPIC_BASE_URL": self.loopback_url,
            "ANTHROPIC_API_KEY": FAKE_ANTHROPIC_KEY,
            "GOOGLE_GEMINI_BASE_URL": self.loopback_url,
            "GEMINI_API_KEY": FAKE_GEMINI_KEY,
        }

    @contextlib.contextmanager
    def intercept(self) -> Iterator[Run]:
        """Outside pytest: serve ``base_url`` (and default hosts) in-process for every HTTP client.

        Other requests go to the network as usual. Yields the run trace of what passed.
        """
        from pytest_agentops.cassette.format import Cassette
        from pytest_agentops.cassette.redact import Redactor
        from pytest_agentops.tap.opener import intercept
        from pytest_agentops.tap.routing import Tap
        from pytest_agentops.trace.run import Run

        run = self._run if self._run is not None else Run("fake-model")
        previous_tap, previous_run = self._tap, self._run
        tap = Tap(run, Cassette(_NO_CASSETTE), "new", Redactor())
        self._run = run
        self.attach(tap)
        try:
            with intercept(tap):
                yield run
        finally:
            self._tap, self._run = previous_tap, previous_run

    def close(self) -> None:
        """Stop the loopback server and restore API-key variables set by ``serve_default_hosts``."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def __enter__(self) -> FakeModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f" loopback={self.loopback_url}" if self.loopback_url else ""
        return f"<FakeModel {self.base_url}{where} mode={self._mode} requests={len(self.requests)}>"

    # ---- serving -------------------------------------------------------------------------------

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request: (status, headers, body). Any transport can call this."""
        status, reply_headers, chunks = self._serve(method, url, headers, body, "in-process")
        return status, reply_headers, b"".join(chunks)

    def _tap_handler(self, live: LiveRequest) -> tuple[int, dict[str, str], bytes]:
        return self.handle(live.method, live.url, live.headers, live.body)

    def _serve_loopback(self, method: str, url: str, headers: dict[str, str], body: bytes) -> wire.Rendered:
        """A request on the port takes the in-process path: the tap's gates, this fake, one event.

        The event is written (by the tap) before the answer goes out; streams still go out one
        write per SSE event.
        """
        from pytest_agentops.tap import loopback

        tap = self._loopback_tap()
        if tap is None:  # no test and no run: only serve
            return self._render_loopback(method, url, headers, body)
        live = loopback.live_request(method, url, headers, body)
        denied = loopback.admit(tap, live)
        if denied is not None:
            assert denied.reply is not None
            status, reply_headers, data = loopback.answer_of(denied.reply)
            return status, reply_headers, [data]
        status, reply_headers, chunks = self._render_loopback(method, url, headers, body)
        loopback.served(tap, live, "fake_model", status, reply_headers, b"".join(chunks))
        return status, reply_headers, chunks

    def _loopback_tap(self) -> Tap | None:
        """The tap this fake is attached to; else the active one writing its run; else a bare tap on it."""
        if self._tap is not None:
            return self._tap
        if self._run is None:
            return None
        from pytest_agentops.tap.current import active_tap

        active = active_tap()
        if active is not None and active.run is self._run:  # a fuzz episode's fake: the episode's gates
            return active
        if self._bare_tap is None or self._bare_tap.run is not self._run:
            from pytest_agentops.cassette.format import Cassette
            from pytest_agentops.cassette.redact import Redactor
            from pytest_agentops.tap.routing import Tap

            self._bare_tap = Tap(self._run, Cassette(_NO_CASSETTE), "new", Redactor())
        return self._bare_tap

    def _render_loopback(self, method: str, url: str, headers: dict[str, str], body: bytes) -> wire.Rendered:
        try:
            return self._serve(method, url, headers, body, "loopback")
        except Exception as exc:  # a script's bug: answer 500 naming it, never a dropped connection
            from pytest_agentops.trace.providers import _detect_builtin

            failure = FakeError(500, f"fake model: the script raised {type(exc).__name__}: {exc}", retry=False)
            self.script_errors.append(exc)
            return _error(_detect_builtin(method.upper(), url), failure, "req_fake_error")

    def _serve(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, served: Literal["in-process", "loopback"]
    ) -> wire.Rendered:
        from pytest_agentops.trace.providers import (
            _detect_builtin,  # the fake speaks the built-in formats, not plugins' ones
        )

        method = method.upper()
        path = urlsplit(url).path.rstrip("/")
        provider: Provider | None = _detect_builtin(method, url)  # type: ignore[assignment]
        if provider not in _SPOKEN:
            provider = None  # a format the tap reads that the fake does not speak
        request_id = f"req_fake{len(self.requests):04d}"
        count_only = method == "POST" and path.endswith("/messages/count_tokens")
        if provider is None and not count_only:
            return wire.error(None, FakeError(404, f"fake model: no route {method} {path}", retry=False), request_id)
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            failure = FakeError(400, "fake model: the request body is not a JSON object", retry=False)
            with self._lock:
                self.requests.append(
                    FakeRequest(len(self.requests), method, url, None, failure, "invalid", 400, served=served)
                )
            return _error(provider, failure, request_id)
        if count_only:
            return wire.count_tokens_reply(_tokens.input_tokens(normalise("anthropic.messages", parsed)))
        assert provider is not None
        with self._lock:
            return self._answer(provider, method, url, parsed, request_id, served)

    def _answer(
        self,
        provider: Provider,
        method: str,
        url: str,
        parsed: dict[str, Any],
        request_id: str,
        served: Literal["in-process", "loopback"],
    ) -> wire.Rendered:
        """Called under the lock, so a request's index, the script's position and the Responses
        history move together when calls arrive from several threads."""
        index = len(self.requests)
        previous = parsed.get("previous_response_id") if provider == "openai.responses" else None
        history = self._history.get(previous) if isinstance(previous, str) else None
        if isinstance(previous, str) and history is None:
            failure = FakeError(400, f"fake model: previous response {previous!r} not found", retry=False)
            self.requests.append(FakeRequest(index, method, url, None, failure, "invalid", 400, served=served))
            return wire.error(provider, failure, request_id)
        conversation = _conversation(provider, url, parsed, history)
        conversation.index = index
        turn, source = self._choose(conversation, method, url)
        if isinstance(turn, FakeError):
            self.requests.append(
                FakeRequest(index, method, url, conversation, turn, source, turn.status, served=served)
            )
            return _error(provider, turn, request_id)
        turn = _shaped(turn)
        usage = _tokens.usage(conversation, turn)
        status, reply_headers, chunks = self._render(provider, url, conversation, turn, usage)
        reply_headers["x-request-id"] = request_id
        if provider == "openai.responses":
            self._remember(conversation, turn)
        self.requests.append(
            FakeRequest(index, method, url, conversation, turn, source, status, usage[0], usage[1], served)
        )
        return status, reply_headers, chunks

    def _render(
        self, provider: Provider, url: str, conversation: Conversation, turn: Reply, usage: tuple[int, int]
    ) -> wire.Rendered:
        if provider == _gemini.PROVIDER:
            return _gemini.render(conversation, turn, usage, sse=_gemini.wants_sse(url))
        if provider == _bedrock.PROVIDER:
            return _bedrock.render(conversation, turn, usage)
        render: dict[str, Callable[[Any, Any, tuple[int, int]], wire.Rendered]] = {
            "openai.chat": functools.partial(wire.chat, always_usage=self.always_usage),
            "openai.responses": wire.responses,
            "anthropic.messages": wire.anthropic,
        }
        return render[provider](conversation, turn, usage)

    def _remember(self, conversation: Conversation, reply: Reply) -> None:
        messages = list(conversation.messages)
        if isinstance(conversation.body.get("instructions"), str) and conversation.body["instructions"]:
            messages = messages[1:]  # instructions are not carried over to the next response
        calls = [
            ToolCall(call.name, call.arguments, wire.call_id("call", conversation.index, k, call))
            for k, call in enumerate(reply.tool_calls)
        ]
        messages.append(Message("assistant", reply.text or "", tool_calls=calls))
        self._history[wire.response_id(conversation)] = messages


_NO_CASSETTE = Path("<fake model: no cassette>")
_RENDER = {"openai.chat": wire.chat, "openai.responses": wire.responses, "anthropic.messages": wire.anthropic}
_SPOKEN = frozenset({*_RENDER, _gemini.PROVIDER, _bedrock.PROVIDER})


def _conversation(provider: Provider, url: str, parsed: dict[str, Any], history: list[Message] | None) -> Conversation:
    if provider == _gemini.PROVIDER:
        return _gemini.normalise(url, parsed)
    if provider == _bedrock.PROVIDER:
        return _bedrock.normalise(url, parsed)
    return normalise(provider, parsed, history)


def _error(provider: str | None, failure: FakeError, request_id: str) -> wire.Rendered:
    if provider == _gemini.PROVIDER:
        return _gemini.error(failure, request_id)
    if provider == _bedrock.PROVIDER:
        return _bedrock.error(failure, request_id)
    return wire.error(provider, failure, request_id)


def _shaped(reply: Reply) -> Reply:
    """Text only where a real model sends it: none beside tool calls unless given, "" when empty."""
    text = reply.text if reply.text or not reply.tool_calls else None
    if text is None and not reply.tool_calls:
        text = ""
    if text == reply.text:
        return reply
    return Reply(text, list(reply.tool_calls), reply.input_tokens, reply.output_tokens)
