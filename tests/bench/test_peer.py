from __future__ import annotations

import importlib.util
from urllib.parse import parse_qs, urlsplit

import psycopg2
import pytest

from workbench.bench import peer
from workbench.bench.context import BenchContext
from workbench.bench.peer import PeerTrial, dlt_credentials, dlt_version
from workbench.bench.scenarios import Case
from workbench.services import Services


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

    def test_no_dlt_means_no_version(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without dlt importable, dlt_version is None (the peer is then skipped)."""
        monkeypatch.setattr(peer.importlib.util, "find_spec", lambda name: None)
        assert dlt_version() is None

    def test_the_rest_api_config_reads_exactly_the_asked_pages(self) -> None:
        """Asking dlt for N pages sets its exclusive maximum_page to N + 1."""
        config = peer._rest_api_config("http://127.0.0.1:1/", pages=7, page_size=50)
        assert config["client"]["paginator"]["maximum_page"] == 8
        assert config["resource_defaults"]["endpoint"]["params"] == {"_limit": 50}
        assert config["client"]["base_url"] == "http://127.0.0.1:1/"


@pytest.mark.skipif(importlib.util.find_spec("dlt") is None, reason="dlt is not installed")
class TestPeerRun:
    """dlt itself, when installed."""

    def test_dlt_loads_exactly_the_case_and_leaves_no_schema(
        self, bench_services: Services
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
