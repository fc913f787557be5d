from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from typing import Any

import aiohttp
import pytest
import requests

from workbench.errors import ConfigError, ServiceError
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread

PAGES = [f"/posts?_page={page}&_limit=5" for page in range(1, 21)]


def get(handle: ServerHandle, path: str, timeout: float = 10) -> requests.Response:
    """GET ``path`` from the server with requests."""
    return requests.get(handle.url + path, timeout=timeout)


def aiohttp_get(handle: ServerHandle, path: str, timeout: float = 10) -> tuple[int, Any, bytes]:
    """GET ``path`` with aiohttp; return status, headers and body."""

    async def fetch() -> tuple[int, Any, bytes]:
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with (
            aiohttp.ClientSession(timeout=client_timeout) as session,
            session.get(handle.url + path) as response,
        ):
            return response.status, response.headers, await response.read()

    return asyncio.run(fetch())


def aiohttp_statuses(handle: ServerHandle, paths: list[str]) -> list[int]:
    """GET every path concurrently with aiohttp; return the statuses in path order."""

    async def fetch_all() -> list[int]:
        async with aiohttp.ClientSession() as session:

            async def status(path: str) -> int:
                async with session.get(handle.url + path) as response:
                    await response.read()
                    return response.status

            return list(await asyncio.gather(*(status(path) for path in paths)))

    return asyncio.run(fetch_all())


def server_threads() -> list[threading.Thread]:
    """Return the live source-server threads."""
    return [t for t in threading.enumerate() if t.name == "workbench-source-server"]


class TestLifecycle:
    """Starting and stopping the server in a thread."""

    def test_serves_on_a_free_loopback_port(self, source: ServerHandle) -> None:
        """The handle's url is the loopback address and the port it got; /health answers."""
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", source.url)
        response = get(source, "/health")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})

    def test_stops_cleanly(self) -> None:
        """On exit the thread is gone and the port no longer answers."""
        before = set(server_threads())
        with serve_in_thread() as handle:
            assert get(handle, "/health").status_code == 200
            assert len(set(server_threads()) - before) == 1
            url = handle.url
        assert set(server_threads()) == before
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/health", timeout=2)

    def test_port_in_use_is_a_service_error(self, source: ServerHandle) -> None:
        """Starting on a taken port raises a one-line ServiceError saying so."""
        port = int(source.url.rsplit(":", 1)[1])
        threads_before = len(server_threads())
        with pytest.raises(ServiceError) as caught, serve_in_thread(port=port):
            pass  # pragma: no cover - never reached
        assert str(caught.value) == f"port {port} on 127.0.0.1 is already in use"
        assert len(server_threads()) == threads_before

    def test_bad_scale_fails_before_starting(self) -> None:
        """A bad scale raises ConfigError without starting anything."""
        with pytest.raises(ConfigError), serve_in_thread(scale=0):
            pass  # pragma: no cover - never reached


class TestStatsEndpoint:
    """``/stats``: what was asked and answered."""

    def test_counts_requests_statuses_and_records(self, source: ServerHandle) -> None:
        """Requests count by resource and status; records served count what was sent."""
        get(source, "/posts?_page=1&_limit=7")
        get(source, "/users/1")
        get(source, "/users/1/todos")
        get(source, "/nope")
        get(source, "/health")
        stats = get(source, "/stats").json()
        assert stats == source.stats()
        assert stats["requests_total"] == 4
        assert stats["by_resource"] == {"posts": 1, "todos": 1, "unknown": 1, "users": 1}
        assert stats["by_status"] == {"200": 3, "404": 1}
        assert stats["records_served"] == 7 + 1 + 20

    @pytest.mark.parametrize(("method", "path"), [("DELETE", "/stats"), ("POST", "/stats/reset")])
    def test_reset_over_http(self, source: ServerHandle, method: str, path: str) -> None:
        """``DELETE /stats`` and ``POST /stats/reset`` zero the counters."""
        get(source, "/posts/1")
        response = requests.request(method, source.url + path, timeout=10)
        assert response.status_code == 200
        assert response.json()["requests_total"] == 0
        assert source.stats()["requests_total"] == 0

    def test_observers_are_never_faulted(self, source: ServerHandle) -> None:
        """/health and /stats answer even when every other request fails."""
        source.set_faults(FaultConfig(drop_rate=1.0))
        assert get(source, "/health").status_code == 200
        assert get(source, "/stats").status_code == 200
        assert requests.delete(source.url + "/stats", timeout=10).status_code == 200


class TestFaultsSeenByRequests:
    """Each fault as a requests client meets it, and as /stats counts it."""

    def test_errors(self, source: ServerHandle) -> None:
        """An error rate of 1 answers 500s and 503s with a JSON error, all counted."""
        source.set_faults(FaultConfig(error_rate=1.0))
        statuses = [get(source, page).status_code for page in PAGES]
        assert set(statuses) == {500, 503}
        assert "injected" in get(source, "/posts/1").json()["error"]
        stats = source.stats()
        assert stats["faults"]["error"] == len(PAGES) + 1
        assert stats["by_status"]["500"] + stats["by_status"]["503"] == len(PAGES) + 1

    @pytest.mark.parametrize(
        ("retry_after_s", "header"), [(2, "2"), (0.25, "0.25"), (1234567, "1234567")]
    )
    def test_rate_limit(self, source: ServerHandle, retry_after_s: float, header: str) -> None:
        """A rate-limited answer is a 429 whose Retry-After says the configured seconds."""
        source.set_faults(FaultConfig(rate_limit_rate=1.0, retry_after_s=retry_after_s))
        response = get(source, "/posts")
        assert (response.status_code, response.headers["Retry-After"]) == (429, header)
        assert source.stats()["faults"]["rate_limit"] == 1

    def test_drop(self, source: ServerHandle) -> None:
        """A dropped connection is a connection error for the client, counted as a drop."""
        source.set_faults(FaultConfig(drop_rate=1.0))
        with pytest.raises(requests.ConnectionError):
            get(source, "/posts/1")
        stats = source.stats()
        assert stats["faults"]["drop"] == 1
        assert stats["by_status"] == {}

    def test_malformed(self, source: ServerHandle) -> None:
        """A malformed answer is a 200 whose JSON does not parse; no records count as served."""
        source.set_faults(FaultConfig(malformed_rate=1.0))
        for path in ("/posts/1", "/posts", "/photos"):
            response = get(source, path)
            assert response.status_code == 200
            with pytest.raises(requests.JSONDecodeError):
                response.json()
        stats = source.stats()
        assert stats["faults"]["malformed"] == 3
        assert stats["records_served"] == 0

    def test_slow(self, source: ServerHandle) -> None:
        """A slow answer trips the client's timeout and is counted as slow."""
        source.set_faults(FaultConfig(slow_rate=1.0, slow_ms=3000))
        with pytest.raises(requests.Timeout):
            get(source, "/posts/1", timeout=0.1)
        assert source.stats()["faults"]["slow"] == 1

    def test_always_fail(self, source: ServerHandle) -> None:
        """A page matching ``always_fail`` fails on every try; its neighbours do not."""
        source.set_faults(FaultConfig(always_fail=("_page=3&",)))
        assert [get(source, PAGES[2]).status_code for _ in range(5)] == [500] * 5
        assert get(source, PAGES[1]).status_code == 200
        assert source.stats()["faults"]["always_fail"] == 5

    def test_latency(self, source: ServerHandle) -> None:
        """Added latency delays the answer by at least that long."""
        source.set_faults(FaultConfig(latency_ms=150))
        started = time.perf_counter()
        assert get(source, "/posts/1").status_code == 200
        assert time.perf_counter() - started >= 0.15

    @pytest.mark.parametrize("path", ["/posts?_page=2&_limit=5", "/comments"])
    def test_latency_delays_short_and_streamed_answers(
        self, source: ServerHandle, path: str
    ) -> None:
        """Added latency holds back a one-body answer and a streamed one (``/comments``) alike."""
        source.set_faults(FaultConfig(latency_ms=300))
        started = time.perf_counter()
        response = get(source, path)
        assert time.perf_counter() - started >= 0.3
        assert response.status_code == 200
        assert source.stats()["records_served"] == len(response.json())

    def test_an_answer_given_up_in_transit_is_not_counted_as_served(
        self, source: ServerHandle
    ) -> None:
        """A client gone during the latency was sent nothing: no record counts as served."""
        source.set_faults(FaultConfig(latency_ms=3000))
        with pytest.raises(requests.Timeout):
            get(source, "/posts?_page=1&_limit=5", timeout=0.2)
        assert source.stats()["requests_total"] == 1
        assert source.stats()["records_served"] == 0

    def test_a_slow_answer_is_built_only_after_its_wait(self, source: ServerHandle) -> None:
        """A slow fault is the server being slow: a client gone before it answers gets nothing."""
        source.set_faults(FaultConfig(latency_ms=50, slow_rate=1.0, slow_ms=3000))
        with pytest.raises(requests.Timeout):
            get(source, "/posts/1", timeout=0.2)
        assert source.stats()["records_served"] == 0

    def test_per_request_overrides(self, source: ServerHandle) -> None:
        """``_error_rate`` and friends fault one request while the server is clean."""
        assert get(source, "/posts/1?_error_rate=1").status_code in {500, 503}
        assert (
            get(source, "/posts/1?_rate_limit_rate=1&_retry_after_s=3").headers["Retry-After"]
            == "3"
        )
        assert len(get(source, "/posts?_error_rate=0&_latency_ms=0").json()) == 100
        assert get(source, "/posts/1").status_code == 200

    def test_set_faults_while_running(self, source: ServerHandle) -> None:
        """New faults apply to the next request, and clearing them restores normal answers."""
        source.set_faults(FaultConfig(error_rate=1.0))
        assert get(source, "/posts/1").status_code >= 500
        source.set_faults(FaultConfig())
        assert get(source, "/posts/1").status_code == 200


class TestFaultsSeenByAiohttp:
    """The same faults as an aiohttp client meets them."""

    def test_errors_and_rate_limits(self, source: ServerHandle) -> None:
        """500/503 and 429 with Retry-After reach aiohttp as statuses."""
        status, _, _ = aiohttp_get(source, "/posts?_error_rate=1")
        assert status in {500, 503}
        status, headers, _ = aiohttp_get(source, "/posts?_rate_limit_rate=1")
        assert (status, headers["Retry-After"]) == (429, "1")

    def test_drop(self, source: ServerHandle) -> None:
        """A dropped connection raises aiohttp's connection error."""
        source.set_faults(FaultConfig(drop_rate=1.0))
        with pytest.raises(aiohttp.ClientConnectionError):
            aiohttp_get(source, "/posts")
        assert source.stats()["faults"]["drop"] >= 1

    def test_malformed(self, source: ServerHandle) -> None:
        """A truncated body fails JSON parsing."""
        status, _, body = aiohttp_get(source, "/users?_malformed_rate=1")
        assert status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)

    def test_slow(self, source: ServerHandle) -> None:
        """A slow answer trips aiohttp's timeout."""
        with pytest.raises(asyncio.TimeoutError):
            aiohttp_get(source, "/posts/1?_slow_rate=1&_slow_ms=3000", timeout=0.1)
        assert source.stats()["faults"]["slow"] == 1


class TestDeterministicFaults:
    """Faults depend on the seed and the request, not on timing or order."""

    def statuses(self, handle: ServerHandle, rounds: int = 3) -> list[int]:
        """Fetch every page ``rounds`` times in order (later rounds are retries)."""
        return [get(handle, page).status_code for _ in range(rounds) for page in PAGES]

    def test_two_runs_with_one_seed_agree(self) -> None:
        """Two servers with the same fault seed fail the same requests; another seed differs."""
        faults = FaultConfig(seed=11, error_rate=0.3, rate_limit_rate=0.2)
        runs = []
        for config in (faults, faults, FaultConfig(seed=12, error_rate=0.3, rate_limit_rate=0.2)):
            with serve_in_thread(faults=config) as handle:
                runs.append(self.statuses(handle))
        assert runs[0] == runs[1]
        assert runs[0] != runs[2]
        assert {200, 429} <= set(runs[0])
        assert set(runs[0]) & {500, 503}

    def test_retries_draw_afresh(self, source: ServerHandle) -> None:
        """Asking again for a failed URL gets a new draw, so it eventually succeeds."""
        source.set_faults(FaultConfig(seed=3, error_rate=0.5))
        by_page = list(zip(*[iter(self.statuses(source, rounds=6))] * len(PAGES), strict=True))
        assert any(len(set(column)) > 1 for column in zip(*by_page, strict=True))

    def test_concurrent_clients_see_sequential_faults(self, source: ServerHandle) -> None:
        """Concurrent aiohttp requests meet exactly the faults sequential ones do."""
        source.set_faults(FaultConfig(seed=5, error_rate=0.4))
        sequential = self.statuses(source, rounds=1)
        source.reset_stats()
        assert aiohttp_statuses(source, PAGES) == sequential
        assert set(sequential) > {200}

    def test_reset_restarts_the_draws(self, source: ServerHandle) -> None:
        """After reset_stats the same requests meet the same faults as before."""
        source.set_faults(FaultConfig(seed=8, error_rate=0.5))
        first = self.statuses(source, rounds=2)
        source.reset_stats()
        assert self.statuses(source, rounds=2) == first
