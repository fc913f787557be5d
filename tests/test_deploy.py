"""docker-compose.yml and the Dockerfile, checked without Docker (it cannot run here).

``make check-deploy`` validates the compose file against the Compose specification's schema
and lints the Dockerfile; these tests check what only the project knows: every service's
command is a real ``workbench`` verb, and every ``WORKBENCH_*`` variable one the code reads.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from workbench.config import Settings, env_var
from workbench.main import build_parser
from workbench.services.common import project_root

ROOT = project_root()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
#: Services running the workbench image: their command is a workbench verb.
OURS = sorted(name for name, service in SERVICES.items() if service.get("build"))


def verb(command: list[str]) -> list[str]:
    """Return the words of a command before its first flag: the verb and its action."""
    flags = [i for i, word in enumerate(command) if word.startswith("-")]
    return command[: flags[0] if flags else len(command)]


def names_the_code_reads() -> set[str]:
    """Return every WORKBENCH_* name: the settings' variables and the names spelt in the code."""
    spelt = set()
    for path in (ROOT / "workbench").rglob("*.py"):
        spelt |= set(re.findall(r"\"(WORKBENCH_[A-Z_]+)\"", path.read_text(encoding="utf-8")))
    return spelt | {env_var(name) for name in Settings.fields()}


class TestCommands:
    """What each service runs."""

    @pytest.mark.parametrize("service", OURS)
    def test_each_command_is_a_real_verb_whose_help_exits_0(self, service: str) -> None:
        """``workbench <verb> --help`` exits 0 and the CLI's own parser accepts the command."""
        command = SERVICES[service]["command"]
        words = verb(command)
        if words:
            done = subprocess.run(
                [sys.executable, "-m", "workbench", *words, "--help"],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            build_parser().parse_args(command)  # exits 2 on an unknown flag or value
        else:
            assert command == ["--help"]

    def test_healthchecks_run_real_commands(self) -> None:
        """Every service has a health check; the worker's asks the queue through the CLI."""
        assert all("healthcheck" in SERVICES[name] for name in SERVICES if name != "workbench")
        test = SERVICES["worker"]["healthcheck"]["test"]
        assert test[:2] == ["CMD", "workbench"]
        build_parser().parse_args(test[2:])


class TestEnvironment:
    """The WORKBENCH_* variables the stack sets."""

    def test_every_workbench_variable_is_one_the_code_reads(self) -> None:
        """A misspelt variable would be silently ignored: each one set is read somewhere."""
        known = names_the_code_reads()
        for name, service in SERVICES.items():
            for variable in service.get("environment", {}):
                if variable.startswith("WORKBENCH_"):
                    assert variable in known, f"{name}: {variable} is read by no code"

    def test_published_ports_listen_on_loopback_only(self) -> None:
        """Every published port is bound to 127.0.0.1."""
        for service in SERVICES.values():
            for port in service.get("ports", []):
                assert str(port).startswith("127.0.0.1:"), port

    def test_workers_scale(self) -> None:
        """The worker service has no fixed name or host port, so --scale worker=N works."""
        worker = SERVICES["worker"]
        assert "container_name" not in worker and "ports" not in worker


def test_the_dockerfile_runs_the_cli_as_a_non_root_user() -> None:
    """The image's entry point is the workbench CLI, run by an unprivileged user."""
    text = Path(ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["workbench"]' in text
    assert re.search(r"^USER [1-9]\d*$", text, re.MULTILINE)
