"""``workbench ingest`` as a child process: the real command, its signals and exit status.

The scenarios that stop, kill or starve a run go through the CLI a user would run, so the
table shows its real exit statuses and its graceful stop (``workbench.commands.signals``)
rather than a re-implementation. ``IngestProcess`` starts the command in a process group
of its own (a multiprocess run's workers included), waits for records to land, signals or
kills the group, and always reaps it; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from workbench.config import env_var
from workbench.db.postgres import PostgresStore
from workbench.errors import WorkbenchError

__all__ = ["HEARTBEAT_S", "IngestCall", "IngestProcess", "records_stored", "run_to_end"]

#: How often a run's row beats: silent for four beats, the next run marks it abandoned.
HEARTBEAT_S = 0.5
#: How long one run may take before it is killed as stuck.
RUN_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class IngestCall:
    """One ``workbench ingest`` invocation: the source, the mode and the settings."""

    base_url: str
    mode: str
    postgres_dsn: str
    redis_url: str
    resources: tuple[str, ...] = ("posts", "comments")
    page_size: int = 10
    #: Extra ``Settings`` values, passed as ``WORKBENCH_*`` variables.
    settings: Mapping[str, Any] | None = None
    source_name: str = "local"

    def command(self) -> list[str]:
        """Return the command line: two workers, two in flight, a transaction per page."""
        command = [sys.executable, "-m", "workbench", "ingest", "--mode", self.mode]
        command += ["--base-url", self.base_url, "--resource", ",".join(self.resources)]
        command += ["--page-size", str(self.page_size), "--source-name", self.source_name]
        return [*command, "--concurrency", "2", "--workers", "2", "--no-progress"]

    def env(self) -> dict[str, str]:
        """Return the environment: this process's, pointed at the scenario's services."""
        values = {
            "postgres_dsn": self.postgres_dsn,
            "redis_url": self.redis_url,
            "batch_rows": 10,
            "heartbeat_s": HEARTBEAT_S,
            **(self.settings or {}),
        }
        return {**os.environ, **{env_var(name): str(value) for name, value in values.items()}}


def records_stored(dsn: str) -> int:
    """Return how many records the database holds (0 while it cannot be reached)."""
    try:
        with PostgresStore(dsn, maxconn=1, connect_timeout=2) as store:
            return store.count()
    except WorkbenchError:
        return 0


class IngestProcess:
    """A running ``workbench ingest`` in its own process group; reaped when the block ends."""

    def __init__(self, call: IngestCall) -> None:
        self.call = call
        # Closed in __exit__, with the process they belong to.
        self._out: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115
        self._err: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115
        # Files, not pipes: a chatty run must never block on a full pipe nobody reads.
        self.process = subprocess.Popen(
            call.command(), env=call.env(), stdout=self._out, stderr=self._err,
            stdin=subprocess.DEVNULL, text=True, start_new_session=True,
        )  # fmt: skip

    def __enter__(self) -> IngestProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()
        self._out.close()
        self._err.close()

    @property
    def running(self) -> bool:
        """Tell whether the command is still running."""
        return self.process.poll() is None

    def wait_for_records(self, count: int, timeout_s: float = 120.0) -> bool:
        """Wait until ``count`` records are stored; False if the run ended or time ran out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.running:
            if records_stored(self.call.postgres_dsn) >= count:
                return True
            time.sleep(0.05)
        return False

    def send(self, signum: int) -> None:
        """Send ``signum`` to the command alone (it stops its own workers)."""
        if self.running:
            self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL the whole process group, workers included, and reap the command."""
        if self.process.returncode is not None:
            return  # reaped: its pid, and so the group's id, may belong to another by now
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def finish(self, timeout_s: float = RUN_TIMEOUT_S) -> int:
        """Wait for the command to end (killed when stuck); return its shell exit status."""
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
        code = self.process.returncode
        return 128 - code if code < 0 else code  # killed by signal N: the shell's 128 + N

    def report(self) -> dict[str, Any] | None:
        """Return the run's report (the last stdout line), or None when it printed none."""
        self._out.seek(0)
        lines = self._out.read().strip().splitlines()
        try:
            return json.loads(lines[-1]) if lines else None
        except json.JSONDecodeError:
            return None

    def stderr(self) -> str:
        """Return what the command wrote on stderr."""
        self._err.seek(0)
        return self._err.read()


def run_to_end(call: IngestCall, timeout_s: float = RUN_TIMEOUT_S) -> tuple[int, str]:
    """Run the command to its end; return its exit status and its stderr's last line."""
    with IngestProcess(call) as process:
        status = process.finish(timeout_s)
        return status, (process.stderr().strip().splitlines() or [""])[-1]
