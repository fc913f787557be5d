"""Exercise 04 · errors: an exception hierarchy and the library errors mapped onto it.

The answer defines ``WorkbenchError`` with ``TransientError`` and ``PermanentError`` under it,
the concrete errors (``SourceTimeoutError``, ``SourceConnectionError``,
``MalformedPayloadError``, ``HTTPStatusError`` with ``ServerError``, ``RateLimitedError`` and
``ClientError`` under it, ``StorageUnavailableError``, ``StorageDataError``), and three
context managers, ``map_requests_errors(url)``, ``map_aiohttp_errors(url)`` and
``map_psycopg2_errors()``, that raise the matching error ``from`` the library's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import psycopg2
import pytest
import requests

from workbench.exercises.behaviours.support import run_async
from workbench.local_api import ServerHandle
from workbench.services.common import free_port

hint = pytest.mark.hint

TRANSIENT = (
    "SourceTimeoutError",
    "SourceConnectionError",
    "MalformedPayloadError",
    "ServerError",
    "RateLimitedError",
    "StorageUnavailableError",
)
PERMANENT = ("ClientError", "StorageDataError")


def raised_by(block: Callable[[], Any]) -> BaseException:
    """Run ``block`` and return what it raised; fail if it raised nothing."""
    try:
        block()
    except BaseException as exc:  # the learner's code may raise anything: report it
        return exc
    raise AssertionError("nothing was raised")


def expect(error: BaseException, impl: Any, name: str, cause: type | tuple[type, ...]) -> Any:
    """Require ``error`` to be the answer's ``name``, raised from a ``cause`` library error."""
    wanted = getattr(impl, name)
    assert isinstance(error, wanted), f"got {type(error).__name__}: {error}, expected {name}"
    assert isinstance(error.__cause__, cause), (
        f"{name} was not raised from the library's error (raise ... from exc): "
        f"__cause__ is {error.__cause__!r}"
    )
    return error


def urls(api: ServerHandle) -> dict[str, str]:
    """The URLs that fail each way, by how: per-request faults of the local API."""
    return {
        "slow": f"{api.url}/posts/1?_slow_rate=1&_slow_ms=3000",
        "refused": f"http://127.0.0.1:{free_port()}/posts/1",
        "5xx": f"{api.url}/posts/1?_error_rate=1",
        "429": f"{api.url}/posts/1?_rate_limit_rate=1&_retry_after_s=2",
        "404": f"{api.url}/posts/999999",
        "truncated": f"{api.url}/posts?_limit=5&_malformed_rate=1",
    }


def with_requests(impl: Any, url: str, timeout: float = 5.0) -> BaseException:
    """GET ``url`` with requests inside the answer's mapping; return what came out."""

    def get() -> Any:
        with impl.map_requests_errors(url):
            response = requests.get(url, timeout=timeout)
            response.raise_for_status()
            return response.json()

    return raised_by(get)


def with_aiohttp(impl: Any, url: str, timeout: float = 5.0) -> BaseException:
    """GET ``url`` with aiohttp inside the answer's mapping; return what came out."""

    async def get() -> Any:
        limit = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(timeout=limit) as session:
            with impl.map_aiohttp_errors(url):
                async with session.get(url) as response:
                    response.raise_for_status()
                    return await response.json()

    return raised_by(lambda: run_async(get()))


class TestHierarchy:
    """The hierarchy."""

    @hint("Give each concrete error two bases: its category and TransientError or PermanentError.")
    def test_every_error_is_either_transient_or_permanent(self, impl: Any) -> None:
        """Each concrete error is a WorkbenchError and exactly one of transient or permanent."""
        for names, side, other in (
            (TRANSIENT, "Transient", "Permanent"),
            (PERMANENT, "Permanent", "Transient"),
        ):
            for name in names:
                cls = getattr(impl, name)
                assert issubclass(cls, impl.WorkbenchError), f"{name} is not a WorkbenchError"
                assert issubclass(cls, getattr(impl, f"{side}Error")), f"{name} is not {side}"
                assert not issubclass(cls, getattr(impl, f"{other}Error")), (
                    f"{name} is both transient and permanent"
                )
        for name in ("ServerError", "RateLimitedError", "ClientError"):
            assert issubclass(getattr(impl, name), impl.HTTPStatusError), (
                f"{name} is not an HTTPStatusError"
            )


@pytest.mark.parametrize("client", ["requests", "aiohttp"])
class TestHttpErrors:
    """requests and aiohttp errors, mapped the same way."""

    def get(self, impl: Any, client: str, url: str, timeout: float = 5.0) -> BaseException:
        """GET ``url`` with the named client inside the answer's mapping."""
        return (with_requests if client == "requests" else with_aiohttp)(impl, url, timeout)

    @hint("requests.Timeout / asyncio's TimeoutError -> SourceTimeoutError(... url ...) from exc.")
    def test_a_timeout_becomes_a_source_timeout_naming_the_url(
        self, impl: Any, api: ServerHandle, client: str
    ) -> None:
        """A timed-out request raises SourceTimeoutError naming its URL, from the original."""
        url = urls(api)["slow"]
        error = expect(
            self.get(impl, client, url, timeout=0.2), impl, "SourceTimeoutError", Exception
        )
        assert url in str(error), f"the message {str(error)!r} does not name the URL"

    @hint("A refused or dropped connection is SourceConnectionError (transient).")
    def test_a_refused_connection_becomes_a_connection_error(
        self, impl: Any, api: ServerHandle, client: str
    ) -> None:
        """Connecting to a port nobody listens on raises SourceConnectionError."""
        expect(
            self.get(impl, client, urls(api)["refused"]), impl, "SourceConnectionError", Exception
        )

    @hint("Read the status: 429 -> RateLimitedError(retry_after from the header), 5xx, other 4xx.")
    def test_error_statuses_map_by_class_with_retry_after(
        self, impl: Any, api: ServerHandle, client: str
    ) -> None:
        """5xx is ServerError, 429 RateLimitedError with its retry_after, 404 ClientError."""
        found = urls(api)
        server = expect(self.get(impl, client, found["5xx"]), impl, "ServerError", Exception)
        assert getattr(server, "status", None) in (500, 503), "ServerError lost its status"
        limited = expect(self.get(impl, client, found["429"]), impl, "RateLimitedError", Exception)
        retry_after = getattr(limited, "retry_after", None)
        assert retry_after == 2.0, f"retry_after is {retry_after!r}; the header said 2 seconds"
        missing = expect(self.get(impl, client, found["404"]), impl, "ClientError", Exception)
        assert getattr(missing, "status", None) == 404, "ClientError lost its status"

    @hint("Decoding a cut-off body raises a ValueError (JSONDecodeError): MalformedPayloadError.")
    def test_a_truncated_body_is_malformed(self, impl: Any, api: ServerHandle, client: str) -> None:
        """A 200 whose JSON is cut off raises MalformedPayloadError."""
        expect(
            self.get(impl, client, urls(api)["truncated"]),
            impl,
            "MalformedPayloadError",
            ValueError,
        )


class TestPsycopg2Errors:
    """psycopg2 errors, mapped."""

    @hint("psycopg2.OperationalError (and InterfaceError) -> StorageUnavailableError from exc.")
    def test_an_unreachable_server_is_unavailable(self, impl: Any) -> None:
        """Connecting to a Postgres that is not there raises StorageUnavailableError."""
        dsn = f"postgresql://postgres@127.0.0.1:{free_port()}/none?connect_timeout=2"

        def connect() -> None:
            with impl.map_psycopg2_errors():
                psycopg2.connect(dsn).close()

        expect(raised_by(connect), impl, "StorageUnavailableError", psycopg2.OperationalError)

    @hint("Any other psycopg2.DatabaseError (data, integrity, syntax) -> StorageDataError.")
    def test_a_refused_statement_is_a_data_error(self, impl: Any, fresh_dsn: str) -> None:
        """A statement the server refuses (division by zero, duplicate key) is StorageDataError."""
        conn = psycopg2.connect(fresh_dsn)
        try:
            for statement in (
                "SELECT 1 / 0",
                "CREATE TEMP TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (1)",
            ):

                def run(statement: str = statement) -> None:
                    with impl.map_psycopg2_errors(), conn.cursor() as cur:
                        cur.execute(statement)

                expect(raised_by(run), impl, "StorageDataError", psycopg2.DatabaseError)
                conn.rollback()
        finally:
            conn.close()


class TestPassThrough:
    """What is not a library error."""

    @hint("Re-raise a WorkbenchError as it is; leave errors you do not recognise alone.")
    def test_other_errors_pass_through_untouched(self, impl: Any) -> None:
        """A KeyError, or one of the answer's own errors, leaves every manager as it went in."""
        for error in (KeyError("id"), impl.TransientError("already mapped")):
            for manager in (
                impl.map_requests_errors("http://x"),
                impl.map_aiohttp_errors("http://x"),
                impl.map_psycopg2_errors(),
            ):

                def inside(error: BaseException = error, manager: Any = manager) -> None:
                    with manager:
                        raise error

                out = raised_by(inside)
                assert out is error, f"{error!r} came out of a mapping as {out!r}"
