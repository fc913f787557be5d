"""``workbench enqueue``, ``worker`` and ``queue`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from workbench.local_api import ServerHandle

TIMEOUT_S = 120


def workbench(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one ``workbench`` command to its end."""
    command = [sys.executable, "-m", "workbench", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


class TestEnqueueAndWork:
    """A job from the command line, worked off by a worker that exits when nothing is left."""

    def test_enqueue_wait_with_a_worker_until_empty(
        self, source: ServerHandle, cli_env: dict[str, str]
    ) -> None:
        """Enqueue --wait exits 0 once a worker --until-empty has done the job and exited 0."""
        worker = subprocess.Popen(
            [sys.executable, "-m", "workbench", "worker", "--name", "w1", "--until-empty"],
            env=cli_env, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            done = workbench(
                cli_env, "enqueue", "--base-url", source.url, "--resource", "posts",
                "--page-size", "20", "--wait", "--no-progress",
            )  # fmt: skip
            assert worker.wait(timeout=TIMEOUT_S) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.wait(timeout=TIMEOUT_S)
        assert done.returncode == 0, done.stderr
        job = json.loads(done.stdout.splitlines()[-1])
        assert (job["pages"], job["tasks"]) == (5, 5)
        assert f"job {job['job']}: done" in done.stderr
        listed = json.loads(workbench(cli_env, "queue", "status", "--json").stdout)
        [status] = [s for s in listed if s["job"] == job["job"]]
        assert (status["status"], status["counters"]["inserted"]) == ("done", 100)


class TestBadInput:
    """Unknown jobs and bad flags: one line, exit 2, nothing done."""

    def test_an_unknown_job_is_one_line_and_exit_2(self, cli_env: dict[str, str]) -> None:
        """Queue status and retry-dead of a job that does not exist name it and exit 2."""
        for action in ("status", "retry-dead"):
            done = workbench(cli_env, "queue", action, "nope")
            assert done.returncode == 2
            assert (
                done.stderr.strip()
                == "workbench: error: no job 'nope' on the queue (never made, or expired)"
            )

    def test_bad_queue_settings_are_refused(self, cli_env: dict[str, str], source: Any) -> None:
        """A heartbeat longer than half the visibility timeout is refused before any work."""
        env = {**cli_env, "WORKBENCH_QUEUE_IDLE_S": "1", "WORKBENCH_QUEUE_HEARTBEAT_S": "2"}
        done = workbench(env, "enqueue", "--base-url", source.url, "--resource", "posts")
        assert done.returncode == 2
        assert "heartbeat_s=2 must be positive and at most half of idle_s=1" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
