from __future__ import annotations

import argparse
import dataclasses
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from workbench.commands import source as source_command
from workbench.local_api import Dataset, FaultConfig
from workbench.main import main


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def workbench(*args: str) -> subprocess.Popen[str]:
    """Start ``python -m workbench ARGS`` with piped text output."""
    command = [sys.executable, "-m", "workbench", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A ``workbench source serve`` process with faults, and the line it printed on start."""
    port = free_port()
    flags = ("--port", str(port), "--error-rate", "0.2", "--latency-ms", "50")
    with workbench("source", "serve", *flags) as process:
        try:
            ready, _, _ = select.select([process.stdout], [], [], 20)
            assert ready, "the server printed nothing within 20 s"
            assert process.stdout is not None
            yield process, process.stdout.readline()
        finally:
            process.terminate()


class TestServeProcess:
    """``workbench source serve`` as a user runs it."""

    def test_serves_faults_counted_on_stats(
        self, served: tuple[subprocess.Popen[str], str]
    ) -> None:
        """The started server says its URL, injects the flags' faults and counts them."""
        _, line = served
        url = line.split(" at ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        statuses = [requests.get(f"{url}/posts/{i}", timeout=10).status_code for i in range(1, 21)]
        stats = requests.get(f"{url}/stats", timeout=10).json()
        failed = sum(status != 200 for status in statuses)
        assert 0 < failed < 20
        assert set(statuses) <= {200, 500, 503}
        assert stats["faults"]["error"] == failed
        assert stats["requests_total"] == 20
        assert stats["by_status"].get("200", 0) == 20 - failed

    def test_sigterm_stops_it_cleanly(self, served: tuple[subprocess.Popen[str], str]) -> None:
        """SIGTERM ends the server with exit status 0 and nothing on stderr."""
        process, _ = served
        process.terminate()
        assert process.wait(timeout=10) == 0
        assert process.stderr is not None
        assert process.stderr.read() == ""

    def test_bad_flag_exits_2_with_one_line(self) -> None:
        """A rate above 1 exits 2 with one stderr line naming the flag, value and range."""
        with workbench("source", "serve", "--error-rate", "2") as process:
            _, stderr = process.communicate(timeout=30)
        assert process.returncode == 2
        assert stderr == "workbench: error: --error-rate 2.0: expected a number from 0 to 1\n"

    def test_port_in_use_exits_1(self) -> None:
        """A taken port exits 1 with one line saying which port on which host."""
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            with workbench("source", "serve", "--port", str(port)) as process:
                _, stderr = process.communicate(timeout=30)
        assert process.returncode == 1
        assert stderr == f"workbench: error: port {port} on 127.0.0.1 is already in use\n"


class TestFlags:
    """Turning flags into a data set and faults, in process."""

    @pytest.fixture
    def started(self, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
        """Record run_server's arguments instead of serving."""
        calls: list[tuple[Any, ...]] = []
        monkeypatch.setattr(
            source_command, "run_server", lambda *args, **options: calls.append((*args, options))
        )
        return calls

    def test_flags_become_the_fault_config(self, started: list[tuple[Any, ...]]) -> None:
        """Every fault flag lands in the FaultConfig; the fault seed defaults to --seed."""
        status = main(
            [
                "source", "serve", "--host", "0.0.0.0", "--port", "9", "--seed", "4",
                "--scale", "2", "--latency-ms", "5", "--jitter-ms", "6", "--error-rate", "0.1",
                "--rate-limit-rate", "0.2", "--retry-after-s", "3", "--drop-rate", "0.05",
                "--malformed-rate", "0.05", "--slow-rate", "0.1", "--slow-ms", "700",
                "--always-fail", "_page=3&", "--always-fail", "/users/2",
            ]
        )  # fmt: skip
        assert status == 0
        host, port, dataset, faults, options = started[0]
        assert (host, port) == ("0.0.0.0", 9)
        assert options == {"allow_remote_faults": False}
        assert (dataset.seed, dataset.count("users")) == (4, Dataset(scale=2).count("users"))
        assert faults == FaultConfig(
            seed=4,
            latency_ms=5,
            jitter_ms=6,
            error_rate=0.1,
            rate_limit_rate=0.2,
            retry_after_s=3,
            drop_rate=0.05,
            malformed_rate=0.05,
            slow_rate=0.1,
            slow_ms=700,
            always_fail=("_page=3&", "/users/2"),
        )

    def test_defaults(self, started: list[tuple[Any, ...]]) -> None:
        """Without flags: loopback, port 8000, seed 0, scale 1, no faults."""
        assert main(["source", "serve"]) == 0
        host, port, dataset, faults, _ = started[0]
        assert (host, port, dataset.seed, dataset.scale) == ("127.0.0.1", 8000, 0, 1.0)
        assert faults == FaultConfig()

    def test_fault_seed_is_separate(self, started: list[tuple[Any, ...]]) -> None:
        """``--fault-seed`` seeds the faults independently of the records."""
        assert main(["source", "serve", "--seed", "1", "--fault-seed", "9"]) == 0
        _, _, dataset, faults, _ = started[0]
        assert (dataset.seed, faults.seed) == (1, 9)

    @pytest.mark.parametrize(
        ("flags", "message"),
        [
            (["--port", "70000"], "--port 70000: expected 0 to 65535"),
            (["--port", "-1"], "--port -1: expected 0 to 65535"),
            (["--scale", "0"], "--scale 0.0: expected a finite number greater than 0"),
            (["--latency-ms", "-5"], "--latency-ms -5.0: expected a number >= 0"),
            (["--slow-ms", "nan"], "--slow-ms nan: expected a number >= 0"),
            (["--drop-rate", "1.5"], "--drop-rate 1.5: expected a number from 0 to 1"),
            (["--error-rate", "0.7", "--slow-rate", "0.7"], "= 1.4: expected at most 1"),
            (["--always-fail", ""], "--always-fail '': expected a non-empty text"),
        ],
    )
    def test_bad_values_exit_2(
        self,
        started: list[tuple[Any, ...]],
        capsys: pytest.CaptureFixture[str],
        flags: list[str],
        message: str,
    ) -> None:
        """A bad value exits 2 with one line naming the flag, the value and what is expected."""
        assert main(["source", "serve", *flags]) == 2
        stderr = capsys.readouterr().err
        assert stderr.startswith("workbench: error: ")
        assert message in stderr
        assert stderr.count("\n") == 1
        assert started == []

    def test_every_fault_field_has_a_flag(self) -> None:
        """Each FaultConfig setting can be set from the command line."""
        parser = argparse.ArgumentParser()
        source_command.register(parser.add_subparsers())
        fields = {field.name for field in dataclasses.fields(FaultConfig)}
        assert set(source_command.FLAG_OF) == fields
