"""What a mode's workers share: retry wrappers, and a worker per thread."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from workbench.ingestion.workers import RetryOptions, RetryWrappers, ThreadWorkers


def answer() -> str:
    """Answer at once."""
    return "ok"


class TestRetryWrappers:
    """Retry wrappers kept per function while the options stay the same."""

    def test_one_wrapper_per_function_and_options(self) -> None:
        """The same options and function give the same wrapper; new options a new one."""
        wrappers, options = RetryWrappers(), RetryOptions(attempts=2)
        wrapped = wrappers.wrap(options, answer)
        assert wrapped() == "ok"
        assert wrappers.wrap(options, answer) is wrapped
        assert wrappers.wrap(RetryOptions(attempts=2), answer) is not wrapped

    def test_each_function_gets_its_own(self) -> None:
        """Two functions never share a wrapper."""
        wrappers, options = RetryWrappers(), RetryOptions()
        assert wrappers.wrap(options, answer) is not wrappers.wrap(options, str.upper)


class FakeSessions:
    """A source whose sessions are counted and remember being closed."""

    def __init__(self) -> None:
        self.opened: list[Session] = []

    def session(self) -> Any:
        """Open a session, closed when its context ends."""
        session = Session()
        self.opened.append(session)
        return contextlib.closing(session)


class Session:
    """A session that knows whether it was closed."""

    closed = False

    def close(self) -> None:
        """Close it."""
        self.closed = True


class TestThreadWorkers:
    """One worker and one session per thread of a pool."""

    def test_one_worker_per_thread_all_sessions_closed(self) -> None:
        """Each thread gets its own worker, named after it; every session closes at the end."""
        source = FakeSessions()
        with ThreadWorkers(source) as workers, ThreadPoolExecutor(3) as pool:  # type: ignore[arg-type]
            barrier = threading.Barrier(3)

            def whose(_: int) -> tuple[str, int]:
                worker = workers.current()
                assert workers.current() is worker
                barrier.wait(timeout=5)  # three threads at once: three workers
                return worker.name, id(worker.session)

            seen = set(pool.map(whose, range(3)))
        assert len(seen) == 3
        assert len(source.opened) == 3
        assert all(session.closed for session in source.opened)
