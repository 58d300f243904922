"""Record every answer a simulator class gives during a test, then validate each one.

``Recorder.install(monkeypatch, SimulatorClass)`` wraps ``handle()`` at class level, so the
answers of every instance count: the ``billing`` fixture's, a ``SimServer``'s on loopback, one a
test builds itself. Answers without a JSON body (faults, 204) and requests no operation of the
document serves (a deliberate 404 on an unknown route) are kept apart, not validated; so are
answers with a status the operation documents no response for (:meth:`Recorder.undocumented`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from .openapi_check import SpecChecker, SpecSet


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    body: Any


@dataclass
class Recorder:
    checker: SpecChecker | SpecSet
    exchanges: list[Exchange] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch, cls: type[Any]) -> None:
        original: Callable[..., Any] = cls.handle

        def handle(sim: Any, method: str, url: str, headers: Mapping[str, str] | None = None, body: Any = b"") -> Any:
            response = original(sim, method, url, headers, body)
            self._record(sim, method, url, response)
            return response

        monkeypatch.setattr(cls, "handle", handle)

    def _record(self, sim: Any, method: str, url: str, response: Any) -> None:
        path = urlsplit(url).path
        prefix = urlsplit(sim.base_url).path.rstrip("/")
        if prefix and path.startswith(prefix):
            path = path[len(prefix) :]
        if response.status in (0, 204) or path == "/openapi.json" or not response.body:
            return
        self.exchanges.append(Exchange(method.upper(), path, response.status, json.loads(response.body)))

    def served(self) -> list[tuple[Exchange, str]]:
        """The exchanges an operation of the document serves, with its operation id."""
        out = []
        for ex in self.exchanges:
            try:
                out.append((ex, self.checker.operation(ex.method, ex.path).operation_id))
            except KeyError:
                continue
        return out

    def undocumented(self) -> list[Exchange]:
        """Served error answers whose status the operation documents no response for (Zendesk's
        spec documents no error bodies for most operations): kept apart, not validated. A success
        status the spec does not document (200 where it says 204) stays a violation."""
        check = self.checker
        return [
            ex
            for ex, _ in self.served()
            if ex.status >= 400 and check.operation(ex.method, ex.path).response_key(ex.status) is None
        ]

    def violations(self) -> list[str]:
        found: list[str] = []
        skip = {id(ex) for ex in self.undocumented()}
        for ex, _ in self.served():
            if id(ex) in skip:
                continue
            found += [
                f"{ex.method} {ex.path}: {v}" for v in self.checker.violations(ex.method, ex.path, ex.status, ex.body)
            ]
        return found

    def assert_conform(self) -> None:
        found = self.violations()
        if found:
            raise AssertionError(
                f"{len(found)} answer(s) do not conform to {self.checker.name}:\n  " + "\n  ".join(found[:30])
            )
