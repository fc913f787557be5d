"""SIGINT and SIGTERM for long commands: the first stops gracefully, a second at once.

    with graceful_stop(ingestor.stopping) as caught:
        report = ingestor.run()
    status = caught.exit_status or ...

The first signal asks the work to stop (no new page starts; pages in flight finish and are
written) instead of raising ``KeyboardInterrupt`` wherever the main thread happens to be or,
for SIGTERM, ending the process with no cleanup at all. A second signal ends the process at
once: child processes are killed first, so none is left behind. Exit statuses follow the
shell's convention, 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM.

A command with nothing to stop gracefully but servers or children of its own to clean up
(``workbench reliability``'s throwaway Valkey) uses ``sigterm_unwinds`` instead: SIGTERM
then raises ``KeyboardInterrupt`` like Ctrl-C, so every ``with`` and ``finally`` runs.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

__all__ = ["Caught", "Stoppable", "graceful_stop", "sigterm_unwinds"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stoppable(Protocol):
    """Something a signal can ask to stop (``Ingestor.stopping``, a queue worker)."""

    def request(self, reason: str) -> None:
        """Ask it to stop for ``reason``."""


class Caught:
    """Which signal stopped the work, if one did."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def name(self) -> str | None:
        """Return the signal's name (``SIGTERM``), or None."""
        return None if self.signum is None else signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int | None:
        """Return 128 + the signal's number, or None when no signal came."""
        return None if self.signum is None else 128 + self.signum


@contextmanager
def graceful_stop(target: Stoppable) -> Iterator[Caught]:
    """Route SIGINT and SIGTERM to ``target`` for the block; restore the handlers after."""
    caught = Caught()

    def handle(signum: int, frame: FrameType | None) -> None:
        if caught.signum is not None:  # the second signal: no more waiting
            for child in multiprocessing.active_children():
                child.kill()
            os._exit(128 + signum)
        caught.signum = signum
        target.request(signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, handle) for signum in SIGNALS}
    try:
        yield caught
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Make SIGTERM raise ``KeyboardInterrupt`` for the block, as Ctrl-C does; restore after.

    Python's default for SIGTERM ends the process on the spot: no ``finally`` runs, so a
    server the command started (a throwaway Valkey) would outlive it.
    """
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
