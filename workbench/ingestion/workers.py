"""What every mode's workers share: how calls are retried, and what one worker owns."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from workbench.processing import Processor
from workbench.processing.registry import processor_class
from workbench.retry import retry
from workbench.sources.source import Source

__all__ = ["RetryOptions", "RetryWrappers", "ThreadWorkers", "Worker"]


@dataclass(frozen=True)
class RetryOptions:
    """How each page's fetch and write are retried (sleep swappable for tests and notebooks)."""

    attempts: int = 5
    base: float = 0.1
    cap: float = 5.0
    sleep: Any = time.sleep
    #: Retry without a log line per attempt (the caller reports the outcome itself).
    quiet: bool = False

    def decorator(self) -> Any:
        """Return the retry decorator these options describe (for plain and async functions)."""
        hooks = {"before_sleep": None, "on_giveup": None} if self.quiet else {}
        return retry(
            attempts=self.attempts,
            base=self.base,
            cap=self.cap,
            sleep=self.sleep,
            async_sleep=asyncio.sleep if self.sleep is time.sleep else self._async_sleep,
            **hooks,
        )

    async def _async_sleep(self, seconds: float) -> None:
        """Call the injected (test or notebook) sleep from async code."""
        self.sleep(seconds)


@dataclass
class Worker:
    """What one worker (a thread, a process, a task) owns: its name and its session."""

    name: str
    session: Any = None
    processors: dict[str, Processor] = field(default_factory=dict)

    def processor(self, resource: str, cpu_cost: int, kind: str = "records") -> Processor:
        """Return this worker's processor for ``resource``, of the ``kind`` named (built once)."""
        if resource not in self.processors:
            self.processors[resource] = processor_class(kind)(resource, cpu_cost=cpu_cost)
        return self.processors[resource]


class ThreadWorkers:
    """One ``Worker`` per thread of a pool, each with its own session, all closed at the end.

    A ``requests.Session`` must not be shared between threads; one each also means one
    keep-alive connection each.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self._local = threading.local()
        self._sessions = contextlib.ExitStack()
        self._lock = threading.Lock()

    def current(self) -> Worker:
        """Return this thread's worker, made (with its session) on its first call."""
        worker: Worker | None = getattr(self._local, "worker", None)
        if worker is None:
            with self._lock:  # ExitStack is not thread-safe
                session = self._sessions.enter_context(self.source.session())
            worker = self._local.worker = Worker(threading.current_thread().name, session)
        return worker

    def __enter__(self) -> ThreadWorkers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._sessions.close()


class RetryWrappers:
    """Retry wrappers built once per function, for as long as the retry options stay the same.

    Building the decorator costs more than fetching a cached page; sharing a wrapped function
    between threads and tasks is safe, since its ``statistics`` are kept per thread and task.
    """

    def __init__(self) -> None:
        self._options: RetryOptions | None = None
        self._wrapped: dict[Callable[..., Any], Any] = {}

    def wrap(self, options: RetryOptions, fn: Callable[..., Any]) -> Any:
        """Return ``fn`` wrapped by ``options``' decorator, reusing the last one built for it."""
        if options is not self._options:  # new options: the old wrappers retry the old way
            self._options, self._wrapped = options, {}
        wrapped = self._wrapped.get(fn)
        if wrapped is None:
            wrapped = self._wrapped[fn] = options.decorator()(fn)
        return wrapped
