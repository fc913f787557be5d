"""The ``workbench services`` CLI, run as a user would, in a private state folder."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.services import POSTGRES_ENV, REDIS_ENV
from workbench.services.common import STATE_DIR_ENV


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m workbench`` with ``args`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_env() -> Iterator[dict[str, str]]:
    """An environment whose embedded servers live in a temporary state folder."""
    env = {k: v for k, v in os.environ.items() if k not in (POSTGRES_ENV, REDIS_ENV)}
    # Not under tmp_path: see tests/test_services.py's private_state.
    with tempfile.TemporaryDirectory(prefix="workbench-test-") as root:
        env[STATE_DIR_ENV] = str(Path(root) / "state")
        yield env
        run_cli("services", "down", env=env)


class TestServicesCommand:
    """Up twice, status, env and down from the command line."""

    def test_up_twice_status_env_down(self, cli_env: dict[str, str]) -> None:
        """The documented sequence works: idempotent up, status, env exports, then down."""
        first = run_cli("services", "up", env=cli_env)
        assert first.returncode == 0, first.stderr
        second = run_cli("services", "up", env=cli_env)
        assert second.returncode == 0, second.stderr
        assert second.stdout == first.stdout

        status = run_cli("services", "status", env=cli_env)
        assert status.returncode == 0
        lines = status.stdout.splitlines()
        assert lines[0].split()[:3] == ["postgres", "running", "embedded"]
        assert lines[1].split()[:3] == ["redis", "running", "embedded"]

        exports = run_cli("services", "env", env=cli_env)
        names = [shlex.split(line)[1].split("=", 1)[0] for line in exports.stdout.splitlines()]
        assert names == [POSTGRES_ENV, REDIS_ENV]

        down = run_cli("services", "down", env=cli_env)
        assert down.stdout.strip() == "stopped: redis, postgres"
        after = run_cli("services", "status", env=cli_env)
        assert after.returncode == 1
        assert [line.split()[1] for line in after.stdout.splitlines()] == ["stopped", "stopped"]

    def test_status_redacts_configured_passwords(self, cli_env: dict[str, str]) -> None:
        """A configured DSN's password never appears in status output."""
        env = {**cli_env, POSTGRES_ENV: "postgresql://u:hunter2@db:5432/x"}
        env[REDIS_ENV] = "redis://:s3cret@cache:6379/0"
        result = run_cli("services", "status", env=env)
        assert result.returncode == 0
        assert "hunter2" not in result.stdout and "s3cret" not in result.stdout
        assert "environment" in result.stdout

    def test_bad_dsn_exits_2_with_one_line(self, cli_env: dict[str, str]) -> None:
        """A malformed DSN gives exit status 2 and a single line on stderr, no traceback."""
        env = {**cli_env, POSTGRES_ENV: "mysql://x", REDIS_ENV: "redis://h:1/0"}
        result = run_cli("services", "up", env=env)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1
        assert result.stderr.startswith("workbench: error: WORKBENCH_POSTGRES_DSN")

    def test_unknown_action_exits_2_with_one_line(self, cli_env: dict[str, str]) -> None:
        """An unknown action is a usage error: status 2 and one line."""
        result = run_cli("services", "sideways", env=cli_env)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1
        assert "invalid choice" in result.stderr
