"""The local source API in a process of its own, for measurements.

``serve_in_thread`` shares the caller's GIL: fine for tests, unfair for benchmarks, where the
server's Python work would compete with the client being measured. ``serve_in_process`` runs
``workbench source serve`` as a child process on a free port instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from workbench.errors import ServiceError
from workbench.local_api.faults import FaultConfig

_FLAG_FIELDS = (
    "latency_ms", "jitter_ms", "error_rate", "rate_limit_rate", "retry_after_s",
    "drop_rate", "malformed_rate", "slow_rate", "slow_ms",
)  # fmt: skip


class ProcessServerHandle:
    """A source server running in a child process: its URL and its counters over HTTP."""

    def __init__(self, url: str, process: subprocess.Popen[str]) -> None:
        self.url = url
        self.process = process

    def __repr__(self) -> str:
        return f"ProcessServerHandle(url={self.url!r}, pid={self.process.pid})"

    def stats(self) -> dict[str, Any]:
        """Return the server's ``/stats`` counters."""
        with urllib.request.urlopen(f"{self.url}/stats", timeout=10) as answer:
            stats: dict[str, Any] = json.load(answer)
        return stats

    def reset_stats(self) -> None:
        """Zero the counters and restart fault draws (``DELETE /stats``)."""
        request = urllib.request.Request(f"{self.url}/stats", method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()


def serve_command(seed: int, scale: float, faults: FaultConfig) -> list[str]:
    """Return the command line that serves this data set and these faults on a free port."""
    command = [sys.executable, "-m", "workbench", "source", "serve", "--port", "0"]
    command += ["--seed", str(seed), "--scale", repr(scale), "--fault-seed", str(faults.seed)]
    values = asdict(faults)
    for field in _FLAG_FIELDS:
        command += [f"--{field.replace('_', '-')}", repr(values[field])]
    for text in faults.always_fail:
        command += ["--always-fail", text]
    return command


@contextmanager
def serve_in_process(
    *, seed: int = 0, scale: float = 1.0, faults: FaultConfig | None = None
) -> Iterator[ProcessServerHandle]:
    """Run the source API in a child process on a free port; stop it on exit."""
    command = serve_command(seed, scale, faults or FaultConfig())
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if " at http" not in line:
            raise ServiceError(f"the source server did not start: {line.strip() or 'no output'}")
        url = line.split(" at ", 1)[1].split()[0]
        yield ProcessServerHandle(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
