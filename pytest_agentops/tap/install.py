"""Interception installed once per process, routed to the current test's tap.

Patching per test cost vcrpy's ~40 ``mock.patch`` objects per test (most of the plugin's cost
on a test that makes no request); here they start once, at the first tap, and stop when the
last user releases them (the session's end; nested pytester sessions share them). Each request
finds its test's tap with ``tap.current.active_tap()``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any

from pytest_agentops.tap import later, pools, reset, vcrpkg

_patches: contextlib.ExitStack | None = None
_users = 0


# vcr.patch imports these at its own import whether or not the process uses them (aiohttp alone
# was a third of a session's start-up): each is patched when first imported instead. Not botocore:
# its classes subclass urllib3's, which vcr's urllib3 patch has replaced by then.
_LATE = ("aiohttp",)
# Patched when first imported too, as vcrpy's httpx patches are skipped (``Dispatch``): httpx
# imports its command line (click, rich, pygments) when they are installed, about 0.1 s of a
# session that never uses httpx. vcr.patch's saved originals are completed at their import.
_LATE_HTTPX = ("httpx", "httpx2")
# What vcr.patch saves of each at its import (its patchers, and pytest-recording's, call them).
# vcrpy's groups that ``tap.pools`` starts at urllib3's first connection when it is not imported yet.
_POOLS = ("requests", "boto3", "urllib3")
_VCR_ORIGINALS = {
    "httpx": "_Httpx",
    "httpx2": "_Httpx2",
}
_VCR_TRANSPORTS = (
    ("HttpTransport_handle_request", "HTTPTransport", "handle_request"),
    ("AsyncHttpTransport_handle_async_request", "AsyncHTTPTransport", "handle_async_request"),
    ("WsgiTransport_handle_request", "WSGITransport", "handle_request"),
    ("AsgiTransport_handle_async_request", "ASGITransport", "handle_async_request"),
    ("MockTransport_handle_request", "MockTransport", "handle_request"),
    ("MockTransport_handle_async_request", "MockTransport", "handle_async_request"),
)


class Dispatch:
    """What vcrpy's stubs take for their cassette: each call goes to the current test's tap.

    vcrpy covers requests/urllib3, http.client, aiohttp, boto3, httplib2 and tornado at their
    connection level; httpx and httpx2 are covered at httpcore's pool instead (``tap.core``),
    below their mock transports, so vcrpy's patches for them are skipped.
    """

    custom_patches: tuple[Any, ...] = ()
    skip_patchers: tuple[str, ...] = ("httpx", "httpx2", *_LATE)
    rewound = True
    record_mode = "agentops"
    write_protected = False  # never let vcr raise its own error: misses are answered by play_response
    _path = "agentops"  # vcr names its connection subclasses after it
    _match_on: tuple[Any, ...] = ()

    def __len__(self) -> int:
        return 0

    def filter_request(self, request: Any) -> Any:
        return request

    def find_requests_with_most_matches(self, request: Any) -> list[Any]:
        return []

    def can_play_response_for(self, request: Any) -> bool:
        from pytest_agentops.tap.current import tap_for

        tap = tap_for(request.method.upper(), request.uri)
        return tap is not None and tap.can_play_response_for(request)

    def play_response(self, request: Any) -> dict[str, Any]:
        from pytest_agentops.tap.current import tap_for

        tap = tap_for(request.method.upper(), request.uri)  # the one that said it can (a test's, or tap.outside)
        assert tap is not None, "the test's tap closed while its request was being answered"
        return tap.play_response(request)

    def append(self, request: Any, response: dict[str, Any]) -> None:
        from pytest_agentops.tap.current import tap_for

        tap = tap_for(request.method.upper(), request.uri)
        if tap is not None:
            tap.append(request, response)


DISPATCH = Dispatch()


def acquire() -> None:
    """Start the patches (first user) or count one more user."""
    global _users
    _users += 1
    if _users > 1:
        return
    deferred, boto3_late = pools.deferred(), pools.boto3_late()
    hidden = _LATE + _LATE_HTTPX + (pools.LIBRARIES if deferred else ()) + (("botocore",) if boto3_late else ())
    with _hidden(hidden):
        CassettePatcherBuilder = vcrpkg.patch_module().CassettePatcherBuilder
    pools.complete_vcr()
    DISPATCH.skip_patchers = Dispatch.skip_patchers + (_POOLS if deferred else ()) + (("boto3",) if boto3_late else ())

    global _patches
    stack = contextlib.ExitStack()
    try:  # vcrpy's are context managers (mock patches, and its connection remover)
        for patcher in CassettePatcherBuilder(DISPATCH).build():
            stack.enter_context(patcher)
    except BaseException:
        stack.close()
        _users -= 1
        raise
    _patches = stack
    if deferred:
        pools.arm(stack, DISPATCH)
    if boto3_late:
        pools.arm_boto3(stack, DISPATCH)
    _patch_requests(stack)
    _patch_httpx(stack)
    _patch_cores(stack)
    _patch_late(stack)
    reset.install(stack)


def _patch_requests(stack: contextlib.ExitStack) -> None:
    """The requests observer now if requests is imported, else when it is."""
    from pytest_agentops.tap import observe

    if "requests" in sys.modules or importlib.util.find_spec("requests") is not None:
        _patch_on_import(stack, "requests", observe.patchers)


def _patch_httpx(stack: contextlib.ExitStack) -> None:
    """The observers of httpx and httpx2 clients now if imported, else when they are."""
    from pytest_agentops.tap import observe

    _complete_vcr_httpx()
    for name in observe.HTTPX_LIBRARIES:
        if name in sys.modules or importlib.util.find_spec(name) is not None:
            _patch_on_import(stack, name, observe.httpx_patchers)


_httpx_completed: list[bool] = []


def _complete_vcr_httpx() -> None:
    """What vcr.patch saves of httpx and httpx2 at its import, for each imported after it (once set up).

    Read when the import ends, before anything can have patched the transports; each one imported
    afresh (pytester restores ``sys.modules``) gives its own, as vcr.patch would have read it.
    """
    if _httpx_completed:
        return
    _httpx_completed.append(True)
    import vcr.patch

    def imported(module: ModuleType) -> None:
        prefix = _VCR_ORIGINALS[module.__name__]
        if getattr(vcr.patch, f"_httpx_seen_{module.__name__}", None) is module:
            return  # vcr.patch read this one itself (imported before it)
        for suffix, cls, method in _VCR_TRANSPORTS:
            setattr(vcr.patch, prefix + suffix, getattr(getattr(module, cls), method))
        setattr(vcr.patch, f"_httpx_seen_{module.__name__}", module)

    for name in _VCR_ORIGINALS:
        present = sys.modules.get(name)
        if present is not None and hasattr(vcr.patch, _VCR_ORIGINALS[name] + _VCR_TRANSPORTS[0][0]):
            setattr(vcr.patch, f"_httpx_seen_{name}", present)  # read by vcr.patch at its own import
        later.when_imported(name, imported)


def _patch_cores(stack: contextlib.ExitStack) -> None:
    """httpcore and httpcore2 now if imported, else when they are (httpx imports them late)."""
    from pytest_agentops.tap import core

    for name in core.LIBRARIES:
        if name in sys.modules or importlib.util.find_spec(name) is not None:
            _patch_on_import(stack, name, core.patchers)


def _patch_on_import(stack: contextlib.ExitStack, name: str, patchers: Callable[[ModuleType], Iterable[Any]]) -> None:
    """``patchers(module)`` entered on ``stack`` now if ``name`` is imported, and at each import of it."""

    def patch(module: ModuleType) -> None:
        if _patches is stack:  # still installed
            for patcher in patchers(module):
                stack.enter_context(patcher)

    later.when_imported(name, patch)
    stack.callback(later.forget, name, patch)


@contextlib.contextmanager
def _hidden(names: tuple[str, ...]) -> Iterator[None]:
    """Inside the block ``import NAME`` fails for each of ``names`` not imported yet."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not importable"
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _patch_late(stack: contextlib.ExitStack) -> None:
    """aiohttp's vcrpy patch when aiohttp is imported (now, if it is already)."""
    from vcr.patch import CassettePatcherBuilder

    _complete_vcr()
    _patch_on_import(stack, "aiohttp", lambda module: CassettePatcherBuilder(DISPATCH)._aiohttp())


_completed: list[ModuleType | None] = []  # the aiohttp there when vcr.patch was first completed


def _complete_vcr() -> None:
    """What vcr.patch saves at its import when aiohttp is there: its stub calls it for real requests.

    pytest-recording's stubs need it too, so this stays for good. Each aiohttp imported from now on
    (pytester restores ``sys.modules``, so one may be imported afresh) gives its own original, read
    at the import's end, before anything can have patched it.
    """
    import vcr.patch

    if _completed:
        return
    present = sys.modules.get("aiohttp")
    if present is not None and not hasattr(vcr.patch, "_AiohttpClientSessionRequest"):
        _save_original(present)
    _completed.append(present)

    def imported(module: ModuleType) -> None:
        if module is not _completed[0]:
            _save_original(module)

    later.when_imported("aiohttp", imported)


def _save_original(aiohttp: ModuleType) -> None:
    import vcr.patch

    vcr.patch._AiohttpClientSessionRequest = aiohttp.client.ClientSession._request


def release() -> None:
    """One user fewer; the last one stops every patch, in reverse order."""
    global _users
    if _users == 0:
        return
    _users -= 1
    if _users:
        return
    global _patches
    stack, _patches = _patches, None
    if stack is not None:
        stack.close()  # in reverse order


def installed() -> bool:
    return _patches is not None
