"""How a ``FakeModel`` picks each answer: seeded failures, the gullible and adversarial modes, the
``respond`` function, the script, then the variation hook (the order ``FakeModel``'s docstring gives).

A base class of ``FakeModel``, so that choosing an answer reads apart from the wire formats and the
serving around it; ``FakeModel`` sets the request log, lock, run and Responses history it shares.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, Self

from pytest_agentops.backends.model import gullible as _gullible
from pytest_agentops.backends.model import schema as _schema
from pytest_agentops.backends.model.types import (
    Conversation,
    FakeError,
    FakeRequest,
    Message,
    Reply,
    Source,
    ToolCall,
    Turn,
    as_turn,
)

if TYPE_CHECKING:
    from pytest_agentops.trace.run import Run

Mode = Literal["scripted", "gullible", "adversarial"]
Responder = Callable[[Conversation], Any]
Variation = Callable[[Conversation, Turn, random.Random], Any]


class Answers:
    """The answer-choosing half of ``FakeModel`` (see there)."""

    DEFAULT_TEXT = "Done."

    # set by FakeModel.__init__
    requests: list[FakeRequest]
    _lock: threading.RLock
    _run: Run | None
    _history: dict[str, list[Message]]

    def __init__(self) -> None:
        self._script: list[Turn] | None = None
        self._position = 0
        self._loop = False
        self._responder: Responder | None = None
        self._mode: Mode = "scripted"
        self._adversarial: dict[str, Any] = {}
        self._fail_rate = 0.0
        self._fail_seed: int | str = 0
        self._fail_with: Turn | None = None
        self._variation: Variation | None = None

    # ---- configuring answers -------------------------------------------------------------------

    def script(
        self,
        turns: Iterable[Any],
        *,
        loop: bool = False,
        fail_rate: float | None = None,
        seed: int | str | None = None,
        fail_with: Any = None,
    ) -> Self:
        """Answer the next requests with ``turns``, one each, in order (replaces any earlier script).

        A turn is text, ``tool_call(...)``, a list of tool calls, ``reply(...)``, ``error(...)`` or an
        HTTP status. ``loop=True`` starts over when the turns run out. ``fail_rate``/``seed``/
        ``fail_with`` are ``vary(...)``'s.
        """
        converted = [as_turn(turn) for turn in turns]
        with self._lock:
            self._script, self._position, self._loop = converted, 0, loop
        if fail_rate is not None or seed is not None or fail_with is not None:
            self.vary(fail_rate=fail_rate or 0.0, seed=seed if seed is not None else 0, fail_with=fail_with)
        return self

    def respond(self, fn: Responder | None) -> Self:
        """Answer with ``fn(conversation)``: a turn, or None to fall through to the script."""
        self._responder = fn
        return self

    def gullible(self) -> Self:
        """Obey tool-call instructions planted in user messages and tool results (see ``fakes.gullible``)."""
        self._mode = "gullible"
        return self

    def adversarial(
        self,
        seed: int | str = 0,
        *,
        invalid_rate: float = 0.0,
        max_turns: int = 3,
        calls_per_turn: int = 1,
    ) -> Self:
        """Propose seeded arbitrary tool calls from the offered tools' JSON schemas.

        While the conversation holds fewer than ``max_turns`` assistant turns with tool calls and a
        tool is offered (and ``tool_choice`` is not ``none``), each answer is ``calls_per_turn``
        calls (1 when ``parallel_tool_calls`` is false) of tools picked at random, with arguments
        valid for the schema; a fraction ``invalid_rate`` of them is then broken on purpose
        (``ToolCall.invalid`` says how). Deterministic for a seed and a sequence of requests.
        """
        self._mode = "adversarial"
        self._adversarial = {
            "seed": seed,
            "invalid_rate": invalid_rate,
            "max_turns": max_turns,
            "calls_per_turn": max(1, calls_per_turn),
        }
        return self

    def scripted(self) -> Self:
        """Back to plain scripted answers (leave ``gullible``/``adversarial`` mode)."""
        self._mode = "scripted"
        return self

    @property
    def mode(self) -> Mode:
        return self._mode

    def vary(
        self,
        *,
        fail_rate: float = 0.0,
        seed: int | str = 0,
        fail_with: Any = None,
        hook: Variation | None = None,
    ) -> Self:
        """Seeded, reproducible flakiness (for pass^k tests).

        Each request fails with probability ``fail_rate``, drawn from ``Random(f"{seed}:{n}")`` for
        the n-th request: it is answered with ``fail_with`` (default ``error(500)``; any turn works,
        e.g. a wrong tool call) and the script does not advance. ``hook(conversation, turn, rng)``
        may replace any answer (return a turn); its ``rng`` is seeded the same way.
        """
        self._fail_rate, self._fail_seed = float(fail_rate), seed
        self._fail_with = as_turn(fail_with) if fail_with is not None else None
        self._variation = hook
        return self

    def reset(self) -> Self:
        """Forget the script, responder, mode, variation and recorded requests."""
        with self._lock:
            self.requests.clear()
            self._script, self._position, self._loop = None, 0, False
            self._history.clear()
        self._responder, self._mode, self._variation = None, "scripted", None
        self._fail_rate, self._fail_with = 0.0, None
        return self

    # ---- what is left ---------------------------------------------------------------------------

    @property
    def remaining(self) -> int:
        """Scripted turns not used yet (0 with no script)."""
        return 0 if self._script is None else max(0, len(self._script) - self._position)

    def assert_script_used(self) -> None:
        """Fail when scripted turns were left unused (the agent stopped earlier than scripted)."""
        if self._script is not None and not self._loop and self.remaining:
            raise AssertionError(
                f"the fake model's script has {len(self._script)} turns; only {self._position} were used"
            )

    # ---- choosing the answer -------------------------------------------------------------------

    def _choose(self, conversation: Conversation, method: str, url: str) -> tuple[Turn, Source]:
        index = conversation.index
        if self._fail_rate and random.Random(f"{self._fail_seed}:{index}").random() < self._fail_rate:
            failure = self._fail_with or FakeError(500, "fake model: seeded failure (fail_rate)")
            return failure, "fail"
        turn: Turn | None = None
        source: Source = "default"
        if self._mode == "gullible":
            calls = _gullible.instructions(conversation)
            if calls:
                turn, source = Reply(tool_calls=calls), "gullible"
        elif self._mode == "adversarial":
            proposed = self._propose(conversation)
            if proposed is not None:
                turn, source = proposed, "adversarial"
        if turn is None and self._responder is not None:
            answer = self._responder(conversation)
            if answer is not None:
                turn, source = as_turn(answer), "respond"
        if turn is None and self._script is not None:
            if self._position >= len(self._script) and self._loop and self._script:
                self._position = 0
            if self._position < len(self._script):
                turn, source = self._script[self._position], "script"
                self._position += 1
            else:
                return self._exhausted(method, url), "exhausted"
        if turn is None:
            turn = Reply(self.DEFAULT_TEXT)
        if self._variation is not None:
            varied = self._variation(conversation, turn, random.Random(f"{self._fail_seed}:{index}:hook"))
            if varied is not None:
                turn = as_turn(varied)
        return turn, source

    def _exhausted(self, method: str, url: str) -> FakeError:
        assert self._script is not None
        detail = (
            f"the fake model's script has {len(self._script)} turn(s) and all were used; "
            "the agent called the model once more than scripted.\n"
            "Add turns to fake_llm.script([...]), or pass loop=True to repeat them."
        )
        if self._run is not None:
            from pytest_agentops.trace.run import Miss

            self._run.misses.append(Miss(f"{method} {url}", "(fake model script)", detail))
        return FakeError(500, "fake model: " + detail, "server_error", retry=False)

    def _propose(self, conversation: Conversation) -> Reply | None:
        settings = self._adversarial
        tools = conversation.tools
        if conversation.tool_choice not in ("auto", "none", "required"):
            tools = [t for t in tools if t.name == conversation.tool_choice]
        if not tools or conversation.tool_choice == "none":
            return None
        used = sum(1 for m in conversation.messages if m.role == "assistant" and m.tool_calls)
        if used >= settings["max_turns"]:
            return None
        rng = random.Random(f"adversarial:{settings['seed']}:{conversation.index}")
        count = settings["calls_per_turn"] if conversation.parallel_tool_calls else 1
        calls = []
        for _ in range(count):
            tool = rng.choice(tools)
            parameters = tool.parameters or {"type": "object", "properties": {}}
            arguments = _schema.generate(parameters, rng)
            if not isinstance(arguments, dict):
                arguments = {}
            invalid = None
            if settings["invalid_rate"] and rng.random() < settings["invalid_rate"]:
                arguments, invalid = _schema.break_arguments(parameters, arguments, rng)
            calls.append(ToolCall(tool.name, arguments, invalid=invalid))
        return Reply(tool_calls=calls)
