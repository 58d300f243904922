"""vcrpy's urllib3, requests and boto3 patches, started at the first pool connection, not at import.

Importing requests, urllib3 and botocore for vcr.patch cost every session about 55 ms, most of
them for suites whose clients are httpx-based (the OpenAI and Anthropic SDKs). When urllib3 is
not imported yet as the interception starts, vcr.patch is imported with them hidden (``install``)
and urllib3 is armed when first imported: its pool's ``_get_conn``, through which every urllib3,
requests and botocore request takes a connection, starts vcrpy's patches the first time it runs,
then takes the connection through them.

Why at the first connection and not when urllib3's import ends: the patches replace urllib3's
connection classes in its modules, and a library imported after them (botocore, which urllib3's
import is often part of; urllib3's own SOCKS support, imported by requests) would subclass the
stubs. By the first connection those imports have ended. botocore's own patches (its pools'
connection class) start when it is imported, whenever that is (``arm_boto3``): a session that
never loads it never imports it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import sys
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from unittest import mock

from pytest_agentops.tap import foreign, later

LIBRARIES = ("urllib3", "requests", "botocore")  # hidden from vcr.patch when urllib3 is not imported
_lock = threading.Lock()


def arm(stack: contextlib.ExitStack, dispatch: Any) -> None:
    """Each urllib3 imported from now on (while ``stack`` is open) starts the patches on first use."""

    closed: list[bool] = []

    def imported(module: ModuleType) -> None:
        if not closed:
            stack.enter_context(_trigger(stack, module, dispatch, closed))

    later.when_imported("urllib3", imported)
    stack.callback(later.forget, "urllib3", imported)
    later.while_importing("urllib3", real_classes)
    stack.callback(later.forget_while, "urllib3", real_classes)
    stack.callback(closed.append, True)  # runs first: a trigger still referenced starts nothing


def boto3_late() -> bool:
    """botocore is installed and not imported: vcrpy's boto3 patches can wait for its import."""
    return "botocore" not in sys.modules and importlib.util.find_spec("botocore") is not None


def arm_boto3(stack: contextlib.ExitStack, dispatch: Any) -> None:
    """vcrpy's boto3 patches at each import of botocore from now on (while ``stack`` is open).

    vcr.patch imported botocore (and dateutil) in every session, a third of what starting the
    interception cost when urllib3 was already imported, though most suites never load it. The
    patches set only its pools' ``ConnectionCls``, so starting them when its import ends is what
    vcrpy's own order gives; while it imports, it sees the real urllib3 classes (``real_classes``).
    """
    closed: list[bool] = []

    def imported(module: ModuleType) -> None:
        if not closed:
            from vcr.patch import CassettePatcherBuilder

            for patcher in CassettePatcherBuilder(dispatch)._boto3():
                stack.enter_context(patcher)

    later.while_importing("botocore.awsrequest", real_classes)
    later.when_imported("botocore.awsrequest", imported)
    stack.callback(later.forget_while, "botocore.awsrequest", real_classes)
    stack.callback(later.forget, "botocore.awsrequest", imported)
    stack.callback(closed.append, True)


@contextlib.contextmanager
def real_classes() -> Iterator[None]:
    """The real connection classes while urllib3 or botocore defines its subclasses of them.

    urllib3 subclasses http.client's, botocore urllib3's: imported while vcrpy's stubs stand in
    their place, they would subclass the stubs (and vcrpy's own stubs then fail to build).
    """
    import http.client

    import vcr.patch

    real: list[tuple[object, str, object]] = [
        (http.client, "HTTPConnection", vcr.patch._HTTPConnection),
        (http.client, "HTTPSConnection", vcr.patch._HTTPSConnection),
    ]
    conn = sys.modules.get("urllib3.connection")
    if conn is not None and getattr(vcr.patch, "conn", None) is conn:
        for name, saved in _URLLIB3_SAVED.items():
            real.append((conn, name, getattr(vcr.patch, saved)))
    now = [(target, name, getattr(target, name)) for target, name, _ in real]
    try:
        for target, name, value in real:
            setattr(target, name, value)
        yield
    finally:
        for target, name, value in now:
            setattr(target, name, value)


_URLLIB3_SAVED = {
    "VerifiedHTTPSConnection": "_VerifiedHTTPSConnection",
    "HTTPConnection": "_connHTTPConnection",
    "HTTPSConnection": "_connHTTPSConnection",
}


def _trigger(stack: contextlib.ExitStack, urllib3: ModuleType, dispatch: Any, closed: list[bool]) -> Any:
    """``HTTPConnectionPool._get_conn`` that starts the patches once, then takes connections as they say."""
    pool = urllib3.connectionpool.HTTPConnectionPool
    real = pool._get_conn
    fired: list[bool] = []

    def _get_conn(self: Any, *args: Any, **kwargs: Any) -> Any:
        if fired or closed or foreign.vcr_owner("requests"):
            # Called by vcrpy's _get_conn (ours, which wraps this one, or pytest-recording's, whose
            # cassette must stay on top: ours start at the first connection outside it), or released.
            return real(self, *args, **kwargs)
        with _lock:
            if not fired:
                _start(stack, dispatch)
                fired.append(True)
        return pool._get_conn(self, *args, **kwargs)  # vcrpy's now

    return mock.patch.object(pool, "_get_conn", _get_conn)


def _start(stack: contextlib.ExitStack, dispatch: Any) -> None:
    """vcrpy's urllib3 and requests patches, in vcr's own order (boto3's start at botocore's import)."""
    from vcr.patch import CassettePatcherBuilder

    builder = CassettePatcherBuilder(dispatch)
    patchers = list(itertools.chain(builder._requests(), builder._urllib3()))
    for patcher in patchers:
        stack.enter_context(patcher)


def complete_vcr() -> None:
    """What vcr.patch saves of urllib3 and botocore at its import, for each imported after it.

    Its stubs and pytest-recording's builder read these module globals (``cpool``, ``conn``, the
    real connection classes) when they patch or reset; each module imported afresh (pytester
    restores ``sys.modules``) gives its own, read as its import ends, before anything patched it.
    """
    import vcr.patch

    def urllib3_imported(module: ModuleType) -> None:
        conn, cpool = module.connection, module.connectionpool
        if vcr.patch.cpool is cpool:
            return  # vcr.patch read this one itself (imported before it)
        vcr.patch.conn, vcr.patch.cpool = conn, cpool
        for name, saved in _URLLIB3_SAVED.items():
            setattr(vcr.patch, saved, getattr(conn, name))

    def botocore_imported(module: ModuleType) -> None:
        if getattr(vcr.patch, "_cpoolBoto3HTTPConnection", None) is module.AWSHTTPConnection:
            return
        vcr.patch._Boto3VerifiedHTTPSConnection = module.AWSHTTPSConnection
        vcr.patch._cpoolBoto3HTTPConnection = module.AWSHTTPConnection
        vcr.patch._cpoolBoto3HTTPSConnection = module.AWSHTTPSConnection

    if getattr(vcr.patch, "_agentops_pools", False):
        return
    vcr.patch._agentops_pools = True
    later.when_imported("urllib3", urllib3_imported)
    later.when_imported("botocore.awsrequest", botocore_imported)


def deferred() -> bool:
    """urllib3 is installed and not imported: its family can start late."""
    return "urllib3" not in sys.modules and importlib.util.find_spec("urllib3") is not None
