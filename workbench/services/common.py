"""What the embedded servers share: where their state lives, process checks, a file lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

STATE_DIR_ENV = "WORKBENCH_STATE_DIR"


@dataclass(frozen=True)
class ServerStatus:
    """What one server is doing: its name, whether it runs, where, and how we got it."""

    name: str
    running: bool
    url: str | None
    origin: str  # "embedded", "environment" or "stopped"
    pid: int | None = None
    detail: str = ""


def project_root() -> Path:
    """Return the checkout that holds this package (editable install), else the current folder."""
    package_dir = Path(__file__).resolve().parent.parent
    candidate = package_dir.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


def state_dir() -> Path:
    """Return ``.workbench/`` in the project folder, or ``$WORKBENCH_STATE_DIR`` when set."""
    override = os.environ.get(STATE_DIR_ENV)
    path = Path(override) if override else project_root() / ".workbench"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` so two processes never start a server twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def process_name(pid: int) -> str | None:
    """Return the command name of a live process, or None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        # A killed daemon whose parent never reaps it lingers as a zombie: it is not running.
        name, _, rest = stat.partition("(")[2].rpartition(")")
        return None if rest.split()[0] in ("Z", "X") else name
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return ""
        return ""


def read_pid(path: Path) -> int | None:
    """Read a pid file, returning None when it is missing or garbled."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def wait_until(check: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``check`` until it is true or ``timeout`` seconds pass; return its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def terminate(pid: int, *, timeout: float = 5.0) -> None:
    """Send SIGTERM, wait up to ``timeout`` for the process to go, then SIGKILL it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not wait_until(lambda: process_name(pid) is None, timeout=timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: process_name(pid) is None, timeout=timeout)


def port_is_free(host: str, port: int) -> bool:
    """Tell whether a TCP port can be bound on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a currently free TCP port on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def last_lines(path: Path, count: int = 3) -> str:
    """Return the last non-empty lines of a log file joined by ' | ', for one-line errors."""
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    return " | ".join([line for line in lines if line][-count:])
