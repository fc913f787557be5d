"""Library exceptions translated into workbench's error tree, one context manager per library."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import aiohttp
import psycopg2
import psycopg2.errors
import psycopg2.pool
import pytest
import redis
import requests
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict, CIMultiDictProxy
from redis.backoff import NoBackoff
from redis.retry import Retry
from yarl import URL

from workbench.error_mapping import (
    map_aiohttp_errors,
    map_psycopg2_errors,
    map_redis_errors,
    map_requests_errors,
    parse_retry_after,
)
from workbench.errors import (
    CacheDataError,
    CacheUnavailableError,
    ClientError,
    ConfigError,
    MalformedPayloadError,
    RateLimitedError,
    ServerError,
    SourceConnectionError,
    SourceTimeoutError,
    StorageDataError,
    StorageUnavailableError,
    WorkbenchError,
)

POSTS_URL = "http://127.0.0.1:9/posts"


def mapped(manager: AbstractContextManager[None], original: BaseException) -> BaseException:
    """Raise ``original`` inside ``manager`` and return what comes out."""
    with pytest.raises(BaseException) as caught, manager:
        raise original
    return caught.value


def closed_port() -> int:
    """Return a loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def requests_http_error(status: int, headers: dict[str, str] | None = None) -> requests.HTTPError:
    """Make a real HTTPError the way requests does: raise_for_status on a real Response."""
    response = requests.Response()
    response.status_code = status
    response.reason = "Test"
    response.url = POSTS_URL
    response.headers.update(headers or {})
    with pytest.raises(requests.HTTPError) as caught:
        response.raise_for_status()
    return caught.value


def request_info() -> aiohttp.RequestInfo:
    """Describe a GET of ``POSTS_URL`` the way aiohttp does in its response errors."""
    headers = CIMultiDictProxy(CIMultiDict[str]())
    return aiohttp.RequestInfo(URL(POSTS_URL), "GET", headers, URL(POSTS_URL))


class TestParseRetryAfter:
    """parse_retry_after."""

    @pytest.mark.parametrize(("value", "seconds"), [("120", 120.0), (" 5 ", 5.0), ("1.5", 1.5)])
    def test_delta_seconds(self, value: str, seconds: float) -> None:
        """Delta-seconds (and a decimal fraction, which some servers send) are read as is."""
        assert parse_retry_after(value) == seconds

    def test_http_date_in_the_future(self) -> None:
        """An HTTP-date is turned into the seconds from now until then."""
        now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)
        assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 60.0

    def test_http_date_in_the_past_is_zero(self) -> None:
        """A date already past means retry now, never a negative wait."""
        now = datetime(2016, 1, 1, tzinfo=UTC)
        assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0

    def test_http_date_against_the_real_clock(self) -> None:
        """Without ``now`` a date decades ago still gives 0.0, read against the real clock."""
        assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0

    @pytest.mark.parametrize("value", [None, "", "soon", "-5", "inf", "nan", "1e3", "Wed, 99 Foo"])
    def test_garbage_is_none(self, value: str | None) -> None:
        """Anything that is neither delta-seconds nor an HTTP-date gives None."""
        assert parse_retry_after(value) is None


class TestRequests:
    """map_requests_errors."""

    def test_timeout(self) -> None:
        """A requests Timeout becomes SourceTimeoutError naming the URL and the cause."""
        original = requests.ReadTimeout("read timed out")
        exc = mapped(map_requests_errors(POSTS_URL), original)
        assert isinstance(exc, SourceTimeoutError)
        assert str(exc) == f"timed out for {POSTS_URL} (ReadTimeout: read timed out)"
        assert exc.url == POSTS_URL
        assert exc.__cause__ is original

    def test_connect_timeout_is_a_timeout(self) -> None:
        """ConnectTimeout, both a timeout and a connection error, counts as a timeout."""
        exc = mapped(map_requests_errors(POSTS_URL), requests.ConnectTimeout("connect timed out"))
        assert isinstance(exc, SourceTimeoutError)

    @pytest.mark.parametrize(
        "original",
        [
            requests.ConnectionError("refused"),
            requests.exceptions.ChunkedEncodingError("connection broken"),
            ConnectionResetError(104, "Connection reset by peer"),
        ],
    )
    def test_connection_errors(self, original: Exception) -> None:
        """Refused, reset and broken-chunk errors become SourceConnectionError."""
        exc = mapped(map_requests_errors(POSTS_URL), original)
        assert isinstance(exc, SourceConnectionError)
        assert str(exc).startswith(f"connection failed for {POSTS_URL} ({type(original).__name__}")
        assert exc.__cause__ is original

    def test_real_refused_connection(self) -> None:
        """A real request to a closed loopback port becomes SourceConnectionError."""
        url = f"http://127.0.0.1:{closed_port()}/posts"
        with pytest.raises(SourceConnectionError) as caught, map_requests_errors():
            requests.get(url, timeout=5)
        assert isinstance(caught.value.__cause__, requests.ConnectionError)
        assert caught.value.url == url  # taken from the request when not given

    def test_json_decode_error_from_a_real_response(self) -> None:
        """``.json()`` on a body that is not JSON becomes MalformedPayloadError."""
        response = requests.Response()
        response.status_code = 200
        response._content = b"<html>oops</html>"
        with pytest.raises(MalformedPayloadError) as caught, map_requests_errors(POSTS_URL):
            response.json()
        assert isinstance(caught.value.__cause__, requests.JSONDecodeError)
        assert str(caught.value).startswith(f"malformed body for {POSTS_URL} (JSONDecodeError")

    def test_plain_value_error_is_malformed(self) -> None:
        """A bare ValueError (what older requests raised from .json()) is a malformed body."""
        exc = mapped(map_requests_errors(POSTS_URL), ValueError("No JSON object could be decoded"))
        assert isinstance(exc, MalformedPayloadError)

    def test_bad_url_is_config_not_payload(self) -> None:
        """An invalid URL is a ConfigError, not a (retried) malformed payload."""
        with pytest.raises(ConfigError) as caught, map_requests_errors():
            requests.get("127.0.0.1/posts", timeout=5)  # no scheme
        assert isinstance(caught.value.__cause__, requests.exceptions.MissingSchema)

    @pytest.mark.parametrize(
        ("status", "headers", "kind", "retry_after"),
        [
            (503, {"Retry-After": "7"}, ServerError, 7.0),
            (500, {}, ServerError, None),
            (429, {"retry-after": "3"}, RateLimitedError, 3.0),
            (404, {}, ClientError, None),
        ],
    )
    def test_http_status(
        self,
        status: int,
        headers: dict[str, str],
        kind: type[WorkbenchError],
        retry_after: float | None,
    ) -> None:
        """HTTPError becomes the status's HTTPStatusError, with a parsed Retry-After."""
        original = requests_http_error(status, headers)
        exc = mapped(map_requests_errors(), original)
        assert type(exc) is kind
        assert str(exc) == f"HTTP {status} from {POSTS_URL}"
        assert exc.status == status  # type: ignore[attr-defined]
        assert exc.retry_after == retry_after
        assert exc.__cause__ is original

    def test_http_date_retry_after(self) -> None:
        """A Retry-After given as an HTTP-date in the past makes retry_after 0.0."""
        original = requests_http_error(429, {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"})
        assert mapped(map_requests_errors(), original).retry_after == 0.0


class TestAiohttp:
    """map_aiohttp_errors."""

    @pytest.mark.parametrize(
        ("original", "kind"),
        [
            (TimeoutError(), SourceTimeoutError),
            (aiohttp.ServerTimeoutError("Timeout on reading data"), SourceTimeoutError),
            (aiohttp.ClientConnectionError("refused"), SourceConnectionError),
            (aiohttp.ServerDisconnectedError(), SourceConnectionError),
            (aiohttp.ClientPayloadError("payload is not completed"), SourceConnectionError),
            (ConnectionResetError(104, "reset"), SourceConnectionError),
            (json.JSONDecodeError("Expecting value", "<html>", 0), MalformedPayloadError),
            (aiohttp.InvalidURL("not a url"), ConfigError),
        ],
    )
    def test_mapped_types(self, original: Exception, kind: type[WorkbenchError]) -> None:
        """Each aiohttp or asyncio failure maps to its workbench error, chained to it."""
        exc = mapped(map_aiohttp_errors(POSTS_URL), original)
        assert type(exc) is kind
        assert exc.__cause__ is original
        assert f" for {POSTS_URL} ({type(original).__name__}" in str(exc)

    def test_bare_timeout_message(self) -> None:
        """A timeout with no text and no URL still gives a readable message."""
        exc = mapped(map_aiohttp_errors(), TimeoutError())
        assert str(exc) == "timed out (TimeoutError)"

    def test_response_error_with_retry_after(self) -> None:
        """ClientResponseError 429 becomes RateLimitedError with Retry-After from its headers."""
        original = aiohttp.ClientResponseError(
            request_info(),
            (),
            status=429,
            message="Too Many Requests",
            headers=CIMultiDict({"Retry-After": "3"}),
        )
        exc = mapped(map_aiohttp_errors(), original)
        assert type(exc) is RateLimitedError
        assert (exc.retry_after, exc.url) == (3.0, POSTS_URL)
        assert str(exc) == f"HTTP 429 from {POSTS_URL}"
        assert exc.__cause__ is original

    def test_content_type_error_is_malformed(self) -> None:
        """ContentTypeError, though a ClientResponseError, is a malformed body, not a status."""
        original = aiohttp.ContentTypeError(
            request_info(), (), status=200, message="unexpected mimetype: text/html"
        )
        exc = mapped(map_aiohttp_errors(POSTS_URL), original)
        assert type(exc) is MalformedPayloadError
        assert exc.__cause__ is original

    def test_around_awaits_in_an_async_function(self) -> None:
        """The plain ``with`` maps failures of awaits: a real 503 and a real asyncio timeout."""

        async def busy(request: web.Request) -> web.Response:
            return web.Response(status=503, text="busy", headers={"Retry-After": "5"})

        async def html(request: web.Request) -> web.Response:
            return web.Response(text="<p>not json</p>", content_type="text/html")

        async def scenario() -> list[BaseException]:
            app = web.Application()
            app.add_routes([web.get("/busy", busy), web.get("/html", html)])
            errors: list[BaseException] = []
            async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as s:
                for path in ("/busy", "/html"):
                    try:
                        with map_aiohttp_errors():
                            async with s.get(server.make_url(path)) as response:
                                response.raise_for_status()
                                await response.json()
                    except WorkbenchError as exc:
                        errors.append(exc)
            try:
                with map_aiohttp_errors(POSTS_URL):
                    await asyncio.wait_for(asyncio.sleep(10), timeout=0.01)
            except WorkbenchError as exc:
                errors.append(exc)
            return errors

        busy_error, html_error, timeout_error = asyncio.run(scenario())
        assert type(busy_error) is ServerError
        assert busy_error.retry_after == 5.0
        assert busy_error.url is not None and busy_error.url.endswith("/busy")
        assert isinstance(busy_error.__cause__, aiohttp.ClientResponseError)
        assert type(html_error) is MalformedPayloadError
        assert isinstance(html_error.__cause__, aiohttp.ContentTypeError)
        assert type(timeout_error) is SourceTimeoutError
        assert isinstance(timeout_error.__cause__, TimeoutError)


class TestPsycopg2:
    """map_psycopg2_errors."""

    @pytest.mark.parametrize(
        ("original", "kind"),
        [
            (psycopg2.OperationalError("could not connect to server"), StorageUnavailableError),
            (psycopg2.InterfaceError("connection already closed"), StorageUnavailableError),
            (psycopg2.DataError("invalid input syntax for type integer"), StorageDataError),
            (psycopg2.IntegrityError("null value in column"), StorageDataError),
            (psycopg2.errors.UniqueViolation("duplicate key value"), StorageDataError),
            (psycopg2.ProgrammingError("syntax error at or near"), StorageDataError),
            (psycopg2.NotSupportedError("not supported"), StorageDataError),
            (psycopg2.InternalError("internal"), StorageDataError),
            (psycopg2.errors.SerializationFailure("could not serialize"), StorageUnavailableError),
            (psycopg2.errors.DeadlockDetected("deadlock detected"), StorageUnavailableError),
            (psycopg2.errors.ProgramLimitExceeded("index row size"), StorageDataError),
        ],
    )
    def test_mapped_types(self, original: Exception, kind: type[WorkbenchError]) -> None:
        """Connection trouble is unavailable (transient); refused statements are data errors."""
        exc = mapped(map_psycopg2_errors(), original)
        assert type(exc) is kind
        assert exc.__cause__ is original
        assert f"({type(original).__name__}: {original}" in str(exc)

    def test_the_pools_own_error_is_not_the_databases(self) -> None:
        """A pool with no free connection raises its PoolError untouched: no server refused it."""
        original = psycopg2.pool.PoolError("connection pool exhausted")
        with pytest.raises(psycopg2.pool.PoolError) as caught, map_psycopg2_errors():
            raise original
        assert caught.value is original

    def test_a_data_error_psycopg2_calls_operational_is_a_data_error(
        self, postgres_dsn: str
    ) -> None:
        """An index row too large for a btree (54000) is refused data, not worth retrying."""
        conn = psycopg2.connect(postgres_dsn)
        try:
            with (
                pytest.raises(StorageDataError) as caught,
                map_psycopg2_errors(),
                conn.cursor() as cur,
            ):
                cur.execute("CREATE TABLE big (k text PRIMARY KEY)")
                cur.execute("INSERT INTO big SELECT string_agg(md5(i::text), '') FROM "
                            "generate_series(1, 200) i")  # fmt: skip
            assert isinstance(caught.value.__cause__, psycopg2.OperationalError)
            assert caught.value.__cause__.pgcode == "54000"
        finally:
            conn.close()

    def test_real_refused_connection(self) -> None:
        """A real connect to a closed loopback port becomes StorageUnavailableError."""
        dsn = f"host=127.0.0.1 port={closed_port()} dbname=x user=x connect_timeout=5"
        with pytest.raises(StorageUnavailableError) as caught, map_psycopg2_errors():
            psycopg2.connect(dsn)
        assert isinstance(caught.value.__cause__, psycopg2.OperationalError)
        assert str(caught.value).startswith("Postgres unavailable (OperationalError: ")


class TestRedis:
    """map_redis_errors."""

    @pytest.mark.parametrize(
        ("original", "kind"),
        [
            (redis.exceptions.ConnectionError("Connection refused"), CacheUnavailableError),
            (redis.exceptions.TimeoutError("Timeout reading from socket"), CacheUnavailableError),
            (redis.exceptions.BusyLoadingError("loading the dataset"), CacheUnavailableError),
            (redis.exceptions.ResponseError("WRONGTYPE Operation"), CacheDataError),
            (redis.exceptions.DataError("Invalid input of type"), CacheDataError),
        ],
    )
    def test_mapped_types(self, original: Exception, kind: type[WorkbenchError]) -> None:
        """Connection trouble is unavailable (transient); refused commands are data errors."""
        exc = mapped(map_redis_errors(), original)
        assert type(exc) is kind
        assert exc.__cause__ is original
        assert f"({type(original).__name__}: {original})" in str(exc)

    def test_real_refused_connection(self) -> None:
        """A real PING to a closed loopback port becomes CacheUnavailableError."""
        no_retries = Retry(NoBackoff(), 0)  # redis-py's own retries would only slow the test
        client = redis.Redis(
            host="127.0.0.1", port=closed_port(), socket_connect_timeout=5, retry=no_retries
        )
        with pytest.raises(CacheUnavailableError) as caught, map_redis_errors():
            client.ping()
        assert isinstance(caught.value.__cause__, redis.exceptions.ConnectionError)


MANAGERS: dict[str, Callable[[], AbstractContextManager[None]]] = {
    "requests": map_requests_errors,
    "aiohttp": map_aiohttp_errors,
    "psycopg2": map_psycopg2_errors,
    "redis": map_redis_errors,
}


class TestEveryManager:
    """Behaviour shared by all four managers."""

    @pytest.mark.parametrize("name", sorted(MANAGERS))
    def test_our_errors_pass_through(self, name: str) -> None:
        """A WorkbenchError raised inside comes out as the same object, unchained."""
        ours = ServerError("HTTP 503", status=503)
        assert mapped(MANAGERS[name](), ours) is ours
        assert ours.__cause__ is None

    @pytest.mark.parametrize("name", sorted(MANAGERS))
    def test_unknown_errors_propagate(self, name: str) -> None:
        """An exception the manager does not know (KeyError) propagates as it is."""
        original = KeyError("id")
        assert mapped(MANAGERS[name](), original) is original

    @pytest.mark.parametrize("name", sorted(MANAGERS))
    def test_success_is_silent(self, name: str) -> None:
        """A block that raises nothing runs to its end."""
        done = []
        with MANAGERS[name]():
            done.append(True)
        assert done == [True]

    def test_importing_the_module_imports_no_library(self) -> None:
        """Importing error_mapping imports none of requests, aiohttp, psycopg2 or redis."""
        code = (
            "import sys, workbench.errors\n"
            "before = set(sys.modules)\n"
            "import workbench.error_mapping\n"
            "new = set(sys.modules) - before\n"
            "print(sorted(m for m in ('requests', 'aiohttp', 'psycopg2', 'redis') if m in new))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        )
        assert result.stdout.strip() == "[]"
