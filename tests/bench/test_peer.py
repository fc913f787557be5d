"""The peer: dlt in an environment of its own, loading the same posts into the same Postgres."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg2
import pytest

from workbench.bench import peer, peer_env
from workbench.bench.context import BenchContext
from workbench.bench.peer import PeerTrial, dlt_credentials
from workbench.bench.peer_env import PeerEnv, ensure_peer_env
from workbench.bench.scenarios import Case
from workbench.services import Services


@pytest.fixture(scope="session")
def dlt_env() -> PeerEnv:
    """The peer's environment, made on first use (skipped where no registry can be reached)."""
    env = ensure_peer_env()
    if env.python is None:
        pytest.skip(env.reason)
    return env


class TestCredentials:
    """libpq DSNs turned into the URL dlt accepts."""

    def test_a_unix_socket_goes_in_the_host_parameter(self) -> None:
        """The embedded server's socket DSN becomes localhost with ?host=<socket dir>."""
        url = dlt_credentials("postgresql://postgres@/workbench?host=/tmp/pg data")
        parts = urlsplit(url)
        assert (parts.hostname, parts.port, parts.path) == ("localhost", 5432, "/workbench")
        assert parse_qs(parts.query) == {"host": ["/tmp/pg data"]}
        assert parts.username == "postgres" and parts.password == "unused"

    def test_a_tcp_dsn_keeps_host_port_password_and_options(self) -> None:
        """A TCP DSN keeps its host, port and (quoted) password; other options stay in the query."""
        url = dlt_credentials(
            "host=db.example port=6543 dbname=wb user=me password=p@ss sslmode=require"
        )
        parts = urlsplit(url)
        assert (parts.hostname, parts.port, parts.path) == ("db.example", 6543, "/wb")
        assert url.startswith("postgresql://me:p%40ss@")
        assert parse_qs(parts.query) == {"sslmode": ["require"]}


class TestAvailability:
    """Whether the peer can run."""

    def test_an_environment_that_cannot_be_made_says_why(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A requirement pip cannot install gives a reason, no interpreter, and no exception."""
        monkeypatch.setattr(peer_env, "_requirements", lambda: (["--no-index", "dlt"], "x"))
        made = ensure_peer_env(tmp_path / "venv", timeout_s=120)
        assert (made.python, made.dlt) == (None, None)
        assert made.reason.startswith("dlt could not be installed (")

    def test_the_environment_has_dlt_and_is_reused(self, dlt_env: PeerEnv) -> None:
        """The made environment imports dlt at the locked version; asking again reuses it."""
        assert dlt_env.dlt == "1.31.0"
        assert ensure_peer_env() == dlt_env

    def test_the_rest_api_config_reads_exactly_the_asked_pages(self) -> None:
        """Asking dlt for N pages sets its exclusive maximum_page to N + 1."""
        config = peer._rest_api_config("http://127.0.0.1:1/", pages=7, page_size=50)
        assert config["client"]["paginator"]["maximum_page"] == 8
        assert config["resource_defaults"]["endpoint"]["params"] == {"_limit": 50}
        assert config["client"]["base_url"] == "http://127.0.0.1:1/"


class TestPeerRun:
    """dlt itself, in its own environment."""

    def test_dlt_loads_exactly_the_case_and_leaves_no_schema(
        self, bench_services: Services, dlt_env: PeerEnv
    ) -> None:
        """The peer loads the case's posts into its own schema, which is dropped at the end."""
        with BenchContext(bench_services, max_records=300) as ctx:
            trial = PeerTrial(
                Case("limits", "peer", "dlt", 300, page_size=100), ctx, warmup_pages=1
            )
            sample = trial.run()
            trial.close()
        assert sample.count == 300 and sample.peak_mb
        with psycopg2.connect(bench_services.postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'wb_bench_peer%'")
            assert cur.fetchone() == (0,)
        conn.close()
