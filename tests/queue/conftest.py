"""Fixtures for the queue tests: real worker processes, a slow local API, a broker to look."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.local_api import ServerHandle
from workbench.queue.broker import Broker
from workbench.queue.keys import GROUP
from workbench.queue.options import QueueOptions
from workbench.queue.status import JobStatus, job_status
from workbench.services.common import wait_until

#: A claim after 1 s idle, heartbeats every 0.2 s, a dead letter after the third delivery.
QUEUE = {"idle_s": 1.0, "heartbeat_s": 0.2, "max_deliveries": 3}
#: How long any wait of these tests may last before the test fails.
TIMEOUT_S = 60.0


@pytest.fixture
def api(source: ServerHandle) -> ServerHandle:
    """The shared local API (tests/conftest.py: 100 posts, 500 comments), no faults."""
    return source


@pytest.fixture
def queue_env(cli_env: dict[str, str]) -> dict[str, str]:
    """The environment of every command a test runs: its database, its Redis, fast timings."""
    timings = {f"WORKBENCH_QUEUE_{name.upper()}": str(value) for name, value in QUEUE.items()}
    return {**cli_env, "WORKBENCH_RETRY_ATTEMPTS": "2", **timings}


@pytest.fixture
def broker(redis_url: str) -> Iterator[Broker]:
    """A broker on the test Redis, with the same timings as the workers."""
    opened = Broker.connect(redis_url, options=QueueOptions(url=redis_url, **QUEUE))
    yield opened
    opened.close()


class Workers:
    """``workbench worker`` processes a test started: each killed and reaped at the end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *flags: str) -> subprocess.Popen[bytes]:
        """Start a worker named ``name``; its stderr goes to a log file."""
        log = (self.logs / f"{name}.log").open("wb")
        command = [sys.executable, "-m", "workbench", "worker", "--name", name, *flags]
        process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.running[name] = process
        return process

    def signal(self, name: str, signum: signal.Signals) -> None:
        """Send a signal to one worker."""
        self.running[name].send_signal(signum)

    def wait(self, name: str) -> int:
        """Wait (bounded) for one worker to exit; return its exit status."""
        return self.running[name].wait(timeout=TIMEOUT_S)

    def log(self, name: str) -> str:
        """Return what one worker printed."""
        return (self.logs / f"{name}.log").read_text()

    def close(self) -> None:
        """Kill and reap every worker still running."""
        for process in self.running.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=TIMEOUT_S)


@pytest.fixture
def workers(queue_env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    """Start ``workbench worker`` processes; all are killed and reaped after the test."""
    started = Workers(queue_env, tmp_path)
    try:
        yield started
    finally:
        started.close()


class Driver:
    """What a test does to the queue: run commands, enqueue, look at jobs, wait (bounded)."""

    def __init__(self, env: dict[str, str], broker: Broker) -> None:
        self.env = env
        self.broker = broker

    def workbench(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one ``workbench`` command to its end and return what it did."""
        command = [sys.executable, "-m", "workbench", *args]
        return subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=TIMEOUT_S
        )

    def enqueue(self, api: ServerHandle, *flags: str) -> str:
        """Enqueue posts and comments of ``api``, pages of 10, as source "local"; return the job."""
        done = self.workbench(
            "enqueue", "--base-url", api.url, "--resource", "posts,comments",
            "--page-size", "10", "--source-name", "local", *flags,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout.splitlines()[-1])["job"])

    def held_by(self, job: str, name: str) -> list[str]:
        """Return the tasks of ``job`` worker ``name`` holds (delivered, not acknowledged)."""
        pending = self.broker.client.xpending_range(
            self.broker.keys.tasks(job), GROUP, "-", "+", 100, consumername=name
        )
        return [str(entry["message_id"]) for entry in pending]

    def wait_for(self, check: Callable[[], Any], what: str) -> None:
        """Wait until ``check()`` is true; fail the test after ``TIMEOUT_S`` saying ``what``."""
        if not wait_until(lambda: bool(check()), timeout=TIMEOUT_S, interval=0.02):
            pytest.fail(f"timed out after {TIMEOUT_S:g} s waiting for {what}")

    def finished(self, job: str) -> JobStatus:
        """Wait (bounded) until ``job`` ends; return its last status."""
        self.wait_for(lambda: job_status(self.broker, job).finished, f"job {job} to finish")
        return job_status(self.broker, job)


@pytest.fixture
def queue(queue_env: dict[str, str], broker: Broker) -> Driver:
    """Drive the queue as a user would, and look at it through a broker."""
    return Driver(queue_env, broker)
