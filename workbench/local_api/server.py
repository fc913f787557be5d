"""Run the local source API: from a background thread (tests, notebooks) or blocking (the CLI)."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from workbench.errors import ConfigError, ServiceError
from workbench.local_api.body_cache import BodyCache
from workbench.local_api.data import Dataset
from workbench.local_api.faults import OVERRIDE_PARAMS, FaultConfig, FaultInjector
from workbench.local_api.handlers import (
    BODIES,
    DATASET,
    FAULTS,
    INJECTOR,
    MALFORMED,
    SERVED,
    STATS,
    error_response,
    fault_key,
    routes,
)
from workbench.local_api.stats import ServerStats

__all__ = ["ServerHandle", "create_app", "run_server", "serve_in_thread"]

#: Paths that are never faulted nor counted: they observe the server rather than use it.
UNFAULTED_PATHS = frozenset({"/health", "/stats", "/stats/reset"})
#: How long shutdown waits for answers in flight (a slow fault may be sleeping) before cancelling.
SHUTDOWN_TIMEOUT_S = 0.5

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


#: Whether fault parameters and counter resets are accepted from other hosts than this one.
REMOTE_FAULTS = web.AppKey("remote_faults", bool)
#: Seconds a fault-free answer, once built, waits before it is sent (the network's latency).
IN_TRANSIT_S = web.RequestKey("in_transit_s", float)
#: The paths that change the server's state: loopback only, unless remote faults are allowed.
RESET_PATHS = frozenset({"/stats/reset"})


def create_app(
    dataset: Dataset, faults: FaultConfig | None = None, *, allow_remote_faults: bool = False
) -> web.Application:
    """Build the aiohttp application serving ``dataset`` with ``faults`` injected.

    Fault parameters (``?_error_rate=``) and counter resets are honoured only from this
    machine (a loopback client) unless ``allow_remote_faults``: served on ``0.0.0.0`` in a
    container, nobody else can make it misbehave.
    """
    app = web.Application(middlewares=[_local_knobs, _faults_and_stats])
    app[REMOTE_FAULTS] = allow_remote_faults
    app[DATASET] = dataset
    app[BODIES] = BodyCache()
    app[INJECTOR] = FaultInjector(faults or FaultConfig())
    app[STATS] = ServerStats()
    app.on_response_prepare.append(_in_transit)
    app.add_routes(routes())
    return app


@web.middleware
async def _local_knobs(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse fault parameters and resets from other hosts (403), unless allowed."""
    knob = any(param in request.query for param in OVERRIDE_PARAMS)
    reset = request.path in RESET_PATHS or (request.path == "/stats" and request.method == "DELETE")
    if (knob or reset) and not request.app[REMOTE_FAULTS] and not _is_loopback(request.remote):
        return error_response(403, "fault parameters and resets are accepted from this host only")
    return await handler(request)


def _is_loopback(address: str | None) -> bool:
    """Tell whether a client address is this machine's (127.0.0.0/8, ::1)."""
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@web.middleware
async def _faults_and_stats(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the request, inject its fault (if it draws one) and count the status it gets."""
    if request.path in UNFAULTED_PATHS:
        return await handler(request)
    stats = request.app[STATS]
    match_info = request.match_info
    resource = match_info.get("child") or match_info.get("resource") or "unknown"
    stats.count_request(resource if resource in request.app[DATASET].resources else "unknown")
    try:
        response = await _answer(request, handler)
    except web.HTTPException as exc:
        stats.count_status(exc.status)
        raise
    if response is None:
        # The transport is gone; aiohttp's attempt to send this fails quietly.
        return web.Response(status=204)
    stats.count_status(response.status)
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse | None:
    """Apply this request's drawn fault, or let ``handler`` answer; None means dropped."""
    injector, stats = request.app[INJECTOR], request.app[STATS]
    try:
        config = injector.config.with_overrides(request.query)
    except ConfigError as exc:
        return error_response(400, str(exc))
    decision = injector.next_decision(fault_key(request), config)
    if decision.kind not in (None, "malformed"):
        # Before the delay: a client that gives up on a slow answer cancels this handler.
        # A malformed answer is counted where its body is cut, since only a 200 is cut.
        stats.count_fault(decision.kind)
    if decision.kind is None:
        # Latency is the network's: the answer is built now and travels for the delay
        # (``_in_transit``), so a burst of requests is answered as it arrives, not all at
        # once after waking together. A fault (a slow or failing server) waits first.
        request[IN_TRANSIT_S] = decision.delay_s
    elif decision.delay_s > 0:
        await asyncio.sleep(decision.delay_s)
    if decision.kind == "drop":
        if request.transport is not None:
            request.transport.abort()
        return None
    if decision.status == 429:
        retry_after = {"Retry-After": _seconds(config.retry_after_s)}
        return error_response(429, "injected rate limit", retry_after)
    if decision.status is not None:
        return error_response(decision.status, f"injected {decision.kind}")
    token, faults = MALFORMED.set(decision.kind == "malformed"), FAULTS.set(config)
    try:
        return await handler(request)
    finally:
        MALFORMED.reset(token)
        FAULTS.reset(faults)


async def _in_transit(request: web.Request, response: web.StreamResponse) -> None:
    """Hold a built answer for its latency, then count its records: its bytes go out next.

    A client that gives up meanwhile cancels this wait (``handler_cancellation``), so what
    it never got is not counted as served.
    """
    delay = request.get(IN_TRANSIT_S, 0.0)
    if delay > 0:
        await asyncio.sleep(delay)
    request.app[STATS].count_records(response.get(SERVED, 0))


def _seconds(value: float) -> str:
    """Write seconds for Retry-After: ``2``, ``0.25`` (never in exponent notation)."""
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


class ServerHandle:
    """A running source server: where it listens, its counters, and its faults."""

    def __init__(self, url: str, app: web.Application) -> None:
        self.url = url
        self._app = app

    def __repr__(self) -> str:
        return f"ServerHandle(url={self.url!r})"

    @property
    def dataset(self) -> Dataset:
        """Return the data set being served."""
        return self._app[DATASET]

    def stats(self) -> dict[str, Any]:
        """Return the counters ``GET /stats`` shows."""
        return self._app[STATS].snapshot()

    def reset_stats(self) -> None:
        """Zero the counters and restart fault draws, as ``DELETE /stats`` does."""
        self._app[STATS].reset()
        self._app[INJECTOR].reset()

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the server-wide faults (fault draws restart) while the server runs."""
        self._app[INJECTOR].configure(faults)


@contextmanager
def serve_in_thread(
    *,
    seed: int = 0,
    scale: float = 1.0,
    faults: FaultConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[ServerHandle]:
    """Serve a new data set from a thread with its own event loop; stop it on exit."""
    app = create_app(Dataset(seed=seed, scale=scale), faults)
    ready: Future[tuple[str, asyncio.AbstractEventLoop, asyncio.Event]] = Future()

    def on_ready(url: str, stop: asyncio.Event) -> None:
        ready.set_result((url, asyncio.get_running_loop(), stop))

    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_serve(app, host, port, on_ready))
        except BaseException as exc:
            # Starting failures go to the waiting caller; later ones are raised on exit.
            if ready.done():
                failures.append(exc)
            else:
                ready.set_exception(exc)

    thread = threading.Thread(target=run, name="workbench-source-server", daemon=True)
    thread.start()
    try:
        url, loop, stop = ready.result()
    except BaseException:
        thread.join()
        raise
    try:
        yield ServerHandle(url, app)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join()
    if failures:
        raise ServiceError(f"the source server at {url} failed: {failures[0]}") from failures[0]


def run_server(
    host: str,
    port: int,
    dataset: Dataset,
    faults: FaultConfig | None = None,
    *,
    allow_remote_faults: bool = False,
) -> None:
    """Serve until SIGINT or SIGTERM, printing the URL once listening."""

    def on_ready(url: str, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        print(f"serving a JSONPlaceholder-style API at {url} (Ctrl-C stops)", flush=True)

    app = create_app(dataset, faults, allow_remote_faults=allow_remote_faults)
    asyncio.run(_serve(app, host, port, on_ready))


async def _serve(
    app: web.Application,
    host: str,
    port: int,
    on_ready: Callable[[str, asyncio.Event], None],
) -> None:
    """Listen on ``host:port``, call ``on_ready(url, stop)``, then serve until ``stop`` is set."""
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        # Stop a slow fault's sleep once its client has given up.
        handler_cancellation=True,
    )
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise _listen_error(host, port, exc) from exc
        stop = asyncio.Event()
        on_ready(_url(runner.addresses[0]), stop)
        await stop.wait()
    finally:
        await runner.cleanup()


def _url(address: Any) -> str:
    """Return ``http://host:port`` for a bound socket address (IPv6 hosts in brackets)."""
    host, port = address[0], address[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _listen_error(host: str, port: int, exc: OSError) -> ServiceError:
    if exc.errno == errno.EADDRINUSE:
        return ServiceError(f"port {port} on {host} is already in use")
    return ServiceError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
