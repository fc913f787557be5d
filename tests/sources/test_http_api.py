"""HttpApiSource: naming, paging, the requests and aiohttp twins, parsing, cached payloads."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import pytest

from workbench.errors import (
    ClientError,
    MalformedPayloadError,
    RateLimitedError,
    RedirectRefusedError,
    ServerError,
    SourceConnectionError,
    SourceTimeoutError,
    TransientError,
    UnexpectedPayloadError,
)
from workbench.local_api import FaultConfig, ServerHandle
from workbench.sources.http_api import (
    HttpApiSource,
    payload_of,
    source_name_for,
    total_pages_from_headers,
)
from workbench.sources.http_guards import MAX_REDIRECTS
from workbench.sources.source import Payload, WorkUnit


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest) -> str:
    """Each of the two fetch twins: requests (sync) and aiohttp (async)."""
    return str(request.param)


def fetch_with(
    twin: str, source: HttpApiSource, unit: WorkUnit, headers: dict[str, str] | None = None
) -> Payload:
    """Fetch ``unit`` with one twin, in a session of its own (with ``headers``), then closed."""
    if twin == "sync":
        with source.open_session() as session:
            session.headers.update(headers or {})
            return source.fetch(unit, session)

    async def fetch() -> Payload:
        async with await source.aopen_session(2) as session:
            session.headers.update(headers or {})
            return await source.afetch(unit, session)

    return asyncio.run(fetch())


class _ScriptedHandler(BaseHTTPRequestHandler):
    """Scripted answers: ``/hops/N`` redirects N times, ``/trickle`` and ``/stall`` are slow.

    ``/hops/0`` is an empty page; ``/hops-to-drop`` redirects to ``/drop``, which closes the
    connection unanswered; ``/trickle`` sends the page a byte every 50 ms; ``/stall`` sends
    it only once the test sets ``release`` (or after 10 s, noted as ``stalled_out``);
    ``/slow`` sends it after 0.2 s, counted in ``in_flight`` meanwhile; ``/status/N`` answers
    status N with no body.
    """

    server: ScriptedServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Answer as the path says, noting the request's headers first."""
        self.server.headers.append(dict(self.headers))
        path = self.path.split("?")[0]
        if path == "/slow":
            with self.server.in_flight:
                time.sleep(0.2)
        if path.startswith("/status/"):
            self.send_response(int(path[8:]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/drop":
            self.close_connection = True  # no answer at all
            return
        if path == "/hops-to-drop" or (path.startswith("/hops/") and path != "/hops/0"):
            target = "/drop" if path == "/hops-to-drop" else f"/hops/{int(path[6:]) - 1}"
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/stall":
            self.server.stalled_out = not self.server.release.wait(10)
        body = b"[" + b" " * 100 + b"]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in range(len(body)):
            if path == "/trickle":
                time.sleep(0.05)  # each byte well within a read timeout, the whole past any
            try:
                self.wfile.write(body[byte : byte + 1])
                self.wfile.flush()
            except OSError:
                return  # the client gave up

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


class InFlight:
    """Count the requests being answered at once, and the most there ever were."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = self.peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self.now -= 1


class ScriptedServer(ThreadingHTTPServer):
    """A loopback server with the answers above, keeping every request's headers."""

    daemon_threads = True

    def __init__(self, in_flight: InFlight) -> None:
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.headers: list[dict[str, str]] = []
        self.release = threading.Event()
        self.stalled_out = False
        self.in_flight = in_flight

    def shutdown(self) -> None:
        """Release any answer still held, then stop serving."""
        self.release.set()
        super().shutdown()


@pytest.fixture
def scripted_servers(
    serve_in_threads: Callable[[ScriptedServer], ScriptedServer],
) -> Callable[[InFlight], ScriptedServer]:
    """Start ``ScriptedServer``s on demand, each shut down after the test."""
    return lambda in_flight: serve_in_threads(ScriptedServer(in_flight))


@pytest.fixture
def scripted(scripted_servers: Callable[[InFlight], ScriptedServer]) -> ScriptedServer:
    """One running ``ScriptedServer``."""
    return scripted_servers(InFlight())


class TestSourceName:
    """The name stored with every record."""

    @pytest.mark.parametrize(
        "url", ["http://127.0.0.1:8123", "http://localhost:9", "http://[::1]:80/api"]
    )
    def test_loopback_is_local_whatever_the_port(self, url: str) -> None:
        """Any loopback address is named ``local``, so a new port keeps the same records."""
        assert source_name_for(url) == "local"

    def test_other_hosts_are_named_by_host(self) -> None:
        """A remote API is named by its host name."""
        assert source_name_for("https://jsonplaceholder.typicode.com/") == (
            "jsonplaceholder.typicode.com"
        )

    def test_a_url_without_a_host_is_unknown(self) -> None:
        """A base URL that names no host (a path, a file URL) gives the name ``unknown``."""
        assert source_name_for("file:///tmp/api") == source_name_for("/api") == "unknown"

    def test_a_given_name_wins(self) -> None:
        """An explicit name replaces the one derived from the URL."""
        assert HttpApiSource("http://127.0.0.1:1", name="mine").name == "mine"
        assert HttpApiSource("http://127.0.0.1:1").name == "local"


class TestConstruction:
    """What a source is made of when only its URL is given."""

    def test_the_defaults_and_a_trailing_slash(self) -> None:
        """Pages of 100, 10 s and 32 MiB a page, no other host, named by host; no '//'."""
        api = HttpApiSource("http://api.test/")
        assert api.page_url("posts", 2) == "http://api.test/posts?_page=2&_limit=100"
        assert (api.timeout_s, api.max_page_bytes) == (10.0, 32 * 1024 * 1024)
        assert (api.allowed_redirect_hosts, api.name) == (frozenset(), "api.test")
        # Only slashes go: a path is kept whole, whatever it ends with.
        assert HttpApiSource("http://api.test/v1/RX//").base_url == "http://api.test/v1/RX"


class TestTotalPages:
    """How many pages a resource has, read from the first page's headers."""

    @pytest.mark.parametrize(("total", "pages"), [("101", 11), ("100", 10), ("0", 1), ("7", 1)])
    def test_from_x_total_count(self, total: str, pages: int) -> None:
        """The record count is divided by the page size, rounding up, at least one page."""
        assert total_pages_from_headers({"X-Total-Count": total}, 10) == pages

    #: A Link header whose last page is 7.
    LINK = (
        '<http://a/posts?_page=1&_limit=5>; rel="first", '
        '<http://a/posts?_page=7&_limit=5>; rel="last"'
    )

    def test_from_the_last_link_without_a_count(self) -> None:
        """Without a usable X-Total-Count the Link header's last page is used."""
        assert total_pages_from_headers({"X-Total-Count": "many", "Link": self.LINK}, 5) == 7

    def test_the_count_wins_when_both_headers_disagree(self) -> None:
        """With both headers usable, X-Total-Count decides, whatever the Link's last page says."""
        assert total_pages_from_headers({"X-Total-Count": "12", "Link": self.LINK}, 5) == 3
        assert total_pages_from_headers({"Link": self.LINK, "X-Total-Count": "40"}, 5) == 8

    def test_unknown_without_either(self) -> None:
        """With neither header the page count is unknown."""
        assert total_pages_from_headers({}, 10) is None

    def test_a_padded_count_is_still_a_count(self) -> None:
        """Whitespace around X-Total-Count is ignored on both sides."""
        assert total_pages_from_headers({"X-Total-Count": " 101 ", "Link": self.LINK}, 10) == 11

    def test_a_last_link_without_a_page_number_is_no_answer(self) -> None:
        """A last link whose query has no numeric ``_page`` leaves the page count unknown."""
        for last in ("http://a/posts?_limit=5", "http://a/posts?_page=x&_limit=5"):
            assert total_pages_from_headers({"Link": f'<{last}>; rel="last"'}, 5) is None


class TestPayloadOf:
    """The paging facts a page's headers give its payload."""

    def test_a_next_link_means_more_pages(self) -> None:
        """A Link with rel="next" sets ``more``; only first and last links, or none, do not."""
        nxt = '<http://a/posts?_page=2&_limit=5>; rel="next"'
        assert payload_of(b"[]", {"Link": f"{TestTotalPages.LINK}, {nxt}"}, 5).more
        assert not payload_of(b"[]", {"Link": TestTotalPages.LINK}, 5).more
        assert payload_of(b"[]", {}, 5) == Payload(b"[]", None, False)

    def test_the_body_and_page_count_are_kept(self) -> None:
        """The payload carries the body as read and the page count of its headers."""
        assert payload_of(b"[1]", {"X-Total-Count": "11"}, 5) == Payload(b"[1]", 3, False)


class TestUnits:
    """The pages a run reads."""

    def test_page_urls_use_json_server_paging(self) -> None:
        """A page's URL asks for ``_page`` and ``_limit`` under the base URL."""
        source = HttpApiSource("http://api.test/v1/", page_size=25)
        assert source.page_url("posts", 3) == "http://api.test/v1/posts?_page=3&_limit=25"
        assert source.first_units("posts") == [source.unit("posts", 1)]

    def test_follow_ups_are_pages_two_to_the_last(self) -> None:
        """After page 1 come pages 2..N, capped by max_pages; none when N is unknown."""
        source = HttpApiSource("http://api.test")
        assert [u.page for u in source.follow_up_units("posts", 4, None)] == [2, 3, 4]
        assert [u.page for u in source.follow_up_units("posts", 4, 2)] == [2]
        assert list(source.follow_up_units("posts", None, None)) == []

    def test_first_units_read_ahead_at_least_page_one(self) -> None:
        """``ahead`` pages from page 1 are read at once; fewer than one still reads page 1."""
        source = HttpApiSource("http://api.test")
        assert [u.page for u in source.first_units("posts", 3)] == [1, 2, 3]
        assert [u.page for u in source.first_units("posts", 0)] == [1]

    def test_follow_ups_after_pages_read_ahead(self) -> None:
        """Follow-ups start after the last page already read, and stop at max_pages."""
        source = HttpApiSource("http://api.test")
        assert [u.page for u in source.follow_up_units("posts", 6, None, after=3)] == [4, 5, 6]
        assert [u.page for u in source.follow_up_units("posts", 6, 5, after=3)] == [4, 5]

    def test_units_after_are_the_next_count_pages(self) -> None:
        """When a page says more follow, the ``count`` pages after it are read, none for 0."""
        source = HttpApiSource("http://api.test", page_size=5)
        units = source.units_after("posts", 4, 2)
        assert units == [source.unit("posts", 5), source.unit("posts", 6)]
        assert units[0].ref == "http://api.test/posts?_page=5&_limit=5"
        assert source.units_after("posts", 4, 0) == []


class TestFetch:
    """Both twins fetch the same page the same way and fail with the same errors."""

    def test_a_page_and_its_count(self, twin: str, source: ServerHandle) -> None:
        """A page's body holds ``page_size`` records and the payload knows the page count."""
        api = HttpApiSource(source.url, page_size=10)
        payload = fetch_with(twin, api, api.unit("posts", 2))
        records = json.loads(payload.body)
        assert [record["id"] for record in records] == list(range(11, 21))
        assert payload.total_pages == source.dataset.count("posts") // 10

    def test_no_session_needed(self, twin: str, source: ServerHandle) -> None:
        """Without a session either twin opens one for the call."""
        api = HttpApiSource(source.url, page_size=5)
        unit = api.unit("posts", 1)
        payload = api.fetch(unit) if twin == "sync" else asyncio.run(api.afetch(unit))
        assert len(json.loads(payload.body)) == 5

    @pytest.mark.parametrize(
        ("faults", "error"),
        [
            (FaultConfig(error_rate=1.0), ServerError),
            (FaultConfig(drop_rate=1.0), SourceConnectionError),
            (FaultConfig(latency_ms=2000), SourceTimeoutError),
        ],
        ids=["5xx", "dropped", "too-slow"],
    )
    def test_transient_failures(
        self, twin: str, source: ServerHandle, faults: FaultConfig, error: type[Exception]
    ) -> None:
        """Server errors, dropped connections and timeouts raise transient errors."""
        source.set_faults(faults)
        api = HttpApiSource(source.url, page_size=10, timeout_s=0.2)
        unit = api.unit("posts", 1)
        with pytest.raises(error) as caught:
            fetch_with(twin, api, unit)
        assert isinstance(caught.value, TransientError)
        assert caught.value.url == unit.ref

    def test_rate_limits_carry_retry_after(self, twin: str, source: ServerHandle) -> None:
        """A 429 raises RateLimitedError with the server's Retry-After in seconds."""
        source.set_faults(FaultConfig(rate_limit_rate=1.0, retry_after_s=2.5))
        api = HttpApiSource(source.url, page_size=10)
        with pytest.raises(RateLimitedError) as caught:
            fetch_with(twin, api, api.unit("posts", 1))
        assert (caught.value.status, caught.value.retry_after) == (429, 2.5)

    def test_an_unknown_resource_is_a_permanent_client_error(
        self, twin: str, source: ServerHandle
    ) -> None:
        """A 404 raises ClientError, which is not worth retrying."""
        api = HttpApiSource(source.url, page_size=10)
        with pytest.raises(ClientError) as caught:
            fetch_with(twin, api, api.unit("nothing", 1))
        assert caught.value.status == 404
        assert not isinstance(caught.value, TransientError)

    def test_a_truncated_body_fails_to_parse(self, twin: str, source: ServerHandle) -> None:
        """A body cut off mid-JSON is fetched, then parse raises MalformedPayloadError."""
        source.set_faults(FaultConfig(malformed_rate=1.0))
        api = HttpApiSource(source.url, page_size=10)
        unit = api.unit("posts", 1)
        payload = fetch_with(twin, api, unit)
        with pytest.raises(MalformedPayloadError):
            api.parse(unit, payload)


class TestParse:
    """Turning a payload into a page of raw records."""

    def test_a_json_array_is_a_page(self) -> None:
        """A JSON array becomes the page's records, with the payload's page count."""
        api = HttpApiSource("http://api.test")
        unit = api.unit("posts", 1)
        page = api.parse(unit, Payload(b'[{"id": 1}, 2]', 9))
        assert (page.unit, page.records, page.total_pages, page.from_cache) == (
            unit,
            [{"id": 1}, 2],
            9,
            False,
        )

    @pytest.mark.parametrize("body", [b"\xff\xfe", b"[1, 2", b"", b"<html>502</html>"])
    def test_what_is_not_a_whole_json_array_is_malformed(self, body: bytes) -> None:
        """Undecodable bytes, truncated JSON, nothing or HTML raise MalformedPayloadError."""
        api = HttpApiSource("http://api.test")
        unit = api.unit("posts", 1)
        with pytest.raises(MalformedPayloadError) as caught:
            api.parse(unit, Payload(body))
        assert caught.value.url == unit.ref  # the page, named

    @pytest.mark.parametrize("body", [b'{"id": 1}', b'"text"', b"42", b"null"])
    def test_valid_json_of_another_shape_is_unexpected(self, body: bytes) -> None:
        """Valid JSON that is not an array is a permanent UnexpectedPayloadError."""
        api = HttpApiSource("http://api.test")
        with pytest.raises(UnexpectedPayloadError):
            api.parse(api.unit("posts", 1), Payload(body))


class TestCachedPayload:
    """Payloads as the response cache stores them."""

    @pytest.mark.parametrize("total", [None, 0, 12])
    def test_round_trip(self, total: int | None) -> None:
        """A payload comes back from its bytes unchanged, newlines in the body included."""
        payload = Payload(b'[\n{"id": 1}\n]', total)
        assert Payload.from_bytes(payload.to_bytes()) == payload


class TestFetchGuards:
    """What both twins send, and how far they follow or wait for an answer."""

    def test_both_ask_for_json_in_the_session_given(
        self, twin: str, scripted: ScriptedServer
    ) -> None:
        """The request carries ``Accept: application/json`` and the given session's headers."""
        api = HttpApiSource(scripted.url)
        payload = fetch_with(twin, api, WorkUnit("posts", 1, f"{scripted.url}/hops/0"),
                             headers={"X-Session": "given"})  # fmt: skip
        assert json.loads(payload.body) == []
        [sent] = scripted.headers
        assert (sent["Accept"], sent["X-Session"]) == ("application/json", "given")

    def test_redirects_are_followed_up_to_the_limit(
        self, twin: str, scripted: ScriptedServer
    ) -> None:
        """A chain of ``MAX_REDIRECTS`` redirects is followed; one more is refused, by name."""
        api = HttpApiSource(scripted.url)
        last = WorkUnit("posts", 1, f"{scripted.url}/hops/{MAX_REDIRECTS}")
        assert json.loads(fetch_with(twin, api, last).body) == []
        assert len(scripted.headers) == MAX_REDIRECTS + 1
        beyond = WorkUnit("posts", 1, f"{scripted.url}/hops/{MAX_REDIRECTS + 1}")
        with pytest.raises(RedirectRefusedError) as caught:
            fetch_with(twin, api, beyond)
        assert str(caught.value) == f"{beyond.ref}: more than {MAX_REDIRECTS} redirects"
        assert caught.value.url == beyond.ref

    def test_the_first_error_status_is_400(self, twin: str, scripted: ScriptedServer) -> None:
        """A 400 answer raises a ClientError naming its status and page."""
        api = HttpApiSource(scripted.url)
        unit = WorkUnit("posts", 1, f"{scripted.url}/status/400")
        with pytest.raises(ClientError) as caught:
            fetch_with(twin, api, unit)
        assert (caught.value.status, caught.value.url) == (400, unit.ref)

    def test_a_failure_after_a_redirect_names_the_page(
        self, twin: str, scripted: ScriptedServer
    ) -> None:
        """A connection lost at the redirect's target fails the page by the page's own URL."""
        api = HttpApiSource(scripted.url)
        unit = WorkUnit("posts", 1, f"{scripted.url}/hops-to-drop")
        with pytest.raises(SourceConnectionError) as caught:
            fetch_with(twin, api, unit)
        assert caught.value.url == unit.ref

    def test_a_trickling_answer_ends_at_the_deadline(
        self, twin: str, scripted: ScriptedServer
    ) -> None:
        """A body sent too slowly to finish in ``timeout_s`` fails the page, naming it."""
        api = HttpApiSource(scripted.url, timeout_s=0.5)
        unit = WorkUnit("posts", 1, f"{scripted.url}/trickle")
        with pytest.raises(SourceTimeoutError) as caught:
            fetch_with(twin, api, unit)
        assert caught.value.url == unit.ref
        assert unit.ref in str(caught.value)

    def test_a_server_that_never_answers_is_left_at_the_deadline(
        self, twin: str, scripted: ScriptedServer
    ) -> None:
        """The client gives up after ``timeout_s`` without waiting for the answer to start."""
        api = HttpApiSource(scripted.url, timeout_s=0.3)
        with pytest.raises(SourceTimeoutError):
            fetch_with(twin, api, WorkUnit("posts", 1, f"{scripted.url}/stall"))
        scripted.release.set()  # only now may the server answer
        assert not scripted.stalled_out

    def test_the_async_session_keeps_at_most_its_connections(
        self, scripted_servers: Callable[[InFlight], ScriptedServer]
    ) -> None:
        """Six pages at once over two hosts, in a session of 2: never more than 2 answered."""
        in_flight = InFlight()
        hosts = [scripted_servers(in_flight), scripted_servers(in_flight)]
        api = HttpApiSource(hosts[0].url)
        units = [WorkUnit("posts", n, f"{hosts[n % 2].url}/slow") for n in range(1, 7)]

        async def fetch_all() -> list[Payload]:
            async with await api.aopen_session(2) as session:
                return await asyncio.gather(*(api.afetch(unit, session) for unit in units))

        assert len(asyncio.run(fetch_all())) == 6
        assert 1 <= in_flight.peak <= 2

    def test_the_deadline_holds_in_a_session_without_a_timeout(
        self, scripted: ScriptedServer
    ) -> None:
        """Given an aiohttp session with no timeout of its own, a trickle still ends in time."""
        api = HttpApiSource(scripted.url, timeout_s=0.5)
        unit = WorkUnit("posts", 1, f"{scripted.url}/trickle")

        async def fetch() -> Payload:
            async with aiohttp.ClientSession() as session:  # aiohttp's default: 5 minutes
                return await api.afetch(unit, session)

        with pytest.raises(SourceTimeoutError) as caught:
            asyncio.run(fetch())
        assert caught.value.url == unit.ref
        assert unit.ref in str(caught.value)
