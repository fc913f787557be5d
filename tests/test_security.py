"""Security by construction: parameterised SQL, secrets kept out of output, servers on loopback."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from workbench.commands.lab import lab_command
from workbench.local_api import Dataset, FaultConfig, ServerHandle, create_app, serve_in_thread
from workbench.main import main
from workbench.services.common import project_root
from workbench.services.valkey import ThrowawayValkey

ROOT = project_root()
#: The calls that send SQL to Postgres; their statement must never be built from strings.
SQL_CALLS = {"execute", "executemany", "copy_expert", "execute_values", "mogrify"}
PASSWORD = "Tr0ub4dor-s3cret-77"


def _built_from_strings(node: ast.expr) -> bool:
    """Tell whether an expression builds text at run time: an f-string, % or + or .format."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    )


def _sql_calls(tree: ast.AST) -> Iterator[ast.Call]:
    """Yield every call of a SQL-sending function or method."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in SQL_CALLS:
                yield node


class TestSql:
    """Every statement is a constant or a psycopg2.sql composition; values are parameters."""

    @pytest.mark.parametrize(
        "path", sorted((ROOT / "workbench").rglob("*.py")), ids=lambda p: p.name
    )
    def test_no_statement_is_built_from_strings(self, path: Path) -> None:
        """No SQL call's statement (nor any SQL constant) is an f-string, % or concatenation."""
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _sql_calls(tree):
            statement = call.args[1] if call.func.__dict__.get("id") == "execute_values" else None
            statement = statement or (call.args[0] if call.args else None)
            assert statement is None or not _built_from_strings(statement), (
                f"{path.name}:{call.lineno} builds SQL from strings"
            )
        keywords = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|COPY|TRUNCATE|DROP|CREATE)\b")
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                assert not keywords.search(str(text)), f"{path.name}:{node.lineno}: SQL f-string"


class TestSecrets:
    """A password given in the DSN or the Redis URL never shows, whatever goes wrong."""

    def test_a_whole_faulty_run_never_shows_the_passwords(
        self, postgres_dsn: str, tmp_path: Path
    ) -> None:
        """Debug logs, errors, the report, ingest_runs and ingest_rejects: no password anywhere."""
        dsn = postgres_dsn.replace("user=postgres", f"user=postgres password={PASSWORD}")
        faults = FaultConfig(seed=2, error_rate=0.3, always_fail=("/posts?_page=2&",))
        with (
            serve_in_thread(seed=1, scale=0.2, faults=faults) as api,
            ThrowawayValkey(password=PASSWORD) as valkey,
        ):
            env = {**os.environ, "WORKBENCH_POSTGRES_DSN": dsn, "WORKBENCH_REDIS_URL": valkey.url,
                   "WORKBENCH_LOG_LEVEL": "DEBUG", "WORKBENCH_RETRY_ATTEMPTS": "2"}  # fmt: skip
            command = [sys.executable, "-m", "workbench", "ingest", "--base-url", api.url]
            command += ["--mode", "threaded", "--log-format", "json", "--page-size", "5"]
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            valkey.kill()  # Redis gone: its errors name the URL too
            again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "page(s) failed" in done.stderr
        assert again.returncode == 1
        output = done.stdout + done.stderr + again.stdout + again.stderr
        assert '"level": "DEBUG"' in output or '"level": "WARNING"' in output
        with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT report::text FROM ingest_runs")
            reports = " ".join(row[0] for row in cur.fetchall())
            cur.execute("SELECT raw || reason FROM ingest_rejects")
            rejects = " ".join(row[0] for row in cur.fetchall())
        conn.close()
        assert PASSWORD not in output + reports + rejects

    def test_no_committed_file_holds_a_credential(self) -> None:
        """URLs with a password in committed files carry only placeholders (tests aside)."""
        placeholders = {"password", "pw", "***", ""}  # the docs' examples
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
        pattern = re.compile(r"[a-z]+://[^/\s:@\"']*:([^/\s@\"'{}]+)@")
        for name in listed.stdout.splitlines():
            if name.startswith(("tests/", "benchmarks/results/")) or name.endswith(".ipynb"):
                continue
            path = ROOT / name
            if not path.is_file() or path.stat().st_size > 2_000_000:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            found = {m for m in pattern.findall(text)} - placeholders
            assert not found, f"{name} holds credentials: {found}"


class TestLoopbackByDefault:
    """Every server binds this machine only, unless told otherwise."""

    def test_the_local_api_listens_on_loopback(self, running_source: ServerHandle) -> None:
        """The local API's default address is 127.0.0.1."""
        assert running_source.url.startswith("http://127.0.0.1:")

    def test_embedded_postgres_has_no_tcp_listener(self, services: object) -> None:
        """The embedded Postgres listens on a Unix socket only."""
        dsn = services.postgres_dsn  # type: ignore[attr-defined]
        if "host=/" not in dsn and "?host=/" not in dsn:
            pytest.skip("a configured Postgres, not the embedded one")
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SHOW listen_addresses")
            assert cur.fetchone()[0] in ("", "127.0.0.1", "localhost")
        conn.close()

    def test_jupyterlab_binds_loopback_behind_a_token(self) -> None:
        """JupyterLab listens on 127.0.0.1 and requires a token; a short one is refused."""
        command = lab_command(8888, "a" * 32)
        assert "--ip=127.0.0.1" in command
        assert f"--IdentityProvider.token={'a' * 32}" in command
        assert main(["lab", "--token", ""]) == 2


class TestFaultKnobs:
    """The local API's fault knobs answer this machine only, by default."""

    @pytest.mark.parametrize(
        ("remote", "allowed", "status"),
        [("127.0.0.1", False, 200), ("192.0.2.7", False, 403), ("192.0.2.7", True, 200)],
    )
    def test_fault_parameters_from_another_host_are_refused(
        self, remote: str, allowed: bool, status: int
    ) -> None:
        """A fault parameter from another host is a 403 unless remote faults are allowed."""
        response = asyncio.run(self.ask(remote, allowed))
        assert response.status == status
        if status == 403:
            assert "this host only" in json.loads(response.text)["error"]

    async def ask(self, remote: str, allowed: bool) -> web.Response:
        """Send a request with a fault parameter from ``remote`` through the app's first gate."""
        app = create_app(Dataset(seed=1, scale=0.1), allow_remote_faults=allowed)
        request = make_mocked_request(
            "GET", "/posts?_page=1&_error_rate=1", app=app, client_max_size=1024,
            transport=_Transport(remote),
        )  # fmt: skip
        handler = app.middlewares[0]

        async def ok(_: web.Request) -> web.StreamResponse:
            return web.Response(text="ok")

        return await handler(request, ok)  # type: ignore[no-any-return]


class _Transport:
    """The bit of a transport aiohttp reads a client's address from."""

    def __init__(self, host: str) -> None:
        self.host = host

    def get_extra_info(self, name: str, default: object = None) -> object:
        """Return the peer's address."""
        return (self.host, 40000) if name == "peername" else default
