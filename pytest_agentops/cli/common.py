"""What every command group of ``agentops`` shares: the exit codes, how an error is said, the
parser class that lets ``report`` delegate ``merge``, and blocking until a server is stopped."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    #: what ``add_subparsers`` returns, the groups' and their commands' (argparse makes a
    #: subparser of its parent's class), so any parser may delegate a word (``report merge``)
    Subcommands: TypeAlias = argparse._SubParsersAction["DelegatingParser"]

PROG = "agentops"
EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


def error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def serve_until_stopped(stop_serving: Callable[[], object], announce: Callable[[], object]) -> int:
    """Block until Ctrl-C or SIGTERM (a CI job's kill), then stop the server cleanly.

    ``announce`` prints the ready line only once SIGTERM is handled: a job that kills the server as
    soon as it reads that line gets a clean exit (0), never the signal's default (-15).
    """
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        announce()
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_serving()
    return EXIT_OK


class DelegatingParser(argparse.ArgumentParser):
    """An argparse parser that hands ``NAME ...`` to another parser when NAME is one of its delegates.

    ``agentops report TRACE_DIR`` takes a positional folder, so ``agentops report merge`` cannot be
    an argparse subcommand of it; the ``report`` parser delegates the word ``merge`` instead.
    """

    delegates: dict[str, argparse.ArgumentParser]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delegates = {}

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        if words and words[0] in self.delegates:
            return self.delegates[words[0]].parse_known_args(words[1:], namespace)
        return super().parse_known_args(words, namespace)
