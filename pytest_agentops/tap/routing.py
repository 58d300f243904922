"""The current test's ``Tap``: it asks the gates, then serves each request from one backend.

A local backend (simulator, fake model, MCP server), the cassette, or the network, recording the
answer; every request leaves one event on the run. Apart from the package's ``__init__`` so that a
session whose tests make no request never imports the cassette, redaction and provider code.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlsplit

from pytest_agentops.cassette import body as bodies
from pytest_agentops.cassette.format import Cassette, Interaction, compact_headers, store_request_body
from pytest_agentops.cassette.matching import body_value, explain, request_key
from pytest_agentops.cassette.record import to_interaction
from pytest_agentops.cassette.redact import Redactor
from pytest_agentops.tap.episode import TapEpisode
from pytest_agentops.tap.telemetry import DEFAULT as DEFAULT_TELEMETRY
from pytest_agentops.tap.telemetry import Telemetry
from pytest_agentops.trace import providers
from pytest_agentops.trace.replies import no_retry
from pytest_agentops.trace.run import Backend, Event, EventKind, Miss, Run, Verdict
from pytest_agentops.trace.warning import AgentopsWarning

if TYPE_CHECKING:
    from pytest_agentops.cassette.layered import Layered

RecordMode = Literal["none", "new", "all"]

# A local backend answers a request in-process: (status, headers, body) or None to decline.
Reply = tuple[int, Mapping[str, str], bytes]
LocalHandler = Callable[["LiveRequest"], "Reply | None"]
Gate = Callable[["LiveRequest"], "Reply | None"]

_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding", "connection"})
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

MISS_STATUS = 404
_UNPARSED: Any = object()


@dataclass(slots=True)
class LiveRequest:
    """A request as the tap sees it, computed once per request."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    started: float = field(default_factory=time.perf_counter)
    started_at: float = field(default_factory=time.time)
    value: Any = None  # parsed, redacted body used for matching
    match_url: str = ""  # redacted URL (and, with a redact hook, the hook's edits) used for matching
    match_value: Any = None  # ``value`` after the redact hook's edits
    key: str = ""
    kind: str = "tool"
    owner: str = ""  # another recorder (pytest-recording's vcr) serves it: pass it through untouched
    gated: bool = False  # the gates have been asked (by the first layer that saw the request)
    done: bool = False  # its one event is written
    verdict: Verdict | None = None  # the gate's, carried to the one place that writes the event
    mcp: Any = None  # the MCP message it carries (pytest_agentops.mcp.gate.message_of), parsed once
    _json: Any = field(default=_UNPARSED, init=False, repr=False)

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object (as sent, not redacted), parsed once; None when it is not one."""
        if self._json is _UNPARSED:
            try:
                value = json.loads(self.body.decode("utf-8")) if self.body else None
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                value = None
            self._json = value if isinstance(value, dict) else None
        return self._json  # type: ignore[no-any-return]

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}".lower()  # no userinfo: it is a secret

    @property
    def is_loopback(self) -> bool:
        host = (urlsplit(self.url).hostname or "").lower()
        return host in _LOOPBACK_HOSTS or host.startswith("127.")


@dataclass(slots=True)
class Decision:
    live: LiveRequest
    backend: Backend
    reply: dict[str, Any] | None = None  # the vcr-shaped response to play, when served locally
    record: bool = False
    traced: bool = True  # False: not governed (or another recorder's), the tap leaves it alone


def _vcr_headers(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if headers is None:
        return out
    if hasattr(headers, "lower_items"):  # vcr's HeadersDict: its items() looks every name up again
        items = headers.lower_items()
    else:
        items = headers.items() if hasattr(headers, "items") else headers
    for name, value in items:
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        out[str(name).lower()] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return out


def _raw_body(request: Any) -> bytes:
    try:
        raw = request.body_bytes if hasattr(type(request), "body_bytes") else request.body
    except TypeError:  # vcr's body_bytes joins a list body, which fails for aiohttp's json=[...]
        raw = request.body
    return _as_bytes(raw)


def _as_bytes(raw: Any) -> bytes:
    """A request body as bytes. vcr's aiohttp stub hands over ``json=``/``data=`` objects unencoded."""
    from urllib.parse import urlencode

    if raw is None:
        return b""
    if isinstance(raw, str):
        return raw.encode("utf-8")
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    if hasattr(raw, "read"):
        return _as_bytes(raw.read())
    if isinstance(raw, dict):
        return json.dumps(raw).encode("utf-8")  # as aiohttp serialises json=
    if isinstance(raw, list | tuple):
        if raw and all(isinstance(item, bytes | bytearray) for item in raw):
            return b"".join(raw)
        if raw and all(isinstance(item, tuple) and len(item) == 2 for item in raw):
            return urlencode(raw).encode("ascii")  # aiohttp data=[(name, value), ...] is a form
        return json.dumps(raw).encode("utf-8")
    return b""  # a payload object (aiohttp FormData, ...) whose bytes are only known when sent


class Tap:
    """One test's routing: its run, cassette, gates and local backends.

    It also implements the interface vcrpy's stubs expect of a cassette (through
    ``tap.install.Dispatch``), for the clients whose boundary is a vcrpy patch.
    """

    def __init__(
        self,
        run: Run,
        cassette: Cassette | Callable[[], Cassette],
        record: RecordMode,
        redactor: Redactor,
        *,
        loopback_passthrough: bool = True,
        redact_hook: Callable[[Interaction], None] | None = None,
        in_scope: bool = True,
    ) -> None:
        self.run = run
        # A loader defers reading the file to the first governed request (most tests make none).
        self._cassette: Cassette | None = cassette if isinstance(cassette, Cassette) else None
        self._load: Callable[[], Cassette] | None = None if isinstance(cassette, Cassette) else cassette
        self.record = record
        self.redactor = redactor
        self.loopback_passthrough = loopback_passthrough
        self.redact_hook = redact_hook
        self.in_scope = in_scope  # False: only model, simulator, fake-model and registered-tool traffic
        self.local: list[tuple[str, LocalHandler, Backend]] = []  # (origin prefix, handler, backend label)
        self.gates: list[Gate] = []
        self.upstreams: dict[str, str] = {}  # origin -> staging base URL (record mode only)
        self._cassette_origins: set[str] | None = None
        # Recording never poisons a cassette: upstream 5xx answers and connection errors are not
        # saved (unless ``record_errors``); each is a line here and the test fails naming it.
        self.record_errors = False
        self.upstream_errors: list[str] = []
        # Answers a mock is still streaming: traced when read, or when the test ends (``close``).
        self.unfinished: list[Any] = []
        self._episode: TapEpisode | None = None  # the innermost ``episode`` block, if any
        self.telemetry: Telemetry = DEFAULT_TELEMETRY  # SDK uploads answered locally (tap.telemetry)
        self._mcp_sessions: Any = None  # mode new: replayed MCP sessions a new call opens live (mcp.sessions)

    @property
    def cassette(self) -> Cassette:
        if self._cassette is None:
            assert self._load is not None
            self._cassette, self._load = self._load(), None
        return self._cassette

    @cassette.setter
    def cassette(self, value: Cassette) -> None:
        self._cassette, self._load, self._cassette_origins = value, None, None

    @property
    def loaded_cassette(self) -> Cassette | None:
        """The cassette if a request (or the test) needed it; None when it was never read."""
        return self._cassette

    def close(self) -> None:
        """The test ends: trace what mocks answered but the client never finished reading."""
        while self.unfinished:
            self.unfinished.pop().done()

    @contextlib.contextmanager
    def episode(
        self,
        run: Run,
        *,
        gates: Sequence[Gate] = (),
        cassette: Cassette | Layered | None = None,
        keep: Collection[Backend] = (),
    ) -> Iterator[TapEpisode]:
        """For the block, this tap writes to ``run``, asks only ``gates``, serves what the episode
        mounts (``TapEpisode.mount``) and answers from ``cassette`` (when given) instead of the
        test's; the answers of backends in ``keep`` are kept as interactions (``.answers``). On exit,
        an exception included, the test's run, gates, mounts and cassette are back."""
        saved = (self.run, self.gates, self.local, self._episode)
        saved_cassette = (self._cassette, self._load, self._cassette_origins)
        scoped = TapEpisode(self, keep)
        self.run, self.gates, self.local, self._episode = run, list(gates), list(self.local), scoped
        if cassette is not None:  # a Layered answers the part of Cassette's interface the tap uses
            self.cassette = cast(Cassette, cassette)
        try:
            yield scoped
        finally:
            self.run, self.gates, self.local, self._episode = saved
            if cassette is not None:
                self._cassette, self._load, self._cassette_origins = saved_cassette

    # ---- registration --------------------------------------------------------------------------

    def mount(self, base_url: str, handler: LocalHandler, backend: Backend = "simulator") -> None:
        """Serve every request under ``base_url`` in-process (simulators, fake model); traced as ``backend``."""
        self.local.append((base_url.rstrip("/").lower(), handler, backend))

    def redirect(self, origin: str, staging_url: str) -> None:
        """In record mode, send requests for ``origin`` to ``staging_url``; record them as ``origin``."""
        self.upstreams[origin.rstrip("/").lower()] = staging_url.rstrip("/")

    # ---- the vcr cassette interface (through tap.install.Dispatch) -----------------------------

    def can_play_response_for(self, request: Any) -> bool:
        return self._decide(request).reply is not None

    def play_response(self, request: Any) -> dict[str, Any]:
        decision = self._decide(request)
        assert decision.reply is not None
        self.answer(decision, decision.reply)
        return decision.reply

    def append(self, request: Any, response: dict[str, Any]) -> None:
        """vcr got ``response`` from the network for ``request``: trace it, and record it if asked."""
        self.answer(self._decide(request), response)

    def answer(self, decision: Decision, response: dict[str, Any]) -> None:
        """``response`` answers ``decision``'s request: record it if asked, then write its one event."""
        if not decision.traced:
            return
        if decision.record:
            if self._is_upstream_error(response) and not self.record_errors:
                self.upstream_failed(decision.live, f"answered {_status_text(response)}")
            else:
                self.cassette.add(self._to_interaction(decision.live, response))
            decision.record = False
        if not decision.live.done:
            self._finish(decision, response)

    # ---- routing -------------------------------------------------------------------------------

    def _decide(self, request: Any) -> Decision:
        cached: Decision | None = getattr(request, "_agentops_decision", None)
        if cached is not None:
            return cached
        from pytest_agentops.tap.claim import claimed

        live = claimed(request.method.upper(), request.uri)
        if live is None:
            live = LiveRequest(
                method=request.method.upper(),
                url=request.uri,
                headers=_vcr_headers(request.headers),
                body=_raw_body(request),
            )
            live.kind = "model" if providers.detect_provider(live.method, live.url) else "tool"
        decision = self.decide(live)
        request._agentops_decision = decision
        return decision

    def decide(self, live: LiveRequest) -> Decision:
        """The one backend for ``live`` at the network boundary: gates first (once), then serve."""
        if live.owner:
            return Decision(live, "passthrough", traced=False)
        telemetry = self.telemetry_answer(live)
        if telemetry is not None:  # an SDK's own upload: answered here, never sent or recorded
            live.gated = True
            return Decision(live, "telemetry", reply=_reply(*telemetry))
        if not live.gated and not self.governs(live):
            return Decision(live, "passthrough", traced=False)
        if not live.gated:
            live.gated = True
            denied = self.gate(live)
            if denied is not None:
                return denied
        return self.serve(live)

    def governs(self, live: LiveRequest) -> bool:
        """Whether the tap answers for ``live`` (see docs/scope.md); the rest behaves as without the plugin."""
        if self.in_scope or live.kind == "model":
            return True
        from pytest_agentops.tap.scope import governed_url

        return self._handler_for(live.url) is not None or governed_url(live.method, live.url)

    def telemetry_answer(self, live: LiveRequest) -> Reply | None:
        """The local answer when ``live`` is an SDK's telemetry (``tap.telemetry``), else None."""
        if live.kind == "model":
            return None
        answer = self.telemetry.answer(live.url)
        if answer is not None:
            live.kind = "telemetry"
        return answer

    def gate(self, live: LiveRequest) -> Decision | None:
        """A denial decision from the first gate that refuses ``live``, or None."""
        if live.kind == "telemetry" or self.telemetry_answer(live) is not None:
            return None  # not the agent's work: no policy applies to it
        for gate in self.gates:
            denied = gate(live)
            if denied is not None:
                return Decision(live, "policy", reply=_reply(*denied))
        return None

    def _handler_for(self, url: str) -> tuple[LocalHandler, Backend] | None:
        url = url.lower()
        for prefix, handler, backend in self.local:
            if url.startswith(prefix) and (len(url) == len(prefix) or url[len(prefix)] in "/?#"):
                return handler, backend
        return None

    def serve(self, live: LiveRequest) -> Decision:
        url = live.url.lower()
        for prefix, handler, backend in self.local:
            if url.startswith(prefix) and (len(url) == len(prefix) or url[len(prefix)] in "/?#"):
                try:
                    served = handler(live)
                except Exception as exc:  # an injected fault (dropped connection, timeout): still a step
                    self._record_failure(live, backend, exc)
                    raise
                if served is not None:
                    return Decision(live, backend, reply=_reply(*served))
        return self._from_cassette(live)

    def _from_cassette(self, live: LiveRequest) -> Decision:
        if self.record != "all" and self.redact_hook is None:
            # Fastest path: the body is byte for byte one recorded (as httpx-based SDKs send JSON), so
            # its canonical key and parsed value are known without parsing or hashing it.
            exact = self.cassette.exact_match(live.method, live.url, live.body)
            if exact is not None:
                interaction = self.cassette.take(exact[0])
                if interaction is not None:
                    live.key, live.value = exact
                    live.match_url, live.match_value = live.url, live.value
                    if isinstance(live.value, dict):
                        live._json = live.value
                    return self._replayed(live, interaction)
        parsed = body_value(live.body, live.headers.get("content-type", ""))
        if self.record != "all" and self.redact_hook is None:
            # Fast path: a request holding no secret is its own redacted form, so try it as it is;
            # only a miss pays for the redaction walk (and a request with a secret always misses here).
            live.value = live.match_value = parsed
            live.match_url = live.url
            live.key = request_key(live.method, live.url, parsed, self.cassette.config)
            interaction = self.cassette.take(live.key)
            if interaction is not None:
                return self._replayed(live, interaction)
        live.value = self.redactor.request(parsed)
        live.match_url, live.match_value = self.redactor.url(live.url), live.value
        if self.redact_hook is not None:
            # The hook edited the recorded request; edit the live one the same way, or it never matches.
            live.match_url, live.match_value = self._hooked_request(live)
        live.key = request_key(live.method, live.match_url, live.match_value, self.cassette.config)
        if self.record != "all":
            interaction = self.cassette.take(live.key)
            if interaction is not None:
                return self._replayed(live, interaction)
        return self._unrecorded(live)

    def _replayed(self, live: LiveRequest, interaction: Interaction) -> Decision:
        """Replay ``interaction``; but while recording, an upstream error saved earlier is fetched again."""
        status = interaction["response"]["status"]
        if self.record == "none" or self.record_errors or not isinstance(status, int) or status < 500:
            reply = _replay(interaction)
            if live.mcp is not None:  # the recorded answer carries the recorded JSON-RPC id
                from pytest_agentops.mcp.gate import replayed

                reply = replayed(live, reply)
                if self.record == "new":
                    self._sessions().replayed(live, reply)
            return Decision(live, "cassette", reply=reply)
        import warnings

        for stale in [interaction, *self.cassette.pending(live.key)]:  # the client's retries of it too
            if isinstance(stale["response"]["status"], int) and stale["response"]["status"] >= 500:
                self.cassette.discard(stale)
        warnings.warn(
            AgentopsWarning(
                f"cassette {self.cassette.path} held a {status} answer for {live.method} {live.url} "
                "(an upstream error saved while recording): fetching it again"
            ),
            stacklevel=2,
        )
        return self._unrecorded(live)

    @staticmethod
    def _is_upstream_error(response: dict[str, Any]) -> bool:
        try:
            return int(response["status"]["code"]) >= 500
        except (KeyError, TypeError, ValueError):
            return False

    def upstream_failed(self, live: LiveRequest, what: str, exc: BaseException | None = None) -> None:
        """While recording, the upstream failed for ``live``: nothing is saved, and the test will fail."""
        if exc is not None and not live.done:
            self._record_failure(live, "network", exc)
        if not self.record_errors:
            self.upstream_errors.append(f"upstream {what} while recording {live.method} {live.url}: nothing saved")

    def _unrecorded(self, live: LiveRequest) -> Decision:
        if self.record != "none":
            if live.mcp is not None and self._mcp_sessions is not None:
                bridged = self._live_session(live)
                if bridged is not None:
                    return bridged
            staging = self.upstreams.get(live.origin)
            if staging is not None:
                try:
                    reply = forward(live, staging)
                except (OSError, http.client.HTTPException) as exc:
                    self.upstream_failed(live, f"{staging} unreachable ({type(exc).__name__}: {exc})", exc)
                    raise
                return Decision(live, "network", reply=reply, record=True)
            return Decision(live, "network", record=True)
        if self.loopback_passthrough and live.is_loopback and live.origin not in self.origins():
            return Decision(live, "passthrough")
        return Decision(live, "miss", reply=self._miss(live))

    def _sessions(self) -> Any:
        if self._mcp_sessions is None:
            from pytest_agentops.mcp.sessions import Sessions

            self._mcp_sessions = Sessions()
        return self._mcp_sessions

    def _live_session(self, live: LiveRequest) -> Decision | None:
        """Mode new, a request of an MCP session whose handshake replayed: sent under a live session."""
        from pytest_agentops.mcp.sessions import SessionFailed

        try:
            reply = self._mcp_sessions.answer(live)
        except SessionFailed as exc:
            self.upstream_failed(live, str(exc))
            message_id = getattr(live.mcp, "id", None)
            error = {"jsonrpc": "2.0", "id": message_id, "error": {"code": -32000, "message": str(exc)}}
            body = json.dumps(error).encode()
            return Decision(live, "network", reply=_reply(502, {"content-type": "application/json"}, body))
        if reply is None:
            return None
        return Decision(live, "network", reply=reply, record=reply["status"]["code"] != 405)

    def origins(self) -> set[str]:
        """``scheme://host:port`` of every request the cassette recorded (it answers for them); cached."""
        if self._cassette_origins is None:
            self._cassette_origins = self.cassette.origins()
        return self._cassette_origins

    def _miss(self, live: LiveRequest) -> dict[str, Any]:
        if live.mcp is not None:  # an MCP GET stream played out: 405 (no stream) is the spec's answer, not a miss
            from pytest_agentops.mcp.gate import unplayed_stream

            ended = unplayed_stream(live, self.cassette.recorded_count(live.key))
            if ended is not None:
                return ended
        self.redactor.headers_dict({k: [v] for k, v in live.headers.items()})  # learn their secrets (echoes)
        detail = self.redactor.text(self.explain_miss(live))
        if live.mcp is not None:  # a tool never called while recording: the line that tells it all, first
            from pytest_agentops.mcp.gate import unrecorded_tool

            note = unrecorded_tool(live, self.cassette.interactions)
            detail = f"{note}\n{detail}" if note else detail
        url = self.redactor.url(live.url)  # the miss text reaches the terminal, the trace and the reports
        self.run.misses.append(Miss(f"{live.method} {url}", str(self.cassette.path), detail))
        message = f"pytest-agentops: no recorded answer for {live.method} {url}\n{detail}"
        if live.mcp is not None:  # MCP's form: the client reads a tool error (or a JSON-RPC error)
            from pytest_agentops.mcp.gate import miss_reply

            return miss_reply(live, message)
        error = {"error": {"type": "agentops_cassette_miss", "code": "cassette_miss", "message": message}}
        headers, body = no_retry(error, ("x-agentops-miss", "1"))
        return {
            "status": {"code": MISS_STATUS, "message": "Not Recorded"},
            "headers": {name: [value] for name, value in headers.items()},
            "body": {"string": body},
        }

    def explain_miss(self, live: LiveRequest) -> str:
        cassette = self.cassette
        if not cassette.existed and not len(cassette):
            return (
                f"cassette {cassette.path} does not exist.\n"
                "Record it with: pytest --agent-record (adds what is missing)."
            )
        recorded = cassette.recorded_count(live.key)
        if recorded:
            return (
                f"cassette {cassette.path} holds this request {recorded} time(s) and all were already "
                f"played; the agent sent it once more than when it was recorded.\n"
                "Re-record with: pytest --agent-record=all"
            )
        from pytest_agentops.cassette.format import request_value

        candidates = (
            (i, it["request"]["method"], it["request"]["url"], request_value(it["request"].get("body")))
            for i, it in enumerate(cassette.interactions)
        )
        index, lines = explain(live.method, live.match_url, live.match_value, candidates, cassette.config)
        if index is None:
            return f"cassette {cassette.path} holds no interactions.\nRecord with: pytest --agent-record"
        shown = lines[:12] + ([f"... and {len(lines) - 12} more differences"] if len(lines) > 12 else [])
        return (
            f"nearest recorded request in {cassette.path} is interactions[{index}]; it differs:\n  "
            + "\n  ".join(shown)
            + "\nRe-record with: pytest --agent-record (new requests) or --agent-record=all (everything)."
        )

    def _hooked_request(self, live: LiveRequest) -> tuple[str, Any]:
        """URL and body of ``live`` as the redact hook would store them (it sees no response yet)."""
        import copy

        from pytest_agentops.cassette.format import request_value

        view: Interaction = {
            "kind": live.kind,
            "request": {
                "method": live.method,
                "url": live.match_url,
                "headers": compact_headers(self.redactor.headers_dict({k: [v] for k, v in live.headers.items()})),
                "body": store_request_body(copy.deepcopy(live.value)),
            },
            "response": {"status": None, "reason": "", "headers": {}, "body": None},
        }
        assert self.redact_hook is not None
        self.redact_hook(view)
        request = view["request"]
        return str(request["url"]), request_value(request.get("body"))

    # ---- trace + storage -----------------------------------------------------------------------

    def _finish(self, decision: Decision, response: dict[str, Any]) -> Event:
        live = decision.live
        live.done = True
        episode = self._episode
        if episode is not None and decision.backend in episode.keep:
            episode.answers.append(self._to_interaction(live, response))
        status = int(response["status"]["code"])
        raw = response.get("body", {}).get("string") or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        headers = {k.lower(): (v[0] if isinstance(v, list) and v else str(v)) for k, v in response["headers"].items()}
        model_call = None
        if live.kind == "model" and decision.backend != "miss":
            encoding = headers.get("content-encoding", "")
            plain = bodies.decompress(raw, encoding) if encoding else raw
            model_call = providers.parse_model_call(
                live.method, live.url, live.body, status, headers, plain or b"", request_json=live.json_object()
            )
        io: dict[str, Any] = {}
        if live.mcp is not None:  # the tool's result and isError; the server's name and tools, learned
            from pytest_agentops.mcp.gate import answered

            io.update(answered(live, headers, raw))
        if self.run.capture_io:  # trace files / OpenTelemetry asked for the bodies
            from pytest_agentops.readers.tracefile import capture

            io = {**io, **capture(live, headers, raw, model_call, self.redactor)}  # the MCP fields too
        return self.run.record(
            live.verdict,
            **io,
            kind=_event_kind(live.kind),
            method=live.method,
            url=self.redactor.url(live.url),
            backend=decision.backend,
            status=status,
            started_at=live.started_at,
            duration_s=time.perf_counter() - live.started,
            model_call=model_call,
            error="cassette miss" if decision.backend == "miss" else None,
        )

    def _record_failure(self, live: LiveRequest, backend: Backend, exc: BaseException) -> Event:
        """A local backend raised instead of answering (a simulator's drop or timeout fault).

        The request still happened, and with ``commit_then_drop`` its write did too: the trace,
        the budgets and ``agent_run.writes`` must count it, with no status and the error.
        """
        live.done = True
        return self.run.record(
            live.verdict,
            kind="model" if live.kind == "model" else "tool",
            method=live.method,
            url=self.redactor.url(live.url),
            backend=backend,
            status=None,
            started_at=live.started_at,
            duration_s=time.perf_counter() - live.started,
            error=self.redactor.text(f"{type(exc).__name__}: {exc}"),
        )

    def _to_interaction(self, live: LiveRequest, response: dict[str, Any]) -> Interaction:
        return to_interaction(live, response, self.redactor, self.redact_hook)


def forward(live: LiveRequest, base_url: str) -> dict[str, Any]:
    """Send ``live`` to ``base_url`` with the real, unpatched http.client, and read the whole answer."""
    import http.client

    from vcr.patch import force_reset

    parts = urlsplit(live.url)
    target = urlsplit(base_url)
    path = staging_path(target.path, parts.path) + (f"?{parts.query}" if parts.query else "")
    headers = {k: v for k, v in live.headers.items() if k not in ("host", "content-length", "accept-encoding")}
    headers["accept-encoding"] = "identity"
    with force_reset():
        conn_cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(target.hostname or "localhost", target.port, timeout=120)
        try:
            conn.request(live.method, path, body=live.body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            out: dict[str, list[str]] = {}
            for name, value in resp.getheaders():
                out.setdefault(name.lower(), []).append(value)
            status, reason = resp.status, resp.reason
        finally:
            conn.close()
    for hop in _HOP_HEADERS:
        out.pop(hop, None)
    out["content-length"] = [str(len(data))]
    return {"status": {"code": status, "message": reason}, "headers": out, "body": {"string": data}}


def staging_path(base: str, path: str) -> str:
    """``path`` under the staging ``base``, written with or without the SDK's own prefix.

    People copy the SDK's base URL (``http://host/v1`` for openai; ``/v1`` for anthropic, whose SDK
    puts it in each path), so a ``base`` ending in the segments ``path`` starts with must not repeat
    them: ``/v1`` + ``/v1/responses`` is ``/v1/responses``, ``/proxy/v1`` + ``/v1/x`` is ``/proxy/v1/x``.
    """
    base_parts = [part for part in base.split("/") if part]
    path_parts = [part for part in (path or "/").split("/") if part]
    for size in range(min(len(base_parts), len(path_parts)), 0, -1):
        if base_parts[-size:] == path_parts[:size]:
            path_parts = path_parts[size:]
            break
    joined = "/" + "/".join(base_parts + path_parts)
    return joined + "/" if path.endswith("/") and len(joined) > 1 else joined


def _event_kind(kind: str) -> EventKind:
    named: dict[str, EventKind] = {"model": "model", "mcp": "mcp", "telemetry": "telemetry"}
    return named.get(kind, "tool")


def _status_text(response: dict[str, Any]) -> str:
    status = response["status"]
    return f"{status['code']} {status.get('message') or _reason(int(status['code']))}".strip()


def _reply(status: int, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    out = {k.lower(): [v] for k, v in headers.items() if k.lower() not in _HOP_HEADERS}
    out["content-length"] = [str(len(body))]
    return {"status": {"code": status, "message": _reason(status)}, "headers": out, "body": {"string": body}}


def _replay(interaction: Interaction) -> dict[str, Any]:
    response = interaction["response"]
    raw = bodies.decode(response.get("body"))
    headers = {
        k: [v] if isinstance(v, str) else list(v)  # as header_list(v)
        for k, v in response.get("headers", {}).items()
        if k.lower() not in _HOP_HEADERS
    }
    headers["content-length"] = [str(len(raw))]
    status = response["status"]
    return {
        "status": {"code": status, "message": response.get("reason") or _reason(status)},
        "headers": headers,
        "body": {"string": raw},
    }


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
