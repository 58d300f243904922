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
from typing import TYPE_CHECKING, Any, Literal, cast

from pytest_agentops.cassette import body as bodies
from pytest_agentops.cassette.format import Cassette, Interaction, compact_headers, store_request_body
from pytest_agentops.cassette.matching import body_value, request_key
from pytest_agentops.cassette.record import to_interaction
from pytest_agentops.cassette.redact import Redactor
from pytest_agentops.tap import misses
from pytest_agentops.tap.episode import TapEpisode
from pytest_agentops.tap.misses import MISS_STATUS as MISS_STATUS
from pytest_agentops.tap.replies import _reason as _reason
from pytest_agentops.tap.replies import _replay as _replay
from pytest_agentops.tap.replies import _reply as _reply
from pytest_agentops.tap.replies import _status_text as _status_text
from pytest_agentops.tap.replies import forward as forward
from pytest_agentops.tap.replies import staging_path as staging_path
from pytest_agentops.tap.request import _HOP_HEADERS as _HOP_HEADERS
from pytest_agentops.tap.request import Decision as Decision
from pytest_agentops.tap.request import LiveRequest as LiveRequest
from pytest_agentops.tap.request import _as_bytes as _as_bytes
from pytest_agentops.tap.request import _raw_body as _raw_body
from pytest_agentops.tap.request import _vcr_headers as _vcr_headers
from pytest_agentops.tap.telemetry import DEFAULT as DEFAULT_TELEMETRY
from pytest_agentops.tap.telemetry import Telemetry
from pytest_agentops.trace import providers
from pytest_agentops.trace.run import Backend, Event, EventKind, Run
from pytest_agentops.trace.warning import AgentopsWarning

if TYPE_CHECKING:
    from pytest_agentops.cassette.layered import Layered

RecordMode = Literal["none", "new", "all"]

# A local backend answers a request in-process: (status, headers, body) or None to decline.
Reply = tuple[int, Mapping[str, str], bytes]
LocalHandler = Callable[["LiveRequest"], "Reply | None"]
Gate = Callable[["LiveRequest"], "Reply | None"]


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
        # (a gate already asked, and named a telemetry request's kind)
        telemetry = self.telemetry_answer(live) if not live.gated or live.kind == "telemetry" else None
        if telemetry is not None:  # an SDK's own upload: answered here, never sent or recorded
            live.gated = True
            return Decision(live, "telemetry", reply=_reply(*telemetry))
        if not live.gated and not self.governs(live):
            return Decision(live, "passthrough", traced=False)
        if not live.gated:
            live.gated = True
            denied = self._refusal(live)  # not telemetry: asked above
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
        return self._refusal(live)

    def _refusal(self, live: LiveRequest) -> Decision | None:
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
            # its parsed value is known without parsing it, and its request key is computed only if
            # it is needed (``Cassette.take_exact``).
            exact = self.cassette.take_exact(live.method, live.url, live.body)
            if exact is not None:
                found, live.value = exact
                live.match_url, live.match_value = live.url, live.value
                if isinstance(live.value, dict):
                    live._json = live.value
                return self._replayed(live, found)
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
            hidden = self._take_hidden(live, parsed)
            if hidden is not None:
                return self._replayed(live, hidden)
        return self._unrecorded(live)

    def _take_hidden(self, live: LiveRequest, parsed: Any) -> Interaction | None:
        """A recorded request that hid, as a placeholder, a value this one sends in the clear (the
        recording had seen it as a secret elsewhere first): its answer, the value now a secret too."""
        take = getattr(self.cassette, "take_hidden", None)
        found = take(live.method, live.match_url, live.match_value) if take is not None else None
        if found is None:
            return None
        live.key, interaction, secrets = found
        for kind, secret in secrets:
            self.redactor.learn(secret, kind)  # the trace and the output hide it as the recording did
        if secrets:
            live.value = self.redactor.request(parsed)
            live.match_url = self.redactor.url(live.url)
            if self.redact_hook is None:
                live.match_value = live.value
        return interaction  # type: ignore[no-any-return]

    def _replayed(self, live: LiveRequest, interaction: Interaction) -> Decision:
        """Replay ``interaction``; but while recording, an upstream error saved earlier is fetched again."""
        status = interaction["response"]["status"]
        if self.record == "none" or self.record_errors or not isinstance(status, int) or status < 500:
            reply, headers = _replay(interaction, self.cassette.plain)
            if live.mcp is not None:  # the recorded answer carries the recorded JSON-RPC id
                from pytest_agentops.mcp.gate import replayed

                reply = replayed(live, reply)
                if self.record == "new":
                    self._sessions().replayed(live, reply)
                return Decision(live, "cassette", reply=reply)
            return Decision(live, "cassette", reply=reply, answer_json=_stored_json(interaction), headers=headers)
        import warnings

        if not live.key:  # served by position (``Cassette.take_exact``): its key was not needed until now
            live.key = request_key(live.method, live.match_url, live.match_value, self.cassette.config)
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
        return misses.reply(self, live)

    def explain_miss(self, live: LiveRequest) -> str:
        return misses.explain(self.cassette, live)

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
        headers = _flat_headers(decision, response)
        model_call = None
        if live.kind == "model" and decision.backend != "miss":
            encoding = headers.get("content-encoding", "")
            plain = bodies.decompress(raw, encoding) if encoding else raw
            model_call = providers.parse_model_call(
                live.method,
                live.url,
                live.body,
                status,
                headers,
                plain or b"",
                request_json=live.json_object(),
                response_json=decision.answer_json,
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


def _flat_headers(decision: Decision, response: dict[str, Any]) -> dict[str, str]:
    """One value per lower-cased name, as the event reads them (built with a replayed reply)."""
    if decision.headers is not None and response is decision.reply:
        return decision.headers.flat
    return {k.lower(): (v[0] if isinstance(v, list) and v else str(v)) for k, v in response["headers"].items()}


def _stored_json(interaction: Interaction) -> dict[str, Any] | None:
    """The recorded answer's body when the cassette holds it as a JSON object, else None."""
    body = interaction["response"].get("body")
    value = body.get("json") if isinstance(body, dict) else None
    return value if isinstance(value, dict) else None


_EVENT_KINDS: dict[str, EventKind] = {"model": "model", "mcp": "mcp", "telemetry": "telemetry"}


def _event_kind(kind: str) -> EventKind:
    return _EVENT_KINDS.get(kind, "tool")
